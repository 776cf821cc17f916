"""Names from the target never drive the terminal: a thread name, a
function name, a file name, a local's name and an attribute name holding
ESC sequences, BEL, CR/LF and a C1 CSI, and a command line with an ESC
(tests/workloads/hostile_names.py). `dump` (text, --locals), `watch`'s
plain lines and an error line show them escaped (\\x1b ...), with no control
byte left; `dump --json` keeps them exactly as the interpreter holds them
(JSON escapes them itself). Every interpreter on the host, the sid root's
(chrooted) and their pid-namespace twins.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_hostile_names
"""
import json
import os
import shutil
import time
import unittest

import pyhang_testlib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "hostile_names.py")
ARGUMENT = "arg\x1b[5m"


def tearDownModule():
    lib.kill_all()


def control_bytes(data):
    """The control bytes (C0 but newline and tab, DEL, and UTF-8 C1) in `data`."""
    found = sorted({b for b in data if (b < 0x20 and b not in (0x09, 0x0a)) or b == 0x7f})
    text = data.decode("utf-8", "replace")
    found += sorted({ord(c) for c in text if 0x80 <= ord(c) <= 0x9f})
    return found


def start(interpreter, directory):
    ready = os.path.join(directory, "ready-%s.json" % interpreter.label)
    proc = lib.spawn(interpreter.argv([WORKLOAD, ready, ARGUMENT]))
    deadline = time.monotonic() + 30
    while not os.path.exists(ready):
        if proc.poll() is not None or time.monotonic() > deadline:
            lib.kill(proc)
            raise AssertionError("hostile_names.py did not start under %s" % interpreter.where())
        time.sleep(0.05)
    with open(ready) as f:
        truth = json.load(f)
    return proc, interpreter.target_pid(proc), truth


class HostileNamesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = lib.temp_dir("pyhang-hostile-")
        cls.interpreters = [i for i in lib.discover_interpreters_without_venvs() if not i.error]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_text_is_escaped_and_json_is_exact(self):
        if not self.interpreters:
            self.fail("no interpreter found")
        for interpreter in self.interpreters:
            with self.subTest(interpreter=interpreter.label):
                proc, pid, truth = start(interpreter, self.directory)
                try:
                    self.check(interpreter, pid, truth)
                finally:
                    lib.kill(proc)

    def check(self, interpreter, pid, truth):
        text = lib.run_pyhang(["dump", "--pid", pid, "--locals"])
        where = "%s: %s" % (interpreter.label, lib.describe(text))
        self.assertEqual(text.returncode, 0, where)
        self.assertEqual(control_bytes(text.stdout), [], "control bytes reach the terminal: " + where)
        shown = text.stdout.decode("utf-8")
        # Each name is there, escaped as Python's repr() escapes it.
        for name in ("name", "function", "file", "local"):
            escaped = truth[name].encode("unicode_escape").decode("ascii")
            escaped = escaped.replace("\\r", "\\x0d").replace("\\n", "\\x0a").replace("\\\\", "\\")
            self.assertIn(escaped, shown, "%s %r not shown escaped: %s" % (name, truth[name], where))
        self.assertIn("arg\\x1b[5m", shown, where)
        # The forged line inside the thread name does not start a line.
        self.assertFalse(any(line.startswith('Thread 1 (running): "fake"') for line in shown.splitlines()),
                         where)

        data = lib.run_pyhang(["dump", "--pid", pid, "--locals", "--json"])
        where = "%s: %s" % (interpreter.label, lib.describe(data))
        self.assertEqual(data.returncode, 0, where)
        dump = json.loads(data.stdout)
        threads = {t["tid"]: t for t in dump["threads"]}
        ns_to_host = lib.ns_ids(pid)
        thread = threads.get(ns_to_host.get(truth["tid"], truth["tid"]))
        self.assertIsNotNone(thread, where)
        self.assertEqual(thread["name"], truth["name"], where)
        frame = next((f for f in thread["frames"] if f["file"] == truth["file"]), None)
        self.assertIsNotNone(frame, "no frame in %r: %s" % (truth["file"], where))
        self.assertEqual(frame["function"], truth["function"], where)
        self.assertIn(truth["local"], [v["name"] for v in frame.get("locals", [])], where)
        self.assertIn(ARGUMENT, dump["command_line"], where)

        if interpreter.path == lib.SYSTEM_PYTHON and interpreter.root is None and not interpreter.pidns:
            watch = lib.run_pyhang(["watch", "--pid", pid, "-d", "1.5", "--hang-threshold", "0.5"])
            where = "%s: %s" % (interpreter.label, lib.describe(watch))
            self.assertEqual(watch.returncode, 0, where)
            self.assertIn(b"HANG", watch.stdout, "the waiting thread should be a finding: " + where)
            self.assertEqual(control_bytes(watch.stdout), [], where)

    def test_error_line_is_escaped(self):
        """A process whose comm holds ESC, not Python: one escaped line."""
        sleeper = os.path.join(self.directory, "sl\x1b[2Jeep")
        shutil.copy("/bin/sleep", sleeper)
        proc = lib.spawn([sleeper, "100"])
        try:
            time.sleep(0.2)
            result = lib.run_pyhang(["dump", "--pid", proc.pid])
            self.assertEqual(lib.one_line_error_problems(result, 1), [], lib.describe(result))
            self.assertEqual(control_bytes(result.stderr), [], lib.describe(result))
        finally:
            lib.kill(proc)


if __name__ == "__main__":
    unittest.main()
