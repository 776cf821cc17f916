"""Workload for the BPF sampler integration test (Python 3.8+).

Protocol on stdin/stdout, one line each:
  -> "ready PID"             the interpreter is up (main thread only); PID is
                             os.getpid(), its pid in its own pid namespace
  <- "go"                    start the threads
  -> {"busy": tid, ...}      their OS thread ids (threading.get_native_id(): in
                             a pid namespace, that namespace's), once all run
  <- "stop"                  stop everything and exit 0

Threads, each in a function whose name the test looks for:
  busy_function    spins on the CPU, never calls out of the function
  sleepy           time.sleep(0.02) in a loop: short off-CPU intervals
  lock_waiter      waits 20 ms at a time for a lock main holds (futex)
  blocked_forever  blocks on a lock until "stop"
"""
import json
import os
import sys
import threading
import time

STOP = False
held_lock = threading.Lock()
forever_lock = threading.Lock()
tids = {}
started = threading.Barrier(5)


def busy_function():
    tids["busy"] = threading.get_native_id()
    started.wait()
    x = 0
    while not STOP:
        for i in range(1000):
            x += i * i
        x %= 1000003
    return x


def sleepy():
    tids["sleeper"] = threading.get_native_id()
    started.wait()
    while not STOP:
        time.sleep(0.02)


def lock_waiter():
    tids["lock_waiter"] = threading.get_native_id()
    started.wait()
    while not STOP:
        if held_lock.acquire(timeout=0.02):
            held_lock.release()


def blocked_forever():
    tids["blocked"] = threading.get_native_id()
    started.wait()
    forever_lock.acquire()
    forever_lock.release()


def main():
    print("ready %d" % os.getpid(), flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    held_lock.acquire()
    forever_lock.acquire()
    threads = [threading.Thread(target=f, name=f.__name__, daemon=True)
               for f in (busy_function, sleepy, lock_waiter, blocked_forever)]
    for thread in threads:
        thread.start()
    started.wait()
    tids["main"] = threading.get_native_id()
    print(json.dumps(tids), flush=True)
    sys.stdin.readline()  # "stop" (or EOF)
    global STOP
    STOP = True
    forever_lock.release()
    held_lock.release()
    for thread in threads:
        thread.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
