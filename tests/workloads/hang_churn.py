"""A thread list that never stops changing, plus one truly stuck thread, for
`pyhang watch` (see hang_common.py for the protocol).

    python hang_churn.py DIRECTORY [MAX_LIFETIME_S]

After go, the main thread starts a short-lived thread every 20 ms. Each one
blocks, untimed, for a random 0.05..MAX_LIFETIME_S (default 1.2) seconds --
on an Event, on a Lock, in Queue.get() or in a socket recv() -- until the
main thread releases it, and then ends. "stuck" waits for a Lock forever.
The main thread sleeps between rounds. ready.json has "max_lifetime_s".

On a loaded machine the main thread can release a churn thread late; each
churn thread that really waited longer than LATE_S is listed in
late.json ({thread name: seconds it waited}), rewritten as they come: a
hang finding on one of those is the truth, not a stale finding.
"""
import heapq
import itertools
import queue
import random
import socket
import threading
import time

from hang_common import Scenario

SCENARIO = Scenario(expected_marks=1)
LATE_S = 1.5


def stuck(gate):
    SCENARIO.mark()
    gate.acquire()


def on_event(event):
    event.wait()


def on_lock(lock):
    lock.acquire()


def on_queue(items):
    items.get()


def on_socket(sock):
    sock.recv(1)
    sock.close()


def blocker(kind):
    """(thread target, its argument, what releases it)."""
    if kind == "event":
        event = threading.Event()
        return on_event, event, event.set
    if kind == "lock":
        lock = threading.Lock()
        lock.acquire()
        return on_lock, lock, lock.release
    if kind == "queue":
        items = queue.Queue()
        return on_queue, items, lambda: items.put(None)
    mine, theirs = socket.socketpair()

    def release():
        theirs.send(b"x")
        theirs.close()
    return on_socket, mine, release


def churn(max_lifetime, rng):
    pending = []  # (release time, sequence, release, started, name)
    sequence = itertools.count()
    kinds = ["event", "lock", "queue", "socket"]
    late = {}
    while True:
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, release, started, name = heapq.heappop(pending)
            release()
            waited = time.monotonic() - started
            if waited > LATE_S:
                late[name] = round(waited, 3)
                SCENARIO.write_json("late.json", late)
        number = next(sequence)
        name = "churn-%d" % number
        target, argument, release = blocker(kinds[number % len(kinds)])
        started = time.monotonic()
        threading.Thread(target=target, args=(argument,), name=name, daemon=True).start()
        heapq.heappush(pending, (now + rng.uniform(0.05, max_lifetime), number, release,
                                 started, name))
        time.sleep(0.02)


def main():
    max_lifetime = float(SCENARIO.args[0]) if SCENARIO.args else 1.2
    gate = threading.Lock()
    gate.acquire()
    SCENARIO.thread("stuck", "stuck", stuck, gate)
    SCENARIO.info["max_lifetime_s"] = max_lifetime
    SCENARIO.ready()
    churn(max_lifetime, random.Random(4))


if __name__ == "__main__":
    main()
