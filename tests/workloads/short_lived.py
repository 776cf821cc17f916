"""A Python process that lives only a few milliseconds, for dump-during-exit races.

Usage: python short_lived.py MILLISECONDS

Starts and ends threads continuously (so thread lists change under pyhang's
feet) and exits after MILLISECONDS, from the main thread or, half of the time,
with os._exit() from a worker in the middle of everything.
Runs on CPython 3.8+.
"""
import os
import random
import sys
import threading
import time

sys.dont_write_bytecode = True


def churn(depth):
    if depth > 0:
        return churn(depth - 1)
    time.sleep(random.random() / 1000)
    return depth


def main():
    lifetime = float(sys.argv[1]) / 1000 if len(sys.argv) > 1 else 0.02
    deadline = time.monotonic() + lifetime
    hard_exit = random.random() < 0.5
    if hard_exit:
        threading.Timer(lifetime, os._exit, args=(0,)).start()
    while time.monotonic() < deadline or hard_exit:
        workers = [threading.Thread(target=churn, args=(random.randint(0, 50),))
                   for _ in range(random.randint(1, 4))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


if __name__ == "__main__":
    main()
