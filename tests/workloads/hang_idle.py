"""A healthy process that only looks idle or busy, for the no-false-findings
test of `pyhang watch` (see hang_common.py; this one does not wait for go).

    python hang_idle.py DIRECTORY

  scheduler     wakes every 0.2 s in a time.sleep() loop and does a little work
  idle-pool_N   ThreadPoolExecutor workers: created by four tasks, then nothing
                is submitted again
  tcp-server    socketserver.TCPServer.serve_forever(), no client ever comes
  accept-loop   a plain accept() loop, no client ever comes
  cruncher      a healthy CPU-bound worker whose stack keeps changing
                (hang_busy.healthy_worker)
  main          sleeps in a loop
"""
import concurrent.futures
import socket
import socketserver
import threading
import time

from hang_busy import healthy_worker
from hang_common import Scenario

SCENARIO = Scenario()
POOL_WORKERS = 4


def scheduler():
    runs = 0
    while True:
        time.sleep(0.2)
        runs += sum(range(100))


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        pass


def accept_loop(listener):
    while True:
        connection, _ = listener.accept()
        connection.close()


def pool_task(barrier):
    SCENARIO.register("pool")
    barrier.wait()  # every worker thread exists before any task ends


def main():
    SCENARIO.thread("scheduler", "scheduler", scheduler)
    server = socketserver.TCPServer(("127.0.0.1", 0), Handler)
    SCENARIO.thread("tcp-server", "tcp-server", server.serve_forever)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    SCENARIO.thread("accept-loop", "accept-loop", accept_loop, listener)
    SCENARIO.thread("cruncher", "cruncher", healthy_worker, 7)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=POOL_WORKERS,
                                                 thread_name_prefix="idle-pool")
    barrier = threading.Barrier(POOL_WORKERS)
    for future in [pool.submit(pool_task, barrier) for _ in range(POOL_WORKERS)]:
        future.result()
    SCENARIO.ready(wait_for_go=False)
    SCENARIO.sleep_forever()


if __name__ == "__main__":
    main()
