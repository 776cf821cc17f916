"""A process that exits while pyhang has findings open (see hang_common.py).

    python hang_exit.py DIRECTORY

"stuck-lock" waits forever for a Lock nobody releases (lock_wait),
"stuck-recv" waits forever in recv() on a socketpair nobody writes to
(io_wait). Once DIRECTORY/exit exists the main thread ends the process with
os._exit(0): both threads are still stuck when the process goes away.
(Not sys.exit(): the interpreter's shutdown frees the lock and the socket's
other end, which wakes both threads, and they exit on their own first.)
"""
import os
import socket
import threading
import time

from hang_common import Scenario

SCENARIO = Scenario(expected_marks=2)


def wait_for_lock(gate):
    SCENARIO.mark()
    gate.acquire()


def wait_for_bytes(sock):
    SCENARIO.mark()
    sock.recv(1)


def main():
    gate = threading.Lock()
    gate.acquire()
    quiet, peer = socket.socketpair()
    SCENARIO.thread("stuck-lock", "lock", wait_for_lock, gate)
    SCENARIO.thread("stuck-recv", "recv", wait_for_bytes, quiet)
    SCENARIO.ready()
    while not os.path.exists(SCENARIO.path("exit")):
        time.sleep(0.005)
    os._exit(0)  # peer is still open: recv() never sees EOF


if __name__ == "__main__":
    main()
