"""`pyhang dump` on bad input: one line on stderr, nothing on stdout, a clean
exit code (1 for errors, 2 for bad command lines), never a signal, never a hang.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_dump_errors
"""
import json
import os
import random
import re
import select
import shutil
import subprocess
import sys
import threading
import time
import unittest

import pyhang_testlib as lib

EXIT_ERROR = 1
EXIT_USAGE = 2
READY_SCRIPT = ("import sys, time\n"
                "sys.stdout.write('ready\\n')\n"
                "sys.stdout.flush()\n"
                "time.sleep(1000)\n")  # Python 2.7-compatible


def tearDownModule():
    lib.kill_all()


def start_ready_python(python):
    """A python blocked in time.sleep once its interpreter is fully up."""
    proc = lib.spawn([python, "-c", READY_SCRIPT], stdout=subprocess.PIPE,
                     stderr=subprocess.STDOUT)
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    line = proc.stdout.readline() if ready else b""
    if line.strip() != b"ready":
        lib.kill(proc)
        raise AssertionError("%s did not start: %r" % (python, line + proc.stdout.read()))
    return proc


class DumpErrorTest(unittest.TestCase):

    def assert_one_line_error(self, result, code=EXIT_ERROR, context=""):
        problems = lib.one_line_error_problems(result, code)
        if problems:
            self.fail("%s%s\n%s" % (context and context + ": ", "; ".join(problems),
                                    lib.describe(result)))

    # --- command line -----------------------------------------------------------

    def test_cli_dump_without_pid(self):
        self.assert_one_line_error(lib.run_pyhang(["dump"]), EXIT_USAGE)

    def test_cli_pid_not_a_number(self):
        self.assert_one_line_error(lib.run_pyhang(["dump", "--pid", "abc"]), EXIT_USAGE)
        self.assert_one_line_error(lib.run_pyhang(["dump", "--pid", "abc", "--json"]),
                                   EXIT_USAGE)

    # --- targets that cannot be dumped --------------------------------------------

    def test_no_such_pid(self):
        for _ in range(20):
            proc = subprocess.Popen(["true"])
            proc.wait()
            if not os.path.exists("/proc/%d" % proc.pid):
                break
        else:
            self.fail("could not find an unused pid")
        for flags in ([], ["--json"]):
            with self.subTest(flags=flags):
                self.assert_one_line_error(
                    lib.run_pyhang(["dump", "--pid", proc.pid] + flags),
                    context="pid %d does not exist" % proc.pid)

    def test_not_python(self):
        proc = lib.spawn(["sleep", "100"])
        try:
            deadline = time.monotonic() + 10
            while os.path.realpath("/proc/%d/exe" % proc.pid) != shutil.which("sleep") and \
                    os.path.realpath("/proc/%d/exe" % proc.pid) != os.path.realpath(
                        shutil.which("sleep")):
                self.assertLess(time.monotonic(), deadline, "sleep did not start")
                time.sleep(0.01)
            for flags in ([], ["--json"], ["--json", "--locals"]):
                with self.subTest(target="sleep 100", flags=flags):
                    self.assert_one_line_error(
                        lib.run_pyhang(["dump", "--pid", proc.pid] + flags),
                        context="`sleep 100` (pid %d)" % proc.pid)
        finally:
            lib.kill(proc)
        with self.subTest(target="kernel thread"):
            try:
                with open("/proc/2/comm") as f:
                    is_kthreadd = f.read().strip() == "kthreadd"
            except OSError:
                is_kthreadd = False
            if is_kthreadd:
                self.assert_one_line_error(lib.run_pyhang(["dump", "--pid", 2, "--json"]),
                                           context="kernel thread kthreadd (pid 2)")

    def test_unsupported_python_versions(self):
        """Every pyenv build of a version `pyhang versions` does not list."""
        supported = set(lib.supported_versions())
        old = {v: path for v, path in lib.pyenv_pythons().items() if v[:2] not in supported}
        if not old:
            required_old = [w for w in lib.required_pythons() if w[:1].isdigit() and
                            tuple(int(x) for x in w.split(".")) not in supported]
            if required_old:
                self.fail("PYHANG_REQUIRE_PYTHONS names %s, which pyhang does not support, but "
                          "pyenv has none of them" % ", ".join(required_old))
            self.skipTest("pyenv has no Python that pyhang does not support (%s)"
                          % lib.versions_text(sorted(supported)))
        for version in sorted(old):
            label = "pyenv-%d.%d.%d" % version
            with self.subTest(interpreter=label):
                proc = start_ready_python(old[version])
                try:
                    for flags in ([], ["--json"]):
                        self.assert_one_line_error(
                            lib.run_pyhang(["dump", "--pid", proc.pid] + flags),
                            context="%s (%s, pid %d, flags %s)" % (label, old[version],
                                                                   proc.pid, flags))
                finally:
                    lib.kill(proc)

    def test_no_ptrace_rights_as_nobody(self):
        """pyhang as `nobody` against a root-owned python."""
        if os.geteuid() != 0:
            if os.environ.get("PYHANG_REQUIRE_BPF") == "1":
                self.fail("PYHANG_REQUIRE_BPF=1 but the tests do not run as root, so the "
                          "missing-privileges case cannot be set up")
            self.skipTest("needs root to run pyhang as another user")
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            self.fail("setpriv (util-linux) not found")
        # A copy nobody can surely execute, whatever the build tree's permissions.
        directory = lib.temp_dir("pyhang-nobody-")
        os.chmod(directory, 0o755)
        binary = os.path.join(directory, "pyhang")
        shutil.copy(lib.pyhang_binary(), binary)
        os.chmod(binary, 0o755)
        prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        probe = lib.run_pyhang(["--version"], prefix=prefix, binary=binary)
        self.assertEqual(probe.returncode, 0, "pyhang cannot run as nobody at all: "
                         + lib.describe(probe))
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        proc = start_ready_python(python)
        try:
            self.assertEqual(os.stat("/proc/%d" % proc.pid).st_uid, 0)
            for flags in ([], ["--json"]):
                with self.subTest(flags=flags):
                    result = lib.run_pyhang(["dump", "--pid", proc.pid] + flags,
                                            prefix=prefix, binary=binary)
                    self.assert_one_line_error(result, context="nobody dumping root's %s"
                                               % python)
                    self.assertRegex(result.stderr.decode("utf-8", "replace"),
                                     re.compile(r"permission|privilege|ptrace|denied|root|"
                                                r"CAP_SYS_PTRACE|EPERM|EACCES", re.I),
                                     "the error should say that rights are missing")
        finally:
            lib.kill(proc)

    def test_process_exits_during_dump(self):
        """50 dumps racing short-lived pythons (every interpreter in turn, pid
        namespaces and the sid root included) that start, churn threads and
        exit: each ends with exit 0 + valid JSON, or exit 1 + one stderr line."""
        interpreters = lib.discover_interpreters_without_venvs()
        if not interpreters:
            self.fail("no supported CPython found (%s)" % lib.versions_text(
                lib.supported_versions()))
        broken = ["%s: %s" % (i.label, i.error) for i in interpreters if i.error]
        if broken:
            self.fail("interpreters that cannot be used: %s" % "; ".join(broken))
        script = os.path.join(lib.WORKLOADS, "short_lived.py")
        rng = random.Random(os.getpid())
        outcomes = {"dumped": 0, "error": 0, "gone before it ran Python": 0}
        problems = []
        hangs = 0
        for attempt in range(50):
            interpreter = interpreters[attempt % len(interpreters)]
            lifetime_ms = rng.randint(5, 80)
            proc = lib.spawn(interpreter.argv([script, lifetime_ms]), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            reaper = threading.Thread(target=proc.wait)  # the pid vanishes at exit
            reaper.start()
            try:
                # Python runs once the launcher (unshare, chroot) is done:
                # the race starts there.
                pid = interpreter.target_pid(proc, timeout=10)
            except lib.LaunchError:
                pid = None
            if pid is None:
                outcomes["gone before it ran Python"] += 1
                reaper.join(30)
                lib.kill(proc)
                continue
            time.sleep(rng.uniform(0, (lifetime_ms + 60) / 1000))
            flags = ["--json"] + (["--locals"] if attempt % 2 else [])
            result = lib.run_pyhang(["dump", "--pid", pid] + flags)
            reaper.join(30)
            lib.kill(proc)
            where = "run %d: %s short_lived.py %d" % (attempt, interpreter.label, lifetime_ms)
            hangs += result.hung
            if result.returncode == 0 and not result.hung:
                try:
                    dump = json.loads(result.stdout.decode("utf-8"))
                    if dump.get("pid") != pid or not isinstance(dump.get("threads"), list):
                        problems.append("%s: JSON without pid %d / threads: %s" % (
                            where, pid, lib.describe(result)))
                    outcomes["dumped"] += 1
                except ValueError as error:
                    problems.append("%s: exit 0 but invalid JSON (%s): %s" % (
                        where, error, lib.describe(result)))
            else:
                bad = lib.one_line_error_problems(result, EXIT_ERROR)
                if bad:
                    problems.append("%s: %s: %s" % (where, "; ".join(bad), lib.describe(result)))
                outcomes["error"] += 1
            if hangs >= 3:
                problems.append("stopped after %d hung dumps" % hangs)
                break
        sys.stderr.write("\n  dump-during-exit outcomes: %s\n" % outcomes)
        if outcomes["dumped"] + outcomes["error"] < 25:
            problems.append("only %d of 50 pythons were still there to dump: %s" % (
                outcomes["dumped"] + outcomes["error"], outcomes))
        if problems:
            self.fail("%d of 50 racing dumps misbehaved:\n%s" % (len(problems),
                                                                 "\n".join(problems[:10])))

if __name__ == "__main__":
    unittest.main()
