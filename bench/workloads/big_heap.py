"""Benchmark target: a large touched heap plus a few blocked threads, for
measuring a tool's memory on a big core file.

Usage: big_heap.py READY_FILE [MIB] [THREADS] [DEPTH]

Allocates one bytearray of MIB MiB (default 1024) and writes one byte in
every 4096-byte page so that all of it is resident (and lands in a core),
then starts THREADS threads (default 4), each DEPTH Python frames deep
(default 20, counted as in deep_threads.py: the thread's own 3 frames plus
DEPTH - 3 `descend` frames), all blocked. Writes its pid to READY_FILE
(atomically) once everything is in place, then blocks forever.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deep_threads import descend  # noqa: E402

PAGE = 4096


def main():
    ready_path = sys.argv[1]
    mib = int(sys.argv[2]) if len(sys.argv) > 2 else 1024
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    depth = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    heap = bytearray(mib << 20)
    heap[::PAGE] = b"\x01" * len(range(0, len(heap), PAGE))
    blocked = threading.Event()
    started = threading.Semaphore(0)
    for index in range(threads):
        threading.Thread(target=descend, args=(depth - 3, blocked, started),
                         name="worker-%d" % index, daemon=True).start()
    for _ in range(threads):
        started.acquire()
    with open(ready_path + ".tmp", "w") as ready:
        ready.write(str(os.getpid()))
    os.rename(ready_path + ".tmp", ready_path)
    blocked.wait()  # `heap` stays alive: it is a local of this frame


if __name__ == "__main__":
    main()
