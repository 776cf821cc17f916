"""`pyhang dump --pid PID --native` on live processes, against the truth.

Every supported interpreter found (pyhang_testlib's discovery: pyenv's,
Debian's python3, the sid root's 3.14/3.15, their pid-namespace twins)
runs tests/workloads/native_scenarios.py: a thread spinning in C, one
blocked in Lock.acquire, one in time.sleep, one in socket.recv, one gone
Python -> C -> Python -> C and blocked there, and a heartbeat. pyhang
copies the native stacks with BPF while everything runs; right after,
`gdb -p PID -batch -ex 'thread apply all bt'` stops the process and gives
its view (the host's gdb, told the sid root's files for its interpreters). Checked:
- Python frames exact against sys._current_frames() (the workload's);
- native frames named as gdb names them, frame for frame, for at least
  MIN_GDB_MATCH of gdb's frames over all interpreters (tests/integration/
  gdb_native.py aligns them; the eval loop's frame is where Python frames go);
- the spinning thread's innermost native function is gdb's frame #0;
- each blocked thread's kernel frames are on top, as the kernel lists them
  in /proc/PID/task/TID/stack read right after;
- the target was not stopped: a C heartbeat thread (libnative.c, 0.5 ms
  beats, no GIL, real-time priority so that no busy thread delays it)
  sees no gap over MAX_C_GAP_S while pyhang runs, in the best of
  STOP_REPEATS dumps (this VM stalls now and then by itself); a Python
  heartbeat (which waits for the GIL the C loop's switches give it) stays
  under MAX_GAP_S. A ptrace stop of the process would stop both, every
  time, for far longer.

And a library deleted after the process loaded it (as an upgrade does)
still names its frames (read through /proc/PID/map_files): the names are
the library's own symbols (nm), innermost first.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_native_live
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

import gdb_native
import pyhang_testlib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "native_scenarios.py")
LIBNATIVE_C = os.path.join(lib.WORKLOADS, "libnative.c")
MIN_GDB_MATCH = 0.95
MAX_GAP_S = 0.020   # a 1 ms Python heartbeat on a loaded 2-CPU VM; a stop is far longer
MAX_C_GAP_S = 0.005  # the bar, for the heartbeat that needs no GIL
# A stop by pyhang would show in every dump; this VM's own hiccups (its
# vCPUs descheduled for ~10 ms, seen with nothing running) in few: the bars
# hold for the best of STOP_REPEATS dumps, and every gap is printed.
STOP_REPEATS = 5
RUNS = {}
INTERPRETERS = []
DELETED = {}  # "dump": the JSON of dump --native, "error"
DELETED_LIBRARY_SCRIPT = """
import ctypes, os, sys, threading
lib = ctypes.CDLL(sys.argv[1])
os.unlink(sys.argv[1])
threading.Thread(target=lib.native_spin, args=(1,), name="c-loop", daemon=True).start()
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(threading.get_native_id()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
threading.Event().wait()
"""
LIBRARY = []


class Gaps:
    """The heartbeats' longest gaps (s) during one dump --native."""

    def __init__(self, fields):
        self.python, self.c, self.c_before = (float(x) for x in fields[:3])
        self.c_realtime = fields[3] == "1"


class Run:
    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.error = None
        self.truth = None
        self.dump = None
        self.gaps = []  # Gaps of each of the STOP_REPEATS dumps
        self.kernel = {}  # tid: /proc/PID/task/TID/stack's functions
        self.gdb = None  # {tid: [gdb_native.Frame]}

    @property
    def label(self):
        return "%s (%s)" % (self.interpreter.label, self.interpreter.where())


def gdb_argv(interpreter, pid):
    """The host's gdb on the live process. For an interpreter in another
    root it reads the files as the process sees them (sysroot
    /proc/PID/root: its root and its mounts, debug files included) and is
    told the executable, which gdb would look up inside the root. (sid's
    own gdb, attached from inside the chroot, unwinds garbage.)"""
    argv = ["gdb", "-nx", "-batch", "-iex", "set auto-load python-scripts off"]
    if interpreter.root is not None:
        root = "/proc/%d/root" % pid
        argv += ["-iex", "set sysroot " + root,
                 "-iex", "set debug-file-directory " + root + "/usr/lib/debug",
                 "/proc/%d/exe" % pid]
    return argv + ["-ex", "set pagination off", "-ex", "set width 0",
                   "-ex", "set print frame-arguments none", "-p", str(pid),
                   "-ex", "thread apply all bt"]


def observe(interpreter, directory):
    run = Run(interpreter)
    if interpreter.error:
        run.error = "the interpreter cannot be used: " + interpreter.error
        return run
    work = os.path.join(directory, interpreter.label)
    os.makedirs(work, exist_ok=True)
    truth_path = os.path.join(work, "truth.json")
    log = open(os.path.join(work, "workload.log"), "wb")
    proc = lib.spawn(interpreter.argv([WORKLOAD, truth_path, LIBRARY[0]]), stdout=log, stderr=log)
    try:
        lib.wait_for_file(truth_path, proc, 60, "its truth")
        with open(truth_path) as f:
            run.truth = json.load(f)
        pid = interpreter.target_pid(proc)
        ns_to_host = lib.ns_ids(pid)
        for thread in run.truth["threads"]:
            thread["tid"] = ns_to_host.get(thread["tid"], thread["tid"])
        spans = []
        for repeat in range(STOP_REPEATS):
            if repeat:
                # Room for the next dump's "before" span, with nothing running.
                time.sleep(spans[-1] - spans[-2] + 0.3)
            t0 = time.monotonic()
            result = lib.run_pyhang(["dump", "--pid", pid, "--native", "--json"])
            spans += [t0, time.monotonic()]
            if result.hung or result.returncode != 0:
                run.error = "pyhang failed: " + lib.describe(result)
                return run
            if repeat == 0:
                run.dump = json.loads(result.stdout.decode("utf-8"))
        # The kernel's own account of the blocked threads, right after (gdb,
        # which stops them, comes later).
        for thread in run.truth["threads"]:
            try:
                with open("/proc/%d/task/%d/stack" % (pid, thread["tid"])) as f:
                    run.kernel[thread["tid"]] = [line.split("] ", 1)[-1].split("+", 1)[0]
                                                 for line in f.read().splitlines() if line.strip()]
            except OSError:
                pass
        with open(os.path.join(work, "gap-question.tmp"), "w") as f:
            f.write(" ".join(repr(t) for t in spans))
        os.rename(os.path.join(work, "gap-question.tmp"), os.path.join(work, "gap-question"))
        lib.wait_for_file(os.path.join(work, "gap-answer"), proc, 30, "the heartbeat's answer")
        with open(os.path.join(work, "gap-answer")) as f:
            run.gaps = [Gaps(line.split()) for line in f.read().splitlines()]
        out = subprocess.run(gdb_argv(interpreter, pid), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=180).stdout.decode("utf-8", "replace")
        run.gdb = gdb_native.parse(out)
        if not run.gdb:
            run.error = "gdb printed no backtrace:\n" + out[-2000:]
    except (RuntimeError, lib.LaunchError, ValueError, OSError,
            subprocess.TimeoutExpired) as error:
        run.error = str(error)
    finally:
        lib.kill(proc)
        log.close()
    return run


def observe_deleted_library(interpreter, directory, library):
    """dump --native of a process spinning in a library deleted since it
    loaded it."""
    work = os.path.join(directory, "deleted-" + interpreter.label)
    os.makedirs(work)
    copy = os.path.join(work, "libnative-deleted.so")
    shutil.copy(library, copy)
    ready = os.path.join(work, "ready")
    proc = lib.spawn(interpreter.argv(["-c", DELETED_LIBRARY_SCRIPT, copy, ready]))
    try:
        lib.wait_for_file(ready, proc, 60, "its ready file")
        time.sleep(0.3)  # in the loop
        result = lib.run_pyhang(["dump", "--pid", interpreter.target_pid(proc), "--native", "--json"])
        if result.hung or result.returncode != 0:
            DELETED["error"] = "pyhang failed: " + lib.describe(result)
        else:
            DELETED["dump"] = json.loads(result.stdout.decode("utf-8"))
    except (RuntimeError, lib.LaunchError, ValueError, OSError) as error:
        DELETED["error"] = str(error)
    finally:
        lib.kill(proc)


def setUpModule():
    lib.pyhang_binary()
    directory = lib.temp_dir("pyhang-native-live-")
    library = os.path.join(directory, "libnative.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-g", "-O1", "-o", library, LIBNATIVE_C], check=True)
    LIBRARY.append(library)
    INTERPRETERS[:] = lib.discover_interpreters_without_venvs()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {i.label: pool.submit(observe, i, directory) for i in INTERPRETERS}
        for label, future in futures.items():
            RUNS[label] = future.result()
    if INTERPRETERS:
        observe_deleted_library(INTERPRETERS[0], directory, library)


def tearDownModule():
    lib.kill_all()


class NativeLiveTest(unittest.TestCase):
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

    def threads_of(self, run):
        return {t.get("tid"): t for t in run.dump.get("threads", [])}

    def test_python_frames_exact(self):
        def check(run):
            threads = self.threads_of(run)
            problems = []
            for truth in run.truth["threads"]:
                got = threads.get(truth["tid"])
                if got is None:
                    problems.append("thread %s %r missing" % (truth["tid"], truth["name"]))
                    continue
                python = [{k: f.get(k) for k in ("function", "file", "line")}
                          for f in got.get("frames", []) if f.get("kind") == "python"]
                if python != truth["frames"]:
                    problems.append("thread %r: Python frames %s, the interpreter's %s" % (
                        truth["name"], python[:3], truth["frames"][:3]))
            if problems:
                self.fail("[%s] %s" % (run.label, "\n  ".join(problems)))
        self.each_run(check)

    def test_native_frames_like_gdb(self):
        counts = {"matched": 0, "total": 0}

        def check(run):
            threads = self.threads_of(run)
            run_matched = run_total = 0
            differences = []
            for truth in run.truth["threads"]:
                ours = [f.get("function") or gdb_native.UNKNOWN
                        for f in threads.get(truth["tid"], {}).get("frames", [])
                        if f.get("kind") == "native"]
                theirs = [f.function for f in run.gdb.get(truth["tid"], [])
                          if gdb_native.normalize(f.function) != gdb_native.EVAL_LOOP]
                good, count, mismatches = gdb_native.compare(ours, theirs)
                run_matched += good
                run_total += count
                differences += ["%r: %s" % (truth["name"], m) for m in mismatches[:2]]
                if truth["name"] == "c-loop" and ours and theirs and \
                        gdb_native.normalize(ours[0]) != gdb_native.normalize(theirs[0]):
                    self.fail("[%s] the C loop's innermost function is %r, gdb says %r" % (
                        run.label, ours[0], theirs[0]))
            sys.stderr.write("live --native like gdb's [%s]: %d of %d (%.1f%%)\n" % (
                run.label, run_matched, run_total, 100.0 * run_matched / max(run_total, 1)))
            if run_total == 0 or run_matched < 0.9 * run_total:
                self.fail("[%s] native frames unlike gdb's (%d of %d):\n  %s" % (
                    run.label, run_matched, run_total, "\n  ".join(differences[:10])))
            counts["matched"] += run_matched
            counts["total"] += run_total
        self.each_run(check)
        matched, total = counts["matched"], counts["total"]
        sys.stderr.write("live --native like gdb's, all interpreters: %d of %d (%.1f%%)\n" % (
            matched, total, 100.0 * matched / max(total, 1)))
        self.assertGreaterEqual(matched, MIN_GDB_MATCH * total)

    def test_kernel_frames_of_blocked_threads(self):
        def check(run):
            threads = self.threads_of(run)
            compared = 0
            for truth in run.truth["threads"]:
                if truth["name"] == "c-loop" or not run.kernel.get(truth["tid"]):
                    continue  # running: no kernel stack to show
                frames = threads.get(truth["tid"], {}).get("frames", [])
                kernel = [f.get("function") for f in frames if f.get("kind") == "kernel"]
                self.assertEqual(kernel, run.kernel[truth["tid"]], "[%s] thread %r" % (run.label, truth["name"]))
                self.assertEqual([f.get("kind") for f in frames[:len(kernel)]], ["kernel"] * len(kernel),
                                 "[%s] kernel frames not innermost: %r" % (run.label, truth["name"]))
                compared += 1
            self.assertGreaterEqual(compared, 3, "[%s] the kernel showed stacks of %d blocked threads" % (
                run.label, compared))
        self.each_run(check)

    def test_target_never_stopped(self):
        shown = []

        def check(run):
            self.assertEqual(len(run.gaps), STOP_REPEATS, "[%s] %d answers" % (run.label, len(run.gaps)))
            self.assertTrue(all(g.c_realtime for g in run.gaps),
                            "[%s] the C heartbeat got no real-time priority (not root?)" % run.label)
            self.assertTrue(all(g.python >= 0 and g.c >= 0 for g in run.gaps),
                            "[%s] a heartbeat saw no beat while pyhang ran" % run.label)
            shown.append("%s: C %s (before: %s), Python %s" % (
                run.interpreter.label, "/".join("%.1f" % (g.c * 1000) for g in run.gaps),
                "/".join("%.1f" % (g.c_before * 1000) for g in run.gaps),
                "/".join("%.1f" % (g.python * 1000) for g in run.gaps)))
            best_c = min(g.c for g in run.gaps)
            best_python = min(g.python for g in run.gaps)
            self.assertLessEqual(best_c, MAX_C_GAP_S, "[%s] the C heartbeat stopped for at least %.2f ms "
                                 "in each of %d dumps" % (run.label, best_c * 1000, STOP_REPEATS))
            self.assertLessEqual(best_python, MAX_GAP_S, "[%s] the heartbeat stopped for at least %.1f ms "
                                 "in each of %d dumps" % (run.label, best_python * 1000, STOP_REPEATS))
        self.each_run(check)
        sys.stderr.write("heartbeats' longest gaps (ms) in %d dumps --native each:\n  %s\n" % (
            STOP_REPEATS, "\n  ".join(shown)))


class DeletedLibraryTest(unittest.TestCase):
    def test_frames_of_a_deleted_library_are_named(self):
        if not INTERPRETERS:
            self.fail("no supported CPython found")
        self.assertNotIn("error", DELETED, DELETED.get("error"))
        symbols = subprocess.run(["nm", "--defined-only", LIBRARY[0]], stdout=subprocess.PIPE,
                                 check=True).stdout.decode().split()
        self.assertIn("native_spin_inner", symbols)
        self.assertIn("native_spin", symbols)
        loop = [t for t in DELETED["dump"]["threads"] if t.get("name") == "c-loop"]
        self.assertEqual(len(loop), 1, [t.get("name") for t in DELETED["dump"]["threads"]])
        native = [(f.get("function"), f.get("module")) for f in loop[0]["frames"]
                  if f.get("kind") == "native"]
        self.assertEqual(native[:2], [("native_spin_inner", "libnative-deleted.so"),
                                      ("native_spin", "libnative-deleted.so")], native[:6])


if __name__ == "__main__":
    unittest.main()
