"""`pyhang record --native` on live processes, against the workload's own clock.

Every supported interpreter found (pyhang_testlib's discovery: pyenv's,
Debian's python3, the sid root's 3.14/3.15, their pid-namespace twins)
runs tests/workloads/record_native_share.py: two threads that alternate a
C function (native_burn, in a library this test compiles) and a Python
loop, each timing its own CPU time in native_burn and in all. pyhang
records 1 kHz on-CPU samples with --native for RECORD_S, one interpreter
at a time (the threads want both CPUs). Checked, per interpreter, from the
collapsed output alone:
- the share of the burner threads' samples whose innermost frame is
  native_burn (libnative.so) is the workload's measured share within
  SHARE_TOLERANCE points (the sampling error at ~8,000 samples is ~0.6);
- at least MIN_TO_ROOT of those samples unwind to the thread's first
  frame (clone3/clone/start_thread/_start), and native_burn sits above
  the Python frame that called it (the native and Python stacks merged);
- the summary line's own count of native stacks is the samples' count;
- a thread reading /dev/zero gets kernel frames below its read(): most of
  its samples end in a system call, each kernel part is the leaf and
  starts at the system call entry (right after libc) or an interrupt's,
  and names only functions that /proc/kallsyms lists.
On 3.14+, the same with the JIT on (PYTHON_JIT=1): JIT code is named
[JIT] and the Python frames it runs sit right outside it (the merge
places them there even where the unwinder stepped over the eval loop's
frame), and the C function's share holds. And --native with the /proc
sampler is one line on stderr and exit 2.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_record_native
"""
import json
import os
import re
import subprocess
import time
import unittest

import pyhang_testlib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "record_native_share.py")
LIBNATIVE_C = os.path.join(lib.WORKLOADS, "libnative.c")
RECORD_S = 4
RATE_HZ = 1000
SHARE_TOLERANCE = 3.0  # percentage points
MIN_TO_ROOT = 0.95
THREAD_ROOTS = ("_start", "clone", "clone3", "__clone3", "__clone", "start_thread")
RUNS = {}
JIT_RUNS = {}  # 3.14+ with PYTHON_JIT=1
INTERPRETERS = []
JIT_FRAME = "[JIT] ([anonymous])"


class Run:
    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.error = None
        self.truth = None      # {tid: {"c_seconds", "all_seconds"}}
        self.stacks = {}       # collapsed: "a;b;c" -> count
        self.stderr = ""

    @property
    def label(self):
        return "%s (%s)" % (self.interpreter.label, self.interpreter.where())


def parse_collapsed(text):
    stacks = {}
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        stacks[stack] = stacks.get(stack, 0) + int(count)
    return stacks


def record(interpreter, directory, library, jit=False):
    run = Run(interpreter)
    if interpreter.error:
        run.error = "the interpreter cannot be used: " + interpreter.error
        return run
    work = os.path.join(directory, interpreter.label + ("-jit" if jit else ""))
    os.makedirs(work)
    log = open(os.path.join(work, "workload.log"), "wb")
    env = dict(lib.WORKLOAD_ENV, PYTHON_JIT="1" if jit else "0")
    proc = lib.spawn(interpreter.argv([WORKLOAD, work, library, 2]), stdout=log, stderr=log, env=env)
    try:
        lib.wait_for_file(os.path.join(work, "ready.json"), proc, 60, "ready.json")
        pid = interpreter.target_pid(proc)
        open(os.path.join(work, "start"), "w").close()
        out = os.path.join(work, "out.txt")
        result = lib.run_pyhang(["record", "-p", pid, "--native", "-r", RATE_HZ, "-d", RECORD_S,
                                 "-f", "raw", "-o", out])
        open(os.path.join(work, "stop"), "w").close()
        run.stderr = result.stderr.decode("utf-8", "replace")
        if result.hung or result.returncode != 0:
            run.error = "pyhang failed: " + lib.describe(result)
            return run
        with open(out) as f:
            run.stacks = parse_collapsed(f.read())
        lib.wait_for_file(os.path.join(work, "truth.json"), proc, 30, "truth.json")
        with open(os.path.join(work, "truth.json")) as f:
            run.truth = json.load(f)
    except (RuntimeError, lib.LaunchError, ValueError, OSError) as error:
        run.error = "%s: %s" % (type(error).__name__, error)
    finally:
        lib.kill(proc)
        log.close()
    return run


def setUpModule():
    lib.pyhang_binary()
    directory = lib.temp_dir("pyhang-record-native-")
    library = os.path.join(directory, "libnative.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-g", "-O1", "-o", library, LIBNATIVE_C], check=True)
    INTERPRETERS[:] = lib.discover_interpreters_without_venvs()
    for interpreter in INTERPRETERS:  # one at a time: the burners want both CPUs
        RUNS[interpreter.label] = record(interpreter, directory, library)
        if interpreter.version and interpreter.version >= (3, 14) and not interpreter.pidns:
            JIT_RUNS[interpreter.label] = record(interpreter, directory, library, jit=True)


def tearDownModule():
    lib.kill_all()


def frame_name(label):
    return label.split(" (", 1)[0]


class RecordNativeTest(unittest.TestCase):
    def each_run(self, check):
        """check(run) for every interpreter's run, each in its own subTest
        (a run the harness could not make fails its subTest)."""
        if not INTERPRETERS:
            self.fail("no supported CPython found")
        for interpreter in INTERPRETERS:
            run = RUNS[interpreter.label]
            with self.subTest(interpreter=interpreter.label):
                if run.error:
                    self.fail("[%s] %s" % (run.label, run.error))
                check(run)

    @staticmethod
    def burner_stacks(run):
        """The samples of the burner threads: their stacks run worker()."""
        return {s: n for s, n in run.stacks.items() if "worker (record_native_share.py:" in s}

    def test_share_in_c_function(self):
        def check(run):
            truth_c = sum(t["c_seconds"] for t in run.truth.values())
            truth_all = sum(t["all_seconds"] for t in run.truth.values())
            stacks = self.burner_stacks(run)
            total = sum(stacks.values())
            in_c = sum(n for s, n in stacks.items() if s.split(";")[-1] == "native_burn (libnative.so)")
            # Enough to tell: the sampling error is ~0.6 points at 5,000 samples.
            self.assertGreater(truth_all, 1.0, "[%s] the workload measured %.2f CPU s" % (
                run.label, truth_all))
            self.assertGreater(total, 1000, "[%s] %d burner samples" % (run.label, total))
            truth_share = 100.0 * truth_c / truth_all
            share = 100.0 * in_c / total
            print("SHARE interpreter=%s truth=%.1f pyhang=%.1f samples=%d" % (
                run.interpreter.label, truth_share, share, total))
            self.assertLessEqual(abs(share - truth_share), SHARE_TOLERANCE,
                                 "[%s] native_burn has %.1f%% of %d samples, the workload timed "
                                 "%.1f%% in it" % (run.label, share, total, truth_share))
        self.each_run(check)

    def test_stacks_unwind_to_the_thread_root(self):
        def check(run):
            stacks = self.burner_stacks(run)
            total = sum(stacks.values())
            rooted = sum(n for s, n in stacks.items() if frame_name(s.split(";")[0]) in THREAD_ROOTS)
            self.assertGreater(total, 0, "[%s] no burner samples" % run.label)
            print("TO_ROOT interpreter=%s %.1f%% of %d" % (run.interpreter.label,
                                                          100.0 * rooted / total, total))
            worst = sorted(((n, s) for s, n in stacks.items()
                            if frame_name(s.split(";")[0]) not in THREAD_ROOTS), reverse=True)[:3]
            self.assertGreaterEqual(rooted / total, MIN_TO_ROOT,
                                    "[%s] %d of %d samples reach the thread's root; e.g. %s" % (
                                        run.label, rooted, total, worst))
        self.each_run(check)

    def test_c_function_above_its_python_caller(self):
        def check(run):
            for stack in self.burner_stacks(run):
                frames = stack.split(";")
                if frames[-1] != "native_burn (libnative.so)":
                    continue
                callers = [i for i, f in enumerate(frames) if f.startswith("worker (")]
                self.assertTrue(callers, "[%s] native_burn without worker(): %s" % (run.label, stack))
                # Between worker() and native_burn only native frames (ctypes, libffi).
                between = frames[callers[-1] + 1:-1]
                python = [f for f in between if re.search(r"\.py:\d+\)$", f)]
                self.assertFalse(python, "[%s] Python frames between worker() and native_burn: %s" % (
                    run.label, stack))
        self.each_run(check)

    def test_summary_counts_native_stacks(self):
        def check(run):
            match = re.search(r"(\d+) samples in .*; (\d+) native stacks", run.stderr)
            self.assertIsNotNone(match, "[%s] no native summary in: %s" % (run.label, run.stderr))
            self.assertEqual(int(match.group(1)), sum(run.stacks.values()), run.stderr)
            self.assertGreater(int(match.group(2)), 0, run.stderr)
        self.each_run(check)

    def test_kernel_frames_below_the_system_call(self):
        kernel_text = set()
        with open("/proc/kallsyms") as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 3 and fields[1] in "tTwW":
                    kernel_text.add(fields[2])

        def check(run):
            reader = {s: n for s, n in run.stacks.items() if "read_zeros (record_native_share.py:" in s}
            total = sum(reader.values())
            self.assertGreater(total, 100, "[%s] %d samples of the reader" % (run.label, total))
            in_kernel = syscalls = 0
            truncated = []  # kernel parts the kernel's own unwinder cut short
            for stack, count in reader.items():
                frames = stack.split(";")
                kernel = [i for i, f in enumerate(frames) if f.endswith(" [kernel]")]
                if not kernel:
                    continue
                in_kernel += count
                first = kernel[0]
                self.assertEqual(kernel, list(range(first, len(frames))),
                                 "[%s] kernel frames not at the leaf: %s" % (run.label, stack))
                # Entered by a system call (from libc) or an interrupt. The
                # kernel's unwinder itself sometimes stops early (a sample on a
                # retpoline thunk gave one frame in a CI run); such a part is
                # still at the leaf and made of kernel text, and must stay rare.
                entry = frames[first]
                if not entry.startswith(("entry_SYSCALL", "asm_")):
                    truncated.append((count, stack))
                if entry.startswith("entry_SYSCALL"):
                    self.assertRegex(frames[first - 1], r" \(libc\.so\.6\)$", "[%s] %s" % (run.label, stack))
                    syscalls += count
                unknown = [f for f in frames[first:] if f[:-len(" [kernel]")] not in kernel_text]
                self.assertFalse(unknown, "[%s] not in /proc/kallsyms: %s" % (run.label, unknown))
            self.assertGreater(syscalls, total // 2, "[%s] %d of the reader's %d samples in a system "
                               "call (%d in the kernel)" % (run.label, syscalls, total, in_kernel))
            cut = sum(count for count, _ in truncated)
            self.assertLessEqual(cut, max(1, in_kernel // 100),
                                 "[%s] %d of %d kernel parts do not start at an entry point, e.g. %s" % (
                                     run.label, cut, in_kernel, truncated[0][1] if truncated else ""))
        self.each_run(check)

    def test_jit_frames_named_and_merged(self):
        wanted = [i for i in INTERPRETERS if i.version and i.version >= (3, 14) and not i.pidns]
        if not wanted:
            if {"3.14", "3.15"} & set(lib.required_pythons()):
                self.fail("PYHANG_REQUIRE_PYTHONS wants 3.14/3.15, none was found")
            self.skipTest("no CPython 3.14+ here")
        for interpreter in wanted:
            run = JIT_RUNS[interpreter.label]
            with self.subTest(interpreter=interpreter.label):
                if run.error:
                    self.fail("[%s] %s" % (run.label, run.error))
                stacks = self.burner_stacks(run)
                jitted = {s: n for s, n in stacks.items() if JIT_FRAME in s.split(";")}
                print("JIT interpreter=%s %d of %d burner samples in JIT code" % (
                    interpreter.label, sum(jitted.values()), sum(stacks.values())))
                self.assertGreater(sum(jitted.values()), 0, "[%s] no %s frame with PYTHON_JIT=1" % (
                    run.label, JIT_FRAME))
                for stack in jitted:
                    frames = stack.split(";")
                    outside = frames[frames.index(JIT_FRAME) - 1]
                    self.assertRegex(outside, r"\.py:\d+\)$", "[%s] JIT code not run by a Python frame: %s"
                                     % (run.label, stack))
                total = sum(stacks.values())
                in_c = sum(n for s, n in stacks.items() if s.split(";")[-1] == "native_burn (libnative.so)")
                truth = 100.0 * sum(t["c_seconds"] for t in run.truth.values()) / sum(
                    t["all_seconds"] for t in run.truth.values())
                self.assertLessEqual(abs(100.0 * in_c / total - truth), SHARE_TOLERANCE,
                                     "[%s] with the JIT: native_burn %.1f%%, the workload timed %.1f%%" % (
                                         run.label, 100.0 * in_c / total, truth))

    def test_native_needs_bpf(self):
        result = lib.run_pyhang(["record", "-p", os.getpid(), "--native", "--sampler", "procfs",
                                 "-d", "1", "-o", os.path.join(lib.temp_dir("pyhang-rn-"), "x.svg")])
        self.assertEqual(lib.one_line_error_problems(result, 2), [])


if __name__ == "__main__":
    unittest.main()
