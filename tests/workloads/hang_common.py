"""The protocol every hang_*.py workload follows with tests/integration/test_hangs.py.

    python hang_X.py DIRECTORY [ARGS...]

1. The workload starts its threads; each registers its OS thread id
   (threading.get_native_id()), name and role, then waits for the go signal
   (polling with time.sleep, which pyhang never reports).
2. DIRECTORY/ready.json is written atomically: pid, Python version, the
   threads and whatever the scenario adds (lock addresses, ports, lines).
3. The harness attaches `pyhang watch` and creates DIRECTORY/go.
4. The threads do what the scenario does. Right before a thread blocks (or
   starts looping) for good it calls mark(): time.monotonic() at that moment,
   CLOCK_MONOTONIC, so comparable with the harness's own time.monotonic().
   Once every expected mark is in, DIRECTORY/stuck.json is written
   atomically ({"marks": {tid: seconds}}).
5. The harness kills the process.

Runs on CPython 3.8+ (keep the syntax 3.8-compatible).
"""
import json
import os
import platform
import sys
import threading
import time

sys.dont_write_bytecode = True  # never leave __pycache__ in the source tree

FOREVER = 10 ** 6  # seconds; the harness kills the process long before
POLL_S = 0.005


def source_lines(path, marker):
    """1-based numbers of the lines of `path` that contain `marker`."""
    with open(path, encoding="utf-8") as f:
        return [number for number, line in enumerate(f, 1) if marker in line]


def type_name(obj):
    kind = type(obj)
    return "%s.%s" % (kind.__module__, kind.__qualname__)


class Scenario:
    def __init__(self, expected_marks=0):
        if len(sys.argv) < 2:
            sys.exit("usage: %s DIRECTORY [ARGS...]" % sys.argv[0])
        self.directory = sys.argv[1]
        self.args = sys.argv[2:]
        self.expected_marks = expected_marks
        self.threads = []
        self.info = {}
        self.marks = {}
        self.go = False
        self._lock = threading.Lock()
        self._stuck_written = False

    def path(self, name):
        return os.path.join(self.directory, name)

    def write_json(self, name, data):
        tmp = self.path(name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.rename(tmp, self.path(name))

    def register(self, role):
        thread = threading.current_thread()
        entry = {"tid": threading.get_native_id(), "name": thread.name, "role": role}
        with self._lock:
            self.threads.append(entry)
        return entry["tid"]

    def wait_for_go(self):
        while not self.go:
            time.sleep(POLL_S)

    def thread(self, name, role, target, *args):
        """Starts a daemon thread that registers itself, waits for go, then
        runs target(*args). Returns once it has registered."""
        registered = []

        def body():
            registered.append(self.register(role))
            self.wait_for_go()
            target(*args)

        thread = threading.Thread(target=body, name=name, daemon=True)
        thread.start()
        while not registered:
            time.sleep(POLL_S)
        return thread

    def mark(self, tid=None, moment=None):
        """The moment the calling thread (or `tid`) gets stuck for good."""
        moment = time.monotonic() if moment is None else moment
        tid = threading.get_native_id() if tid is None else tid
        with self._lock:
            self.marks[tid] = moment
            if (self.expected_marks and len(self.marks) >= self.expected_marks
                    and not self._stuck_written):
                self._write_stuck()
        return moment

    def write_stuck(self):
        with self._lock:
            self._write_stuck()

    def _write_stuck(self):
        self._stuck_written = True
        self.write_json("stuck.json", {"marks": {str(t): m for t, m in self.marks.items()}})

    def ready(self, wait_for_go=True):
        """Publishes the threads (the main thread too) and waits for go."""
        self.register("main")
        self.write_json("ready.json", dict(self.info, pid=os.getpid(),
                                           python_version=platform.python_version(),
                                           executable=sys.executable,
                                           script=os.path.abspath(sys.argv[0]),
                                           threads=self.threads))
        if wait_for_go:
            while not os.path.exists(self.path("go")):
                time.sleep(POLL_S)
        self.go = True

    @staticmethod
    def sleep_forever():
        while True:
            time.sleep(1)
