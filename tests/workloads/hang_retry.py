"""A retry loop against a refused port beside its healthy twins, for `pyhang watch`
(see hang_common.py).

    python hang_retry.py DIRECTORY

  retrier     connects to a local port nobody listens on; on
              ConnectionRefusedError it sleeps 0.2 s inside the handler and
              tries again, forever. Its first failure after go is its stuck
              moment (it makes no progress from then on).
  poller      connects to a local server that accepts, every 0.2 s: it
              succeeds each time and never handles an exception.
  recovering  fails three times like the retrier, then the port it retries
              starts listening and it polls like the poller.
  handled     handles one exception, then sleeps in its handler for good
              (asleep, not going round).

ready.json's "retry_exception" is the line traceback prints for the exception
the retrier keeps handling, taken from a refused connect before go.
"""
import socket
import threading
import time
import traceback

from hang_common import FOREVER, Scenario

SCENARIO = Scenario(expected_marks=1)
ROUND_S = 0.2


def closed_port():
    """A local port that refuses connections (bound once, then closed)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def listen(port=0):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)

    def accept_forever():
        while True:
            connection, _ = server.accept()
            connection.close()

    threading.Thread(target=accept_forever, name="acceptor-%d" % server.getsockname()[1],
                     daemon=True).start()
    return server.getsockname()[1]


def refused_line(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError as error:
        return traceback.format_exception_only(type(error), error)[-1].rstrip("\n")
    raise RuntimeError("port %d did not refuse" % port)


def retry(port):
    first = True
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            if first:
                SCENARIO.mark()
                first = False
            time.sleep(ROUND_S)


def poll(port):
    while True:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        time.sleep(ROUND_S)


def recover(port):
    failures = 0
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except ConnectionRefusedError:
            failures += 1
            if failures == 3:
                listen(port)  # the backend comes up
            time.sleep(ROUND_S)
            continue
        time.sleep(ROUND_S)


def handle_once(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        time.sleep(FOREVER)


def main():
    refused = closed_port()
    SCENARIO.info["retry_exception"] = refused_line(refused)
    SCENARIO.info["round_s"] = ROUND_S
    SCENARIO.thread("retrier", "retrier", retry, refused)
    SCENARIO.thread("poller", "poller", poll, listen())
    SCENARIO.thread("recovering", "recovering", recover, closed_port())
    SCENARIO.thread("handled", "handled", handle_once, closed_port())
    SCENARIO.ready()
    SCENARIO.sleep_forever()


if __name__ == "__main__":
    main()
