"""`pyhang watch` output, and the no-BPF fallback of record and watch.

A target with one busy thread and one sleeping thread is watched with
--json (summary events), and without a terminal (plain lines). Then the
target and pyhang run as an unprivileged user who may read the target's
memory but may not load BPF: pyhang must say so in one line and fall back
to the /proc sampler, or fail in one line with --sampler bpf.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_watch
"""
import json
import os
import shutil
import time
import unittest

import pyhang_testlib as lib

TARGET = os.path.join(lib.WORKLOADS, "watch_target.py")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
REQUIRE_ROOT = os.environ.get("PYHANG_REQUIRE_BPF") == "1"


def start_target(directory, prefix=()):
    ready = os.path.join(directory, "ready")
    proc = lib.spawn(list(prefix) + ["/usr/bin/python3", TARGET, ready])
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("watch_target.py did not start")
        time.sleep(0.05)
    with open(ready) as f:
        pid, busy, sleeper = (int(x) for x in f.read().split())
    return proc, pid, busy, sleeper


class WatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = lib.temp_dir("pyhang-watch-")
        cls.proc, cls.pid, cls.busy, cls.sleeper = start_target(cls.directory)

    @classmethod
    def tearDownClass(cls):
        lib.kill(cls.proc)
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_json_summaries_show_threads_states_and_top_functions(self):
        result = lib.run_pyhang(["watch", "--pid", self.pid, "--json", "-d", "3.5"])
        self.assertEqual(result.returncode, 0, lib.describe(result))
        events = [json.loads(line) for line in result.stdout.decode().splitlines()]
        summaries = [e for e in events if e["event"] == "summary"]
        self.assertGreaterEqual(len(summaries), 3, lib.describe(result))
        self.assertEqual([e for e in events if e["event"] != "summary"], [], "no hangs expected")
        last = summaries[-1]
        self.assertEqual(last["pid"], self.pid)
        threads = {t["tid"]: t for t in last["threads"]}
        self.assertEqual(threads[self.busy]["name"], "cruncher")
        self.assertEqual(threads[self.busy]["state"], "running")
        self.assertGreater(threads[self.busy]["cpu"], 0.3)
        self.assertEqual(threads[self.sleeper]["state"], "sleep")
        self.assertEqual(threads[self.sleeper]["cpu"], 0.0)
        self.assertGreater(last["samples"], 0)
        top = last["top"][0]
        self.assertEqual(top["function"], "crunch")
        self.assertGreater(top["own"], 0.9)

    def test_plain_lines_without_a_terminal(self):
        result = lib.run_pyhang(["watch", "--pid", self.pid, "-d", "2.5"])
        self.assertEqual(result.returncode, 0, lib.describe(result))
        text = result.stdout.decode()
        self.assertNotIn("\033[", text, "no terminal escapes when stdout is a pipe")
        self.assertIn("pid %d:" % self.pid, text)
        self.assertIn("crunch (", text)
        self.assertIn('%d "cruncher" running' % self.busy, text)

    def test_not_python_is_one_line(self):
        sleeper = lib.spawn(["sleep", "60"])
        try:
            result = lib.run_pyhang(["watch", "--pid", sleeper.pid, "-d", "2"])
            self.assertEqual(lib.one_line_error_problems(result, 1), [], lib.describe(result))
        finally:
            lib.kill(sleeper)


class NoBpfTest(unittest.TestCase):
    """pyhang as a user without BPF rights, on that user's own process."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            if REQUIRE_ROOT:
                raise AssertionError("PYHANG_REQUIRE_BPF=1 but not root (or no setpriv): cannot run")
            raise unittest.SkipTest("needs root to switch users")
        cls.directory = lib.temp_dir("pyhang-nobpf-")
        os.chmod(cls.directory, 0o777)
        cls.proc, cls.pid, cls.busy, _ = start_target(cls.directory, prefix=NOBODY)

    @classmethod
    def tearDownClass(cls):
        lib.kill(cls.proc)
        shutil.rmtree(cls.directory, ignore_errors=True)

    def output(self, name):
        return os.path.join(self.directory, name)

    def test_record_falls_back_to_the_proc_sampler_in_one_line(self):
        result = lib.run_pyhang(["record", "--pid", self.pid, "-d", "2", "-f", "raw", "-o",
                                 self.output("fallback.txt")], prefix=NOBODY)
        self.assertEqual(result.returncode, 0, lib.describe(result))
        lines = result.stderr.decode().splitlines()
        fallback = [line for line in lines if "BPF unavailable" in line]
        self.assertEqual(len(fallback), 1, lib.describe(result))
        self.assertIn("/proc sampler", fallback[0])
        with open(self.output("fallback.txt")) as f:
            stacks = f.read()
        self.assertIn("crunch (watch_target.py:", stacks)

    def test_sampler_bpf_fails_in_one_line(self):
        result = lib.run_pyhang(["record", "--pid", self.pid, "-d", "2", "-f", "raw", "--sampler", "bpf", "-o",
                                 self.output("bpf.txt")], prefix=NOBODY)
        self.assertEqual(lib.one_line_error_problems(result, 1), [], lib.describe(result))
        self.assertIn("BPF unavailable", result.stderr.decode())

    def test_watch_falls_back_too(self):
        result = lib.run_pyhang(["watch", "--pid", self.pid, "--json", "-d", "2.5"], prefix=NOBODY)
        self.assertEqual(result.returncode, 0, lib.describe(result))
        self.assertEqual(sum("BPF unavailable" in line for line in result.stderr.decode().splitlines()), 1)
        summaries = [json.loads(line) for line in result.stdout.decode().splitlines()]
        busy = {t["tid"]: t for t in summaries[-1]["threads"]}[self.busy]
        self.assertEqual(busy["state"], "running")


if __name__ == "__main__":
    unittest.main()
