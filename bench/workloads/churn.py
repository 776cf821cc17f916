#!/usr/bin/env python3
"""The soak's target (bench/soak.py): thread churn and process churn that
never stop, beside a few threads that hold still.

Usage: churn.py THREADS_PER_S CHILDREN_PER_S [PROGRESS_FILE]
  - a churner starts THREADS_PER_S short threads a second (each sleeps
    1 ms, some spin 1 ms first), so tids come and go and every one of them
    is seen on and off CPU;
  - a spawner starts CHILDREN_PER_S `/bin/true` children a second and
    reaps them (fork/exec/exit next to the target);
  - a worker alternates 10 ms of Python work with 10 ms of sleep, and the
    main thread sleeps: steady stacks for the profile;
  - PROGRESS_FILE, rewritten every second: "THREADS CHILDREN" started so
    far, so the soak can say what rates it really ran at.
"""
import os
import subprocess
import sys
import threading
import time


def short_task(spin):
    if spin:
        deadline = time.monotonic() + 0.001
        while time.monotonic() < deadline:
            pass
    time.sleep(0.001)


STARTED = {"threads": 0, "children": 0}


def paced(rate, action, counter):
    interval = 1.0 / rate
    done = 0
    begin = time.monotonic()
    while True:
        action(done)
        done += 1
        STARTED[counter] += 1
        delay = begin + done * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1:  # fell behind by a second: do not try to catch up
            begin, done = time.monotonic(), 0


def start_thread(n):
    threading.Thread(target=short_task, args=(n % 4 == 0,), daemon=True).start()


def spawn_child(_):
    subprocess.run(["/bin/true"], check=False)


def worker():
    total = 0
    while True:
        deadline = time.monotonic() + 0.01
        while time.monotonic() < deadline:
            total += 1
        time.sleep(0.01)


def main():
    threads_per_s, children_per_s = float(sys.argv[1]), float(sys.argv[2])
    threading.Thread(target=worker, name="worker", daemon=True).start()
    if threads_per_s > 0:
        threading.Thread(target=paced, args=(threads_per_s, start_thread, "threads"), name="churner", daemon=True).start()
    if children_per_s > 0:
        threading.Thread(target=paced, args=(children_per_s, spawn_child, "children"), name="spawner", daemon=True).start()
    progress = sys.argv[3] if len(sys.argv) > 3 else None
    print("ready", flush=True)
    while True:
        time.sleep(1)
        if progress:
            with open(progress + ".tmp", "w") as f:
                f.write("%d %d\n" % (STARTED["threads"], STARTED["children"]))
            os.replace(progress + ".tmp", progress)


if __name__ == "__main__":
    main()
