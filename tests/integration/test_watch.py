"""`pyhang watch` output, and the no-BPF fallback of record and watch.

A target with one busy thread and one sleeping thread is watched with
--json (summary events), and without a terminal (plain lines), on
/usr/bin/python3, the sid root's 3.14/3.15 (chrooted) and their
pid-namespace twins: one target at a time, two at once (each cruncher wants
a CPU). Then the target and pyhang run as an unprivileged user who may read
the target's memory but may not load BPF: pyhang must say so in one line and
fall back to the /proc sampler, or fail in one line with --sampler bpf.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_watch
"""
import concurrent.futures
import json
import os
import shutil
import time
import traceback
import unittest

import pyhang_testlib as lib

TARGET = os.path.join(lib.WORKLOADS, "watch_target.py")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
REQUIRE_ROOT = os.environ.get("PYHANG_REQUIRE_BPF") == "1"
PARALLEL = 2


def start_target(directory, prefix=(), interpreter=None):
    """(proc, host pid, busy tid, sleeper tid): watch_target.py, its ids mapped to host ids."""
    ready = os.path.join(directory, "ready")
    interpreter = interpreter or lib.Interpreter("system-python3", lib.SYSTEM_PYTHON)
    proc = lib.spawn(list(prefix) + interpreter.argv([TARGET, ready]))
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            lib.kill(proc)
            raise RuntimeError("watch_target.py did not start under %s" % interpreter.where())
        time.sleep(0.05)
    with open(ready) as f:
        ns_pid, busy, sleeper = (int(x) for x in f.read().split())
    pid = interpreter.target_pid(proc)
    ns_to_host = lib.ns_ids(pid)
    if lib.ns_pid_of(pid) != ns_pid or busy not in ns_to_host or sleeper not in ns_to_host:
        lib.kill(proc)
        raise RuntimeError("watch_target.py says pid %d, threads %d and %d; /proc says pid %d "
                           "is %d inside, threads %s" % (ns_pid, busy, sleeper, pid,
                                                         lib.ns_pid_of(pid), ns_to_host))
    return proc, pid, ns_to_host[busy], ns_to_host[sleeper]


def watch_interpreters():
    """/usr/bin/python3 and every interpreter that is not the host's own
    (the sid root's, the pid-namespace twins): where watch differs."""
    return [i for i in lib.discover_interpreters_without_venvs()
            if i.path == lib.SYSTEM_PYTHON or i.root is not None or i.pidns]


class Observed:
    """One target under one interpreter and what both watches printed."""

    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.error = None
        self.pid = self.busy = self.sleeper = None
        self.ns_of_host = {}           # {host tid: tid in the target's pid namespace}
        self.json = self.plain = None  # lib.PyhangResult


def observe(interpreter, directory):
    observed = Observed(interpreter)
    if interpreter.error:
        observed.error = "the interpreter cannot be used: " + interpreter.error
        return observed
    proc = None
    try:
        proc, observed.pid, observed.busy, observed.sleeper = start_target(
            lib.temp_dir("pyhang-watch-%s-" % interpreter.label), interpreter=interpreter)
        observed.ns_of_host = {host: ns for ns, host in lib.ns_ids(observed.pid).items()}
        # The main thread waits forever, a real lock_wait counted from when
        # it blocked (the kernel's last-ran time), not from when watch began:
        # on a slow harness the default 5 s threshold is reached. These tests
        # are about summaries; findings are test_hangs' job.
        quiet = ["--hang-threshold", "600"]
        observed.json = lib.run_pyhang(["watch", "--pid", observed.pid, "--json", "-d", "3.5"] + quiet)
        observed.plain = lib.run_pyhang(["watch", "--pid", observed.pid, "-d", "2.5"] + quiet)
    except Exception:  # noqa: BLE001 -- fails this interpreter's subTests only
        observed.error = "the harness failed:\n" + traceback.format_exc()
    finally:
        if proc is not None:
            lib.kill(proc)
    return observed


class WatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = lib.temp_dir("pyhang-watch-")
        interpreters = watch_interpreters()
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            cls.observed = list(pool.map(lambda i: observe(i, cls.directory), interpreters))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def each(self):
        """Every interpreter's observation; check each in its own subTest."""
        if not self.observed:
            self.fail("no interpreter to watch (not even %s)" % lib.SYSTEM_PYTHON)
        return self.observed

    def test_json_summaries_show_threads_states_and_top_functions(self):
        for o in self.each():
            with self.subTest(interpreter=o.interpreter.label):
                self.check_json(o)

    def test_plain_lines_without_a_terminal(self):
        for o in self.each():
            with self.subTest(interpreter=o.interpreter.label):
                self.check_plain(o)

    def check_usable(self, o):
        if o.error:
            self.fail("%s: %s" % (o.interpreter.where(), o.error))

    def check_json(self, o):
        self.check_usable(o)
        result = o.json
        where = "%s: %s" % (o.interpreter.label, lib.describe(result))
        self.assertEqual(result.returncode, 0, where)
        events = [json.loads(line) for line in result.stdout.decode().splitlines()]
        summaries = [e for e in events if e["event"] == "summary"]
        self.assertGreaterEqual(len(summaries), 3, where)
        self.assertEqual([e for e in events if e["event"] != "summary"], [],
                         "no hangs expected: " + where)
        last = summaries[-1]
        self.assertEqual(last["pid"], o.pid, "the host pid: " + where)
        threads = {t["tid"]: t for t in last["threads"]}
        self.assertIn(o.busy, threads, "the cruncher's host tid: " + where)
        self.assertIn(o.sleeper, threads, "the sleeper's host tid: " + where)
        self.assertEqual(lib.ns_id_problems(last["threads"], o.ns_of_host), [], where)
        self.assertEqual(threads[o.busy]["name"], "cruncher")
        self.assertEqual(threads[o.busy]["state"], "running")
        self.assertGreater(threads[o.busy]["cpu"], 0.3)
        self.assertEqual(threads[o.sleeper]["state"], "sleep")
        self.assertEqual(threads[o.sleeper]["cpu"], 0.0)
        self.assertGreater(last["samples"], 0)
        top = last["top"][0]
        self.assertEqual(top["function"], "crunch")
        self.assertGreater(top["own"], 0.9)

    def check_plain(self, o):
        self.check_usable(o)
        result = o.plain
        where = "%s: %s" % (o.interpreter.label, lib.describe(result))
        self.assertEqual(result.returncode, 0, where)
        text = result.stdout.decode()
        self.assertNotIn("\033[", text, "no terminal escapes when stdout is a pipe")
        self.assertIn("pid %d:" % o.pid, text, where)
        self.assertIn("crunch (", text, where)
        self.assertIn('%d "cruncher" running' % o.busy, text, where)

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
