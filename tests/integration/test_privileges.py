"""Privileges and exposure: what pyhang needs without root, what it keeps once
attached, and where its metrics listen.

  * as `nobody` with no capability, `dump` of a root-owned Python fails in one
    line naming CAP_SYS_PTRACE, and `record --sampler bpf` in one line naming
    CAP_BPF and CAP_PERFMON;
  * as `nobody` with exactly CAP_SYS_PTRACE, `dump` is exact against the
    interpreter's own sys._current_frames(); with CAP_SYS_PTRACE, CAP_BPF and
    CAP_PERFMON (nothing else), `record --sampler bpf` and `watch` work;
  * as root, once attached, `dump`, `record` and `watch` hold only the
    capabilities their loop uses (read from /proc/PID/status while they run);
  * `--metrics-addr PORT` listens on loopback, a non-loopback address works
    with a one-line warning, a bad one is refused in one line.

Needs root (to become `nobody` and to watch pyhang's own capability sets);
with PYHANG_REQUIRE_BPF=1 not being root fails instead of skipping.
Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_privileges
"""
import itertools
import json
import os
import re
import shutil
import subprocess
import time
import unittest

import pyhang_testlib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "extreme_targets.py")
PYTHON = "/usr/bin/python3"
NOBODY = 65534
STARTS = itertools.count()

# linux/capability.h
CAPABILITIES = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_KILL": 5,
                "CAP_SETUID": 7, "CAP_NET_BIND_SERVICE": 10, "CAP_NET_ADMIN": 12,
                "CAP_SYS_MODULE": 16, "CAP_SYS_PTRACE": 19, "CAP_SYS_ADMIN": 21, "CAP_SYSLOG": 34,
                "CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40}
READING = {"CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_DAC_OVERRIDE", "CAP_SYSLOG",
           "CAP_CHECKPOINT_RESTORE"}


def tearDownModule():
    lib.kill_all()


def capability_names(status_path, field="CapEff"):
    """The names (of CAPABILITIES) in a /proc status file's `field` set."""
    with open(status_path) as f:
        mask = int(re.search(r"^%s:\s*([0-9a-f]+)" % field, f.read(), re.M).group(1), 16)
    return {name for name, bit in CAPABILITIES.items() if mask & (1 << bit)}


def effective_capabilities(pid):
    return capability_names("/proc/%d/status" % pid)


def capabilities_of_every_thread(pid):
    """{tid: (effective, bounding)} of each thread of `pid` (capabilities are
    per thread: a thread started before the drop would keep root's)."""
    held = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        status = "/proc/%d/task/%s/status" % (pid, tid)
        try:
            held[int(tid)] = (capability_names(status), capability_names(status, "CapBnd"))
        except OSError:
            continue
    return held


def start(directory, mode, *args):
    """(proc, truth) of a root-owned extreme_targets.py in `mode`."""
    ready = os.path.join(directory, "ready-%s-%d.json" % (mode, next(STARTS)))
    proc = lib.spawn([PYTHON, WORKLOAD, ready, mode] + [str(a) for a in args])
    lib.wait_for_file(ready, proc, 60, "extreme_targets.py " + mode)
    with open(ready) as f:
        return proc, json.load(f)


class PrivilegesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            if os.environ.get("PYHANG_REQUIRE_BPF") == "1":
                raise AssertionError("PYHANG_REQUIRE_BPF=1 but the tests do not run as root")
            raise unittest.SkipTest("needs root to run pyhang as another user")
        cls.setpriv = shutil.which("setpriv")
        if cls.setpriv is None:
            raise AssertionError("setpriv (util-linux) not found")
        cls.directory = lib.temp_dir("pyhang-privileges-")
        os.chmod(cls.directory, 0o777)
        # A copy nobody can surely execute, whatever the build tree's permissions.
        cls.binary = os.path.join(cls.directory, "pyhang")
        shutil.copy(lib.pyhang_binary(), cls.binary)
        os.chmod(cls.binary, 0o755)

    def as_nobody(self, capabilities):
        caps = ",".join("+" + c[len("CAP_"):].lower() for c in capabilities)
        prefix = [self.setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"]
        if caps:
            prefix += ["--inh-caps", caps, "--ambient-caps", caps]
        return prefix + ["--"]

    def run_as_nobody(self, capabilities, args):
        return lib.run_pyhang(args, prefix=self.as_nobody(capabilities), binary=self.binary)

    def assert_one_line_error(self, result, needle):
        problems = lib.one_line_error_problems(result, 1)
        self.assertEqual(problems, [], lib.describe(result))
        self.assertIn(needle, result.stderr.decode(), lib.describe(result))

    # --- without root ----------------------------------------------------

    def test_nobody_without_capabilities_is_told_which(self):
        proc, _ = start(self.directory, "threads", 2)
        try:
            self.assertEqual(os.stat("/proc/%d" % proc.pid).st_uid, 0)
            self.assert_one_line_error(self.run_as_nobody([], ["dump", "--pid", proc.pid]),
                                       "pyhang lacks CAP_SYS_PTRACE")
            out = os.path.join(self.directory, "nocaps.collapsed")
            self.assert_one_line_error(
                self.run_as_nobody(["CAP_SYS_PTRACE"], ["record", "--sampler", "bpf", "--pid", proc.pid,
                                                        "-d", "1", "-f", "collapsed", "-o", out]),
                "BPF unavailable: pyhang lacks CAP_BPF and CAP_PERFMON")
            self.assertFalse(os.path.exists(out))
        finally:
            lib.kill(proc)

    def test_nobody_with_cap_sys_ptrace_dumps_exactly(self):
        proc, truth = start(self.directory, "threads", 3)
        try:
            result = self.run_as_nobody(["CAP_SYS_PTRACE"], ["dump", "--pid", proc.pid, "--json"])
        finally:
            lib.kill(proc)
        self.assertEqual(result.returncode, 0, lib.describe(result))
        by_tid = {str(t["tid"]): t for t in json.loads(result.stdout)["threads"]}
        for tid, stack in truth["threads"].items():
            self.assertIn(tid, by_tid, lib.describe(result))
            frames = [[f.get("function"), f.get("file"), f.get("line")] for f in by_tid[tid]["frames"]
                      if f.get("kind", "python") == "python"]
            self.assertEqual(frames, stack, "thread %s" % tid)

    def test_nobody_with_bpf_capabilities_records_and_watches(self):
        caps = ["CAP_SYS_PTRACE", "CAP_BPF", "CAP_PERFMON"]
        proc, _ = start(self.directory, "exec_after", 3600, "/bin/true")
        try:
            out = os.path.join(self.directory, "nobody.collapsed")
            record = self.run_as_nobody(caps, ["record", "--sampler", "bpf", "--pid", proc.pid, "-d", "1",
                                               "-f", "collapsed", "-o", out])
            watch = self.run_as_nobody(caps, ["watch", "--sampler", "bpf", "--pid", proc.pid, "-d", "1",
                                              "--json"])
        finally:
            lib.kill(proc)
        self.assertEqual(record.returncode, 0, lib.describe(record))
        with open(out) as f:
            self.assertIn(";busy", f.read())
        self.assertEqual(watch.returncode, 0, lib.describe(watch))
        summaries = [json.loads(line) for line in watch.stdout.splitlines()
                     if json.loads(line).get("event") == "summary"]
        self.assertTrue(summaries, lib.describe(watch))
        self.assertGreater(summaries[-1]["samples"], 0, lib.describe(watch))
        self.assertNotIn(b"BPF unavailable", watch.stderr)

    # --- as root: what stays once attached -------------------------------

    def capabilities_while_running(self, args):
        """pyhang's effective capabilities a second into `args`, the same in
        every thread and in the bounding set (so no exec regains the rest)."""
        proc = subprocess.Popen([lib.pyhang_binary()] + [str(a) for a in args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            time.sleep(1.5)
            self.assertIsNone(proc.poll(), "pyhang %s ended early: %s" % (args, proc.stderr.read()))
            threads = capabilities_of_every_thread(proc.pid)
            with open("/proc/%d/status" % proc.pid) as f:
                no_new_privs = re.search(r"^NoNewPrivs:\s*(\d)", f.read(), re.M).group(1)
        finally:
            _, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(no_new_privs, "1", args)
        held = threads[proc.pid][0]
        for tid, (effective, bounding) in threads.items():
            self.assertEqual(effective, held, "pyhang %s: thread %d holds %s" % (args, tid, sorted(effective)))
            self.assertEqual(bounding, held, "pyhang %s: thread %d's bounding set" % (args, tid))
        return held

    def test_root_keeps_only_what_the_loop_uses(self):
        self.assertIn("CAP_SYS_ADMIN", effective_capabilities(os.getpid()), "the test runs without root's caps")
        proc, _ = start(self.directory, "exec_after", 3600, "/bin/true")
        try:
            out = os.path.join(self.directory, "root.collapsed")
            record = self.capabilities_while_running(["record", "--sampler", "bpf", "--pid", proc.pid,
                                                      "-d", "3", "-f", "collapsed", "-o", out])
            # The metrics server's threads too.
            watch = self.capabilities_while_running(["watch", "--sampler", "bpf", "--pid", proc.pid,
                                                     "-d", "3", "--json", "--metrics-addr", "0"])
            out = os.path.join(self.directory, "root-procfs.collapsed")
            procfs = self.capabilities_while_running(["record", "--sampler", "procfs", "--pid", proc.pid,
                                                      "-d", "3", "-f", "collapsed", "-o", out])
        finally:
            lib.kill(proc)
        # record's loop reads its BPF maps (kernel stacks, off-CPU tails).
        self.assertEqual(record, READING | {"CAP_BPF", "CAP_PERFMON"})
        self.assertEqual(watch, READING | {"CAP_BPF", "CAP_PERFMON"})
        self.assertEqual(procfs, READING)

    # --- where metrics listen --------------------------------------------

    def watch_with_metrics(self, address):
        """(stderr, the served URL or None) of a short watch with --metrics-addr."""
        proc, _ = start(self.directory, "threads", 1)
        try:
            watch = subprocess.Popen([lib.pyhang_binary(), "watch", "--pid", str(proc.pid), "-d", "3",
                                      "--metrics-addr", address],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, err = watch.communicate(timeout=60)
        finally:
            lib.kill(proc)
        text = err.decode()
        match = re.search(r"serving metrics at (http://\S+)", text)
        return watch.returncode, text, match.group(1) if match else None

    def test_metrics_on_loopback_by_default(self):
        code, err, url = self.watch_with_metrics("0")
        self.assertEqual(code, 0, err)
        self.assertIsNotNone(url, err)
        self.assertTrue(url.startswith("http://127.0.0.1:"), url)
        self.assertNotIn("served to every host", err)

    def test_metrics_on_every_interface_warn_in_one_line(self):
        code, err, url = self.watch_with_metrics("0.0.0.0:0")
        self.assertEqual(code, 0, err)
        self.assertTrue(url.startswith("http://0.0.0.0:"), url)
        warnings = [line for line in err.splitlines() if "served to every host" in line]
        self.assertEqual(len(warnings), 1, err)

    def test_bad_metrics_address_is_refused(self):
        result = lib.run_pyhang(["watch", "--pid", os.getpid(), "-d", "1", "--metrics-addr", "example.com:80"])
        self.assertEqual(lib.one_line_error_problems(result, 1), [], lib.describe(result))
        self.assertIn("--metrics-addr example.com:80", result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
