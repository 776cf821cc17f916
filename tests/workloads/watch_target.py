"""A small process for `pyhang watch` and the no-BPF tests: one thread
computing in `crunch`, one sleeping, the main thread waiting.

Usage: watch_target.py READY_FILE  (READY_FILE gets "pid busy_tid sleeper_tid")
"""
import os
import sys
import threading
import time


def crunch():
    total = 0
    while True:
        for value in range(10000):
            total += value * value


def nap():
    while True:
        time.sleep(60)


def main():
    busy = threading.Thread(target=crunch, name="cruncher", daemon=True)
    sleeper = threading.Thread(target=nap, name="napper", daemon=True)
    busy.start()
    sleeper.start()
    time.sleep(0.2)
    with open(sys.argv[1] + ".tmp", "w") as ready:
        ready.write("%d %d %d" % (os.getpid(), busy.native_id, sleeper.native_id))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    threading.Event().wait()


if __name__ == "__main__":
    main()
