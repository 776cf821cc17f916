"""Run by tests/workloads/embed_python.c: a spinning thread and a sleeping
one, and the truth about them from the interpreter itself.

Usage: embedded_target.py TRUTH_JSON
Writes TRUTH_JSON once both threads are in place: per thread its name,
native id (as the process sees it) and sys._current_frames() functions,
innermost first; then runs until killed.
"""
import json
import os
import sys
import threading
import time


def spin(started):
    started.set()
    while True:
        pass


def nap(started):
    started.set()
    while True:
        time.sleep(100)


def main():
    truth_path = sys.argv[1]
    threads = []
    for name, target in (("spinner", spin), ("sleeper", nap)):
        started = threading.Event()
        thread = threading.Thread(target=target, args=(started,), name=name, daemon=True)
        thread.start()
        started.wait()
        threads.append(thread)
    time.sleep(0.2)  # both in their loops
    frames = sys._current_frames()
    truth = {"version": list(sys.version_info[:3]), "threads": []}
    for thread in threads:
        stack = []
        frame = frames.get(thread.ident)
        while frame is not None:
            stack.append(frame.f_code.co_name)
            frame = frame.f_back
        truth["threads"].append({"name": thread.name, "native_id": thread.native_id,
                                 "functions": stack})
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f)
    os.rename(truth_path + ".tmp", truth_path)
    while True:
        time.sleep(100)


if __name__ == "__main__":
    main()
