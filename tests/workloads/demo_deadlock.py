"""Demo: two worker threads take two locks in opposite order and deadlock.

Usage: python3 demo_deadlock.py [READY_FILE]
Creates READY_FILE once both workers are stuck, then waits forever.
"""
import os
import sys
import threading
import time

accounts_lock = threading.Lock()
audit_lock = threading.Lock()
both_hold_one = threading.Barrier(2)


def transfer():
    with accounts_lock:
        both_hold_one.wait()
        with audit_lock:  # waits for audit() forever
            pass


def audit():
    with audit_lock:
        both_hold_one.wait()
        with accounts_lock:  # waits for transfer() forever
            pass


def main():
    workers = [threading.Thread(target=transfer, name="transfer"),
               threading.Thread(target=audit, name="audit")]
    for worker in workers:
        worker.start()
    time.sleep(0.2)  # let both block on their second lock
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w") as ready:
            ready.write(str(os.getpid()))
    for worker in workers:
        worker.join()


if __name__ == "__main__":
    main()
