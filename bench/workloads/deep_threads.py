"""Benchmark target: N threads, each D Python frames deep, all blocked, plus
a heartbeat thread that logs every stall of the process.

Usage: deep_threads.py READY_FILE STALL_LOG [THREADS] [DEPTH] [locals]

With "locals", every descend frame holds 10 locals of the kinds a request
handler has (numbers, strings, a list, a dict, a tuple, an object).

The heartbeat sleeps 0.5 ms in a loop; whenever one iteration takes more
than 5 ms it appends "<monotonic_ns_start> <gap_ns>" to STALL_LOG. A tool
that stops the process (ptrace) shows up as one long gap.
"""
import os
import sys
import threading
import time

STALL_NS = 5_000_000


def heartbeat(log_path):
    with open(log_path, "a", buffering=1) as log:
        last = time.monotonic_ns()
        while True:
            time.sleep(0.0005)
            now = time.monotonic_ns()
            if now - last > STALL_NS:
                log.write("%d %d\n" % (last, now - last))
            last = now


def descend(depth, blocked, started):
    if depth > 1:
        return descend(depth - 1, blocked, started)
    started.release()
    blocked.wait()


class Request:
    def __init__(self, depth):
        self.url = "https://service.invalid/items/%d" % depth
        self.retries = depth % 3


def descend_with_locals(depth, blocked, started):
    count = depth
    name = "frame-%d" % depth
    ratio = depth / 7.0
    flags = None
    done = False
    payload = b"\x00payload"
    items = [depth, name, ratio]
    headers = {"agent": "bench", "depth": depth}
    pair = (depth, name)
    request = Request(depth)
    if depth > 1:
        return descend_with_locals(depth - 1, blocked, started)
    started.release()
    blocked.wait()
    return count, name, ratio, flags, done, payload, items, headers, pair, request


def main():
    ready_path, stall_log = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    target = descend_with_locals if sys.argv[5:6] == ["locals"] else descend
    blocked = threading.Event()
    started = threading.Semaphore(0)
    for index in range(threads):
        # descend() is called from Thread.run inside _bootstrap/_bootstrap_inner:
        # depth counts descend frames; the thread adds its own 3 frames.
        threading.Thread(target=target, args=(depth - 3, blocked, started),
                         name="worker-%d" % index, daemon=True).start()
    for _ in range(threads):
        started.acquire()
    threading.Thread(target=heartbeat, args=(stall_log,), name="heartbeat", daemon=True).start()
    with open(ready_path + ".tmp", "w") as ready:
        ready.write(str(os.getpid()))
    os.rename(ready_path + ".tmp", ready_path)
    blocked.wait()


if __name__ == "__main__":
    main()
