"""pyhang on an application that embeds CPython 3.15 through the shared
libpython (tests/workloads/embed_python.c, built in the sid root).

This is the one shape where 3.15's thread-local thread state lives in a
shared library's TLS block (reached through glibc's DTV), not at a fixed
offset from the thread pointer: BPF sampling must find it there. Truth is
the embedded interpreter's own sys._current_frames().

Needs root (chroot, BPF) and the sid root (tools/sid-root.sh); skips without
them unless PYHANG_REQUIRE_BPF=1 / PYHANG_REQUIRE_PYTHONS names 3.15.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_embedded
"""
import json
import os
import re
import subprocess
import time
import unittest

import pyhang_testlib as lib

SOURCE = os.path.join(lib.WORKLOADS, "embed_python.c")
SCRIPT = os.path.join(lib.WORKLOADS, "embedded_target.py")
REQUIRED = os.environ.get("PYHANG_REQUIRE_BPF") == "1" or "3.15" in lib.required_pythons()
MINOR = 15


def unavailable():
    """Why this test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (chroot, BPF)"
    if not os.access(os.path.join(lib.SID_ROOT, "usr/bin/python3.%d" % MINOR), os.X_OK):
        return "no CPython 3.%d in the sid root %s (run tools/sid-root.sh)" % (MINOR, lib.SID_ROOT)
    if not os.path.exists(os.path.join(lib.SID_ROOT, "usr/include/python3.%d/Python.h" % MINOR)):
        return "no libpython3.%d-dev in the sid root (run tools/sid-root.sh)" % MINOR
    return None


def build_embedder(directory):
    """Compiles embed_python.c against the sid root's libpython3.15.so, with
    the sid root's gcc (chrooted like the workloads, so paths agree)."""
    binary = os.path.join(directory, "embed_python")
    gcc = lib.Interpreter("sid-gcc", "/usr/bin/gcc", root=lib.SID_ROOT)
    include = "/usr/include/python3.%d" % MINOR
    argv = gcc.argv(["-O1", "-o", binary, SOURCE, "-I" + include,
                     "-I/usr/include/x86_64-linux-gnu/python3.%d" % MINOR,
                     "-lpython3.%d" % MINOR])
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if result.returncode != 0:
        raise RuntimeError("building the embedder failed: %s" % result.stdout.decode()[-2000:])
    return binary


class EmbeddedApp(lib.Interpreter):
    """The embedder, run chrooted in the sid root like its interpreters; it
    lives in the host's /tmp, which the launcher binds at the same path."""

    @property
    def host_path(self):
        return self.path


class EmbeddedLibpython(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc = None
        why = unavailable()
        if why:
            if REQUIRED:
                raise AssertionError(why)
            raise unittest.SkipTest(why)
        directory = lib.temp_dir("pyhang-embed-")
        binary = build_embedder(directory)
        cls.truth_path = os.path.join(directory, "truth.json")
        cls.app = EmbeddedApp("sid-embedded-3.%d" % MINOR, binary, root=lib.SID_ROOT)
        cls.proc = lib.spawn(cls.app.argv([SCRIPT, cls.truth_path]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cls.pid = cls.app.target_pid(cls.proc)
        deadline = time.monotonic() + 60
        while not os.path.exists(cls.truth_path):
            if cls.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("embedded workload gave no truth: %r" % (
                    cls.proc.stderr.read()[-2000:] if cls.proc.poll() is not None else "timeout"))
            time.sleep(0.05)
        with open(cls.truth_path, encoding="utf-8") as f:
            cls.truth = json.load(f)

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None:
            lib.kill(cls.proc)

    def truth_of(self, name):
        return next(t for t in self.truth["threads"] if t["name"] == name)

    def test_the_runtime_is_in_a_shared_libpython(self):
        # Otherwise this test would not exercise the DTV path at all.
        with open("/proc/%d/maps" % self.pid) as f:
            maps = f.read()
        self.assertRegex(maps, r"libpython3\.%d\.so" % MINOR)
        self.assertEqual(self.truth["version"][:2], [3, MINOR])

    def test_dump_matches_the_interpreter(self):
        result = lib.run_pyhang(["dump", "--pid", self.pid, "--json"])
        self.assertEqual(result.returncode, 0, lib.describe(result))
        dump = json.loads(result.stdout.decode())
        self.assertRegex(dump["python_binary"], r"libpython3\.%d\.so" % MINOR)
        by_name = {t["name"]: t for t in dump["threads"]}
        for name in ("spinner", "sleeper"):
            truth = self.truth_of(name)
            self.assertIn(name, by_name, "threads: %s" % sorted(by_name))
            thread = by_name[name]
            self.assertEqual(thread["tid"], truth["native_id"])
            functions = [f["function"] for f in thread["frames"]]
            self.assertEqual(functions, truth["functions"], name)

    def test_bpf_record_finds_thread_states_in_the_shared_library_tls(self):
        directory = lib.temp_dir("pyhang-embed-record-")
        output = os.path.join(directory, "profile.txt")
        result = lib.run_pyhang(["record", "--pid", self.pid, "-d", "2", "-r", "200",
                                 "--sampler", "bpf", "-f", "raw", "-o", output], timeout=60)
        self.assertEqual(result.returncode, 0, lib.describe(result))
        summary = result.stderr.decode()
        match = re.search(r"(\d+) samples .*\((\d+) lost, (\d+) torn, (\d+) errors\)", summary)
        self.assertIsNotNone(match, summary)
        samples, lost, torn, errors = (int(g) for g in match.groups())
        # A busy machine may give the spinner little CPU: few samples, but some.
        self.assertGreater(samples, 20, summary)
        self.assertEqual((lost, torn, errors), (0, 0, 0), summary)
        # The spinner's stack, root first, exactly as the interpreter sees it.
        want = ";".join(reversed(self.truth_of("spinner")["functions"]))
        on_stack = 0
        with open(output, encoding="utf-8") as f:
            for line in f:
                stack, count = line.rsplit(" ", 1)
                functions = ";".join(re.sub(r" \(.*\)$", "", part) for part in stack.split(";"))
                functions = functions.replace("Thread.", "")  # qualnames in profiles
                if functions == want:
                    on_stack += int(count)
        self.assertGreaterEqual(on_stack, 0.9 * samples,
                                "spinner stack %s in %d of %d samples" % (want, on_stack, samples))


if __name__ == "__main__":
    unittest.main()
