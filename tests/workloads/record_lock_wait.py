"""One thread blocked on a Lock, two busy threads, for `pyhang record --mode wall`.

Usage: python record_lock_wait.py [SECONDS]

The main thread takes a threading.Lock and keeps it; a thread named "waiter"
blocks in waiter_blocked() -> lock.acquire() forever; two threads named
"spinner-1" and "spinner-2" burn CPU in spin(), so each of them is always
either running or waiting for the GIL (the interpreter hands the GIL over
every 5 ms). Prints "ready WAITER_TID SPINNER1_TID SPINNER2_TID" on stdout
once the waiter has been blocked for a moment, then exits after SECONDS
(default 120). Runs on CPython 3.8+.
"""
import sys
import threading
import time

sys.dont_write_bytecode = True

LOCK = threading.Lock()
TIDS = {}


def waiter_blocked():
    TIDS["waiter"] = threading.get_native_id()
    LOCK.acquire()  # held by the main thread: blocks until the process exits


def spin():
    TIDS[threading.current_thread().name] = threading.get_native_id()
    x = 0
    while True:
        for i in range(1000):
            x += i


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 120
    LOCK.acquire()
    threads = [threading.Thread(target=waiter_blocked, name="waiter", daemon=True),
               threading.Thread(target=spin, name="spinner-1", daemon=True),
               threading.Thread(target=spin, name="spinner-2", daemon=True)]
    for thread in threads:
        thread.start()
    while len(TIDS) < 3:
        time.sleep(0.005)
    time.sleep(0.2)  # the waiter is in its futex wait by now
    sys.stdout.write("ready %d %d %d\n" % (TIDS["waiter"], TIDS["spinner-1"],
                                         TIDS["spinner-2"]))
    sys.stdout.flush()
    time.sleep(seconds)


if __name__ == "__main__":
    main()
