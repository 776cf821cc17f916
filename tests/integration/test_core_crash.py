"""`pyhang dump --core` on real cores, compared with the interpreter's and gdb's view.

Kernel-written cores (part 1): tests/workloads/crash_in_c.py crashes with
SIGSEGV in C, with RLIMIT_CORE unlimited in a temporary working directory
(core_pattern `core`: the kernel writes `core` or `core.PID` there), in two
modes: the main thread calls ctypes.string_at(0) (strlen(NULL)), and a
thread calls a ctypes.PyDLL function of tests/workloads/libcrash.c (built
here with `cc -shared -fPIC -g -O1`) that reads address 0 three C frames
down. Either way one thread holds a threading.Lock and another waits for it.
Before crashing, the workload writes the truth: every thread's id, name and
Python stack (sys._current_frames() of the blocked threads, and
traceback.extract_stack() taken on the very line of the crashing call). gdb
on the same core says what crashed and gives the native frames.

Checked for each core, on /usr/bin/python3, the newest and the oldest
pyenv CPython and the sid root's newest (chrooted, so pyhang and gdb need
--sysroot / set sysroot): SIGSEGV at address 0x0 in the thread that called
into C, listed first, its Python frames exactly the truth, the other
threads' too, the lock holder and waiter found, `crashed_in` gdb's frame #0
and file, and with --native every frame's kind, the crashing thread's
native frames from that function down, and how many of gdb's native frames
pyhang has (tests/integration/gdb_native.py; at least MIN_NATIVE_MATCH of
them). The same core compressed with zstd, xz and lz4, as a file and on
stdin, gives the same JSON but for core.file and core.compression.

Bad input (part 2): truncated cores, a core of `sleep`, random bytes, an
empty file, a directory, a missing path, an executable, and gcore cores of
a copied interpreter that was then deleted or replaced by another build:
one line on stderr starting "pyhang: ", exit 1, nothing on stdout, never a
signal; a replaced build says "build id"; --exe with the right copy works.

PYHANG_REQUIRE_PYTHONS (CI): an interpreter this module wants but cannot
find fails its tests instead of skipping them.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_core_crash
"""
import concurrent.futures
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import unittest

import gdb_native
import pyhang_testlib as lib

WORKLOAD = os.path.join(lib.WORKLOADS, "crash_in_c.py")
LIBCRASH_C = os.path.join(lib.WORKLOADS, "libcrash.c")
MODES = ("string_at", "pydll")
MIN_NATIVE_MATCH = 0.9
CRASH_TIMEOUT_S = 90
EXIT_ERROR = 1
# (core.compression, command writing the compressed core to stdout)
COMPRESSORS = (("zstd", ["zstd", "-q", "-c"]), ("xz", ["xz", "-q", "-0", "-T1", "-c"]),
               ("lz4", ["lz4", "-q", "-c"]))
SANITIZER_RE = re.compile(rb"Sanitizer|runtime error:|LeakSanitizer|Segmentation fault")
ADDRESS_RE = re.compile(r"0x[0-9a-f]+")
CRASHED_IN_RE = re.compile(r"^(.*) \(([^()]*)\)$")

CHOSEN = []     # [Interpreter]
MISSING = []    # why a wanted interpreter is not in CHOSEN
RUNS = {}       # (label, mode) -> CrashRun
TOTALS = {}     # "crashing" / "all" -> [matched, gdb_total]
LIBCRASH = []   # the built library's path, or the build error


def setUpModule():
    started = time.monotonic()
    lib.pyhang_binary()
    directory = lib.temp_dir("pyhang-core-it-")
    choose_interpreters()
    sys.stderr.write("core crash interpreters: %s%s\n" % (
        lib.describe_interpreters(CHOSEN),
        "; missing: %s" % "; ".join(MISSING) if MISSING else ""))
    LIBCRASH.append(build_libcrash(directory))
    jobs = [(i, mode) for i in CHOSEN for mode in MODES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {(i.label, mode): pool.submit(crash_and_dump, i, mode, directory)
                   for i, mode in jobs}
        for key, future in futures.items():
            RUNS[key] = future.result()
    sys.stderr.write("core crash runs took %.1f s (%d cores)\n" % (
        time.monotonic() - started, len(RUNS)))


def tearDownModule():
    lib.kill_all()
    for key, (matched, total) in sorted(TOTALS.items()):
        sys.stderr.write("native frames vs gdb, %s threads: %d of %d (%.1f%%)\n" % (
            key, matched, total, 100.0 * matched / max(total, 1)))


# --- interpreters ----------------------------------------------------------------

def choose_interpreters():
    """/usr/bin/python3, the newest and the oldest pyenv build, the sid
    root's newest (if there is one): lib's discovery, which itself fails
    on what PYHANG_REQUIRE_PYTHONS names but cannot find."""
    found = lib.discover_interpreters_without_venvs()
    host = [i for i in found if not i.pidns and i.root is None]
    system = [i for i in host if i.path == lib.SYSTEM_PYTHON]
    pyenv = sorted((i for i in host if i.label.startswith("pyenv-")), key=lambda i: i.version)
    sid = sorted((i for i in found if not i.pidns and i.root is not None),
                 key=lambda i: i.version or (0, 0))
    wanted = [("Debian's %s" % lib.SYSTEM_PYTHON, system[:1]),
              ("the newest pyenv CPython", pyenv[-1:]),
              ("an older pyenv CPython (%s)" % lib.versions_text(lib.supported_versions()),
               pyenv[:1] if len(pyenv) > 1 else [])]
    for what, interpreters in wanted:
        if interpreters:
            CHOSEN.append(interpreters[0])
        else:
            MISSING.append("%s: not found (%s)" % (what, lib.describe_interpreters(found)))
    CHOSEN.extend(sid[-1:])


def require_all_interpreters(test):
    """Missing interpreters: a failure under PYHANG_REQUIRE_PYTHONS, else a skip."""
    if MISSING:
        if lib.required_pythons():
            test.fail("PYHANG_REQUIRE_PYTHONS is set but %s" % "; ".join(MISSING))
        sys.stderr.write("\n  skipped: %s\n" % "; ".join(MISSING))
    if not CHOSEN:
        test.skipTest("no interpreter to crash")


def build_libcrash(directory):
    path = os.path.join(directory, "libcrash.so")
    argv = ["cc", "-shared", "-fPIC", "-g", "-O1", "-o", path, LIBCRASH_C]
    try:
        result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                timeout=120)
    except (OSError, subprocess.SubprocessError) as error:
        return RuntimeError("`%s` failed: %s" % (" ".join(argv), error))
    if result.returncode != 0:
        return RuntimeError("`%s` -> exit %d: %s" % (" ".join(argv), result.returncode,
                                                     result.stdout.decode()[-2000:]))
    return path


# --- running ----------------------------------------------------------------------

def unlimited_cores():
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def read_tail(path, limit=3000):
    try:
        with open(path, "rb") as f:
            return f.read()[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""


def find_core(directory, pid):
    """The kernel's `core` or `core.PID` in `directory`, or None."""
    for name in ("core.%d" % pid, "core"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    cores = [n for n in os.listdir(directory) if re.fullmatch(r"core(\.\d+)?", n)]
    return os.path.join(directory, cores[0]) if cores else None


def run_pyhang_stdin(args, stdin_path, timeout=lib.PYHANG_TIMEOUT_S):
    """lib.run_pyhang, with `stdin_path` as pyhang's stdin."""
    return lib.run_pyhang(args, timeout=timeout, stdin_path=stdin_path)


def parse_dump(result):
    """(JSON, None) for a clean success, else (None, why not)."""
    if result.hung or result.returncode != 0:
        return None, "pyhang failed: " + lib.describe(result)
    if result.stderr:
        return None, "pyhang succeeded but wrote to stderr: " + lib.describe(result)
    try:
        return json.loads(result.stdout.decode("utf-8")), None
    except ValueError as error:
        return None, "pyhang printed invalid JSON (%s): %s" % (error, lib.describe(result))


class CrashRun:
    """One crash under one interpreter: the truth, the core, pyhang's and gdb's views."""

    def __init__(self, interpreter, mode):
        self.interpreter = interpreter
        self.mode = mode
        self.error = None       # why there is nothing to compare
        self.truth = None
        self.core = None
        self.pyhang_flags = ["--sysroot", interpreter.root] if interpreter.root else []
        self.results = {}       # "json" | "native" | "text" | "zstd-file" | ... -> result
        self.dumps = {}         # "json" | "native" | "zstd-file" | ... -> parsed JSON
        self.dump_errors = {}
        self.gdb = None         # gdb_native.GdbCore
        self.gdb_error = None
        self.compressors = []   # the names whose CLI is here

    @property
    def label(self):
        return "%s %s (%s)" % (self.interpreter.label, self.mode, self.interpreter.where())

    def dump(self, key, args, stdin_path=None):
        argv = ["dump", "--core", args[0]] + self.pyhang_flags + list(args[1:])
        result = run_pyhang_stdin(argv, stdin_path) if stdin_path else lib.run_pyhang(argv)
        self.results[key] = result
        if "--json" in args:
            parsed, why = parse_dump(result)
            if parsed is None:
                self.dump_errors[key] = why
            else:
                self.dumps[key] = parsed


def crash(interpreter, mode, directory, truth_path, extra_args=(), env=None):
    """Runs the workload until it crashes: (core path, truth) or raises RuntimeError."""
    os.makedirs(directory, exist_ok=True)
    log_path = os.path.join(directory, "workload.log")
    with open(log_path, "wb") as log:
        proc = lib.spawn(interpreter.argv([WORKLOAD, mode, truth_path] + list(extra_args)),
                         stdout=log, stderr=log, cwd=directory, preexec_fn=unlimited_cores,
                         env=env or lib.WORKLOAD_ENV)
    try:
        proc.wait(timeout=CRASH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        lib.kill(proc)
        raise RuntimeError("the workload did not crash within %ss; output:\n%s" % (
            CRASH_TIMEOUT_S, read_tail(log_path)))
    lib.kill(proc)
    if proc.returncode != -signal.SIGSEGV:
        raise RuntimeError("the workload exited with %s, not by SIGSEGV; output:\n%s" % (
            proc.returncode, read_tail(log_path)))
    try:
        with open(truth_path, encoding="utf-8") as f:
            truth = json.load(f)
    except (OSError, ValueError) as error:
        raise RuntimeError("no truth from the workload (%s); output:\n%s" % (
            error, read_tail(log_path)))
    core = find_core(directory, proc.pid)
    if core is None:
        raise RuntimeError("no core in %s after the SIGSEGV (core_pattern %r; ulimit set "
                           "to unlimited in the child)" % (directory, read_tail(
                               "/proc/sys/kernel/core_pattern")))
    return core, truth


def crash_and_dump(interpreter, mode, parent):
    run = CrashRun(interpreter, mode)
    if interpreter.error:
        run.error = "the interpreter cannot be used: " + interpreter.error
        return run
    library = LIBCRASH[0]
    if mode == "pydll" and isinstance(library, Exception):
        run.error = "libcrash.so could not be built: %s" % library
        return run
    directory = os.path.join(parent, "%s-%s" % (interpreter.label, mode))
    try:
        run.core, run.truth = crash(interpreter, mode, directory,
                                    os.path.join(directory, "truth.json"),
                                    [library] if mode == "pydll" else [])
    except (RuntimeError, lib.LaunchError) as error:
        run.error = str(error)
        return run
    run.dump("json", [run.core, "--json"])
    run.dump("native", [run.core, "--json", "--native"])
    run.dump("text", [run.core])
    try:
        run.gdb = gdb_native.analyze(interpreter.host_path, run.core, interpreter.root,
                                     solib_dirs=[os.path.dirname(library)]
                                     if mode == "pydll" else [])
    except gdb_native.GdbError as error:
        run.gdb_error = str(error)
    compressed_dir = os.path.join(directory, "compressed")
    os.makedirs(compressed_dir, exist_ok=True)
    for name, command in COMPRESSORS:
        if shutil.which(command[0]) is None:
            continue
        run.compressors.append(name)
        path = os.path.join(compressed_dir, "crash." + name)
        with open(path, "wb") as out:
            done = subprocess.run(command + [run.core], stdout=out, stderr=subprocess.PIPE,
                                  timeout=300)
        if done.returncode != 0:
            run.dump_errors[name + "-file"] = "`%s %s` failed: %r" % (
                " ".join(command), run.core, done.stderr[-500:])
            continue
        run.dump(name + "-file", [path, "--json", "--native"])
        run.dump(name + "-stdin", ["-", "--json", "--native"], stdin_path=path)
        os.unlink(path)
    return run


# --- comparing ------------------------------------------------------------------------

def python_frames(thread):
    return [{"function": f.get("function"), "file": f.get("file"), "line": f.get("line")}
            for f in thread.get("frames", []) if f.get("kind", "python") == "python"]


def frames_text(frames):
    return "\n".join("      %s (%s:%s)" % (f["function"], f["file"], f["line"]) for f in frames)


def frame_problems(what, got, want):
    if got == want:
        return []
    return ["%s: Python frames differ from the interpreter's\n    pyhang:\n%s\n    truth:\n%s"
            % (what, frames_text(got) or "      (none)", frames_text(want) or "      (none)")]


def native_names(thread):
    return [f.get("function") or gdb_native.UNKNOWN for f in thread.get("frames", [])
            if f.get("kind") == "native"]


class CoreCrashTest(unittest.TestCase):

    def each_run(self, key, check):
        """check(run, dump) in a subTest per run, with its `key` dump; the
        subTest fails where that dump is missing."""
        require_all_interpreters(self)
        for (label, mode), run in sorted(RUNS.items()):
            with self.subTest(interpreter=label, mode=mode):
                if run.error:
                    self.fail("%s: %s" % (run.label, run.error))
                if key not in run.dumps:
                    self.fail("%s: %s" % (run.label, run.dump_errors.get(key, "no dump")))
                check(run, run.dumps[key])

    @staticmethod
    def by_tid(dump):
        return {t.get("tid"): t for t in dump.get("threads", [])}

    def test_dumps_succeed(self):
        """--json, --json --native and the text form: exit 0, nothing on stderr."""
        def check(run, _):
            problems = ["%s: %s" % item for item in sorted(run.dump_errors.items())]
            text = run.results.get("text")
            if text is not None:
                if text.returncode != 0 or text.stderr or not text.stdout.strip():
                    problems.append("text form: " + lib.describe(text))
                elif str(run.truth["crashing"]["tid"]) not in text.stdout.decode("utf-8",
                                                                                 "replace"):
                    problems.append("text form does not name the crashing thread %d: %s" % (
                        run.truth["crashing"]["tid"], lib.describe(text)))
            if problems:
                self.fail("%s:\n%s" % (run.label, "\n".join(problems)))
        self.each_run("json", check)

    def test_signal_and_fault_address(self):
        def check(run, dump):
            core = dump.get("core") or {}
            want = {"signal": int(signal.SIGSEGV), "signal_name": signal.SIGSEGV.name,
                    "fault_address": "0x0", "crashing_tid": run.truth["crashing"]["tid"],
                    "threads": len(run.truth["threads"]) + 1, "truncated": False,
                    "file": run.core, "compression": "none"}
            got = {key: core.get(key, "(absent)") for key in want}
            self.assertEqual(got, want, "%s: core %s" % (run.label, core))
            self.assertEqual(dump.get("pid"), run.truth["pid"], run.label)
            self.assertTrue(str(dump.get("python_version", "")).startswith(
                "%d.%d." % tuple(run.truth["version_info"][:2])), run.label)
        self.each_run("json", check)

    def test_crashing_thread_first_with_exact_frames(self):
        def check(run, dump):
            truth = run.truth["crashing"]
            threads = dump.get("threads") or [{}]
            first = threads[0]
            self.assertEqual(first.get("tid"), truth["tid"],
                             "%s: the crashing thread %d (%s) is not listed first: %s" % (
                                 run.label, truth["tid"], truth["name"],
                                 [(t.get("tid"), t.get("name")) for t in threads]))
            self.assertEqual(first.get("name"), truth["name"], run.label)
            problems = frame_problems("%s: crashing thread %d" % (run.label, truth["tid"]),
                                      python_frames(first), truth["frames"])
            if problems:
                self.fail(problems[0])
        self.each_run("json", check)

    def test_other_threads_exact_frames(self):
        def check(run, dump):
            threads = self.by_tid(dump)
            problems = []
            for truth in run.truth["threads"]:
                thread = threads.get(truth["tid"])
                what = "%s: thread %d %r (%s)" % (run.label, truth["tid"], truth["name"],
                                                  truth["role"])
                if thread is None:
                    problems.append("%s is missing from %s" % (what, sorted(threads, key=str)))
                    continue
                if thread.get("name") != truth["name"]:
                    problems.append("%s: name %r" % (what, thread.get("name")))
                problems += frame_problems(what, python_frames(thread), truth["frames"])
            wanted = {t["tid"] for t in run.truth["threads"]} | {run.truth["crashing"]["tid"]}
            extra = set(threads) - wanted
            if extra:
                problems.append("%s: threads that the process did not have: %s" % (
                    run.label, sorted(extra, key=str)))
            if problems:
                self.fail("\n".join(problems))
        self.each_run("json", check)

    def test_lock_holder_and_waiter(self):
        def check(run, dump):
            threads = self.by_tid(dump)
            holder_tid = run.truth["lock"]["holder_tid"]
            waiter_tid = run.truth["lock"]["waiter_tid"]
            waiter = threads.get(waiter_tid, {})
            waiting = waiter.get("waiting_for") or {}
            self.assertEqual(waiting.get("held_by"), holder_tid,
                             "%s: the lock-waiter %d should wait for a lock held by the "
                             "lock-holder %d: %s" % (run.label, waiter_tid, holder_tid,
                                                     {k: v for k, v in waiter.items()
                                                      if k != "frames"}))
            holder = threads.get(holder_tid, {})
            holds = [h.get("address") for h in holder.get("holds", [])]
            self.assertIn(waiting.get("address"), holds,
                          "%s: the lock-holder %d does not list the lock %s among what it "
                          "holds: %s" % (run.label, holder_tid, waiting.get("address"),
                                         {k: v for k, v in holder.items() if k != "frames"}))
        self.each_run("json", check)

    def test_crashed_in_is_gdbs_frame_zero(self):
        """core.crashed_in is "FUNCTION (MODULE)": gdb's frame #0 function
        (its pc in hex where gdb has no name either) and the basename of
        the file the core maps there."""
        def check(run, dump):
            if run.gdb is None:
                self.fail("%s: gdb: %s" % (run.label, run.gdb_error))
            crashed_in = (dump.get("core") or {}).get("crashed_in")
            match = CRASHED_IN_RE.match(crashed_in or "")
            self.assertTrue(match, "%s: crashed_in %r is not \"FUNCTION (MODULE)\"" % (
                run.label, crashed_in))
            self.assertEqual(run.gdb.crashing_tid, run.truth["crashing"]["tid"],
                             "%s: gdb's current thread" % run.label)
            want = run.gdb.crash_function
            if want == gdb_native.UNKNOWN:
                want = "0x%x" % run.gdb.crash_pc
            self.assertEqual((gdb_native.normalize(match.group(1)), match.group(2)),
                             (gdb_native.normalize(want), run.gdb.crash_module),
                             "%s: crashed_in %r; gdb: frame #0 is %s at 0x%x in %s" % (
                                 run.label, crashed_in, run.gdb.crash_function,
                                 run.gdb.crash_pc, run.gdb.crash_module))
            if run.mode == "pydll":
                self.assertEqual(match.group(2), os.path.basename(LIBCRASH[0]), run.label)
        self.each_run("json", check)

    def test_native_frames(self):
        """--native: kinds and native frame fields; the Python frames the
        same as without it; the crashing thread from gdb's frame #0 down;
        at least MIN_NATIVE_MATCH of gdb's native frames of the crashing thread."""
        report = []

        def check(run, dump):
            if run.gdb is None:
                self.fail("%s: gdb: %s" % (run.label, run.gdb_error))
            problems = []
            plain = self.by_tid(run.dumps.get("json", {}))
            crashing_tid = run.truth["crashing"]["tid"]
            for thread in dump.get("threads", []):
                tid = thread.get("tid")
                for frame in thread.get("frames", []):
                    kind = frame.get("kind")
                    if kind == "native":
                        function, module = frame.get("function"), frame.get("module")
                        if not (function is None or (isinstance(function, str) and function)) \
                                or not isinstance(module, str) or "/" in module or \
                                not ADDRESS_RE.fullmatch(str(frame.get("address"))):
                            problems.append("thread %s: bad native frame %s" % (tid, frame))
                    elif kind != "python":
                        problems.append("thread %s: frame of kind %r: %s" % (tid, kind, frame))
                if tid in plain and python_frames(thread) != python_frames(plain[tid]):
                    problems += frame_problems("thread %s with --native" % tid,
                                               python_frames(thread), python_frames(plain[tid]))
                gdb_frames = run.gdb.threads.get(tid)
                if gdb_frames is None:
                    problems.append("thread %s: gdb has no such thread (%s)" % (
                        tid, sorted(run.gdb.threads)))
                    continue
                matched, total, mismatches = gdb_native.compare(
                    native_names(thread), gdb_native.names(gdb_frames))
                for key in ("all",) + (("crashing",) if tid == crashing_tid else ()):
                    counts = TOTALS.setdefault(key, [0, 0])
                    counts[0] += matched
                    counts[1] += total
                report.append("  %s thread %s%s: %d of %d gdb frames%s" % (
                    run.label, tid, " (crashing)" if tid == crashing_tid else "", matched,
                    total, "; " + "; ".join(mismatches) if mismatches else ""))
                if tid != crashing_tid:
                    continue
                frames = thread.get("frames") or [{}]
                if frames[0].get("kind") != "native" or gdb_native.normalize(
                        frames[0].get("function")) != gdb_native.normalize(
                            run.gdb.crash_function):
                    problems.append("crashing thread: innermost frame %s, gdb's #0 is %s"
                                    % (frames[0], run.gdb.crash_function))
                if matched < MIN_NATIVE_MATCH * total:
                    problems.append("crashing thread: pyhang has %d of gdb's %d native "
                                    "frames (< %d%%): %s" % (matched, total,
                                                             MIN_NATIVE_MATCH * 100,
                                                             "; ".join(mismatches)))
            if problems:
                self.fail("%s:\n%s" % (run.label, "\n".join(problems)))

        try:
            self.each_run("native", check)
        finally:
            sys.stderr.write("\n  native frames vs gdb:\n%s\n" % "\n".join(report))

    def test_whole_core_native_match(self):
        """At least MIN_NATIVE_MATCH of gdb's native frames over every thread of a core."""
        def check(run, dump):
            if run.gdb is None:
                self.fail("%s: gdb: %s" % (run.label, run.gdb_error))
            matched = total = 0
            for thread in dump.get("threads", []):
                gdb_frames = run.gdb.threads.get(thread.get("tid"), [])
                m, t, _ = gdb_native.compare(native_names(thread), gdb_native.names(gdb_frames))
                matched, total = matched + m, total + t
            sys.stderr.write("\n  %s: %d of %d gdb native frames (%.1f%%)" % (
                run.label, matched, total, 100.0 * matched / max(total, 1)))
            self.assertGreaterEqual(matched, MIN_NATIVE_MATCH * total,
                                    "%s: pyhang has %d of gdb's %d native frames" % (
                                        run.label, matched, total))
        self.each_run("native", check)

    def test_compressed_and_stdin_same_json(self):
        def check(run, reference):
            if not run.compressors:
                self.skipTest("none of zstd, xz, lz4 is installed")
            problems = []
            for name in run.compressors:
                for how in ("file", "stdin"):
                    key = "%s-%s" % (name, how)
                    dump = run.dumps.get(key)
                    if dump is None:
                        problems.append("%s: %s" % (key, run.dump_errors.get(key)))
                        continue
                    core = dict(dump.get("core") or {})
                    want_file = "-" if how == "stdin" else os.path.join(
                        os.path.dirname(run.core), "compressed", "crash." + name)
                    if core.get("compression") != name or core.get("file") != want_file:
                        problems.append("%s: core.compression %r, core.file %r (expected %r, %r)"
                                        % (key, core.get("compression"), core.get("file"),
                                           name, want_file))
                    same = dict(dump, core=dict(core, file=None, compression=None))
                    want = dict(reference, core=dict(reference["core"], file=None,
                                                     compression=None))
                    if same != want:
                        problems.append("%s: the JSON differs from the uncompressed core's:\n"
                                        "%s" % (key, json_diff(same, want)))
            if problems:
                self.fail("%s:\n%s" % (run.label, "\n".join(problems)))
        self.each_run("native", check)


def json_diff(got, want, path="", limit=10):
    """The first differences between two JSON values, as lines."""
    out = []

    def walk(a, b, where):
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key, "(absent)"), b.get(key, "(absent)"), "%s.%s" % (where, key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, "%s[%d]" % (where, i))
        elif a != b:
            out.append("    %s: %r vs %r" % (where or ".", a, b))

    walk(got, want, path)
    return "\n".join(out)


# --- part 2: bad input -------------------------------------------------------------------

def build_id(path):
    """The GNU build id of an ELF file, from readelf, or None."""
    try:
        out = subprocess.run(["readelf", "-n", path], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"Build ID: ([0-9a-f]+)", out)
    return match.group(1) if match else None


def gcore(pid, prefix):
    """gdb's gcore of `pid`: the core's path."""
    result = subprocess.run(["gcore", "-o", prefix, str(pid)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    path = "%s.%d" % (prefix, pid)
    if result.returncode != 0 or not os.path.isfile(path):
        raise AssertionError("`gcore -o %s %d` -> exit %d: %s" % (
            prefix, pid, result.returncode, result.stdout.decode("utf-8", "replace")[-2000:]))
    return path


def run_root(label):
    """The sysroot a part-1 run's core needs (its interpreter's root), or None."""
    for run in RUNS.values():
        if run.label == label:
            return run.interpreter.root
    return None


class CoreErrorTest(unittest.TestCase):
    """Bad cores: a clean one-line error (exit 1), never a crash or a hang."""

    @classmethod
    def setUpClass(cls):
        cls.directory = lib.temp_dir("pyhang-core-errors-")

    def assert_one_line_error(self, args, context, stdin_path=None, mention=None):
        argv = ["dump", "--core"] + list(args)
        result = run_pyhang_stdin(argv, stdin_path) if stdin_path else lib.run_pyhang(argv)
        problems = lib.one_line_error_problems(result, EXIT_ERROR)
        if not result.stderr.startswith(b"pyhang: "):
            problems.append("stderr does not start with \"pyhang: \"")
        if SANITIZER_RE.search(result.stderr):
            problems.append("sanitizer or crash output on stderr")
        if mention and not re.search(mention, result.stderr.decode("utf-8", "replace"), re.I):
            problems.append("stderr does not mention %r" % mention)
        if problems:
            self.fail("%s: %s\n%s" % (context, "; ".join(problems), lib.describe(result)))
        return result

    def real_cores(self):
        """The kernel cores of part 1, else a fresh one."""
        cores = [(run.label, run.core) for _, run in sorted(RUNS.items())
                 if run.core and not run.error]
        if cores:
            return cores
        interpreters = CHOSEN or lib.in_host_namespace(lib.discover_interpreters_without_venvs())
        if not interpreters:
            self.fail("no interpreter to make a core with")
        directory = os.path.join(self.directory, "fresh")
        core, _ = crash(interpreters[0], "string_at", directory,
                        os.path.join(directory, "truth.json"))
        return [(interpreters[0].label, core)]

    def test_truncated_cores(self):
        """Every kernel core of part 1 cut to 64 KiB and to half its size."""
        for label, core in self.real_cores():
            size = os.path.getsize(core)
            for name, length in (("first 64 KiB", 64 * 1024), ("first half", size // 2)):
                with self.subTest(core=label, truncation=name):
                    path = os.path.join(self.directory, "truncated")
                    with open(core, "rb") as src, open(path, "wb") as dst:
                        dst.write(src.read(length))
                    flags = ["--sysroot", run_root(label)] if run_root(label) else []
                    try:
                        for more in (["--json"], ["--json", "--native"], []):
                            self.assert_one_line_error(
                                [path] + flags + more, "%s (%d of %d bytes) of %s (%s), %s" % (
                                    name, length, size, core, label, more))
                    finally:
                        os.unlink(path)

    def test_core_of_a_program_that_is_not_python(self):
        sleep = lib.spawn(["sleep", "100"])
        try:
            want = os.path.realpath(shutil.which("sleep"))
            deadline = time.monotonic() + 10
            while os.path.realpath("/proc/%d/exe" % sleep.pid) != want:
                self.assertLess(time.monotonic(), deadline, "sleep did not start")
                time.sleep(0.01)
            core = gcore(sleep.pid, os.path.join(self.directory, "sleep"))
        finally:
            lib.kill(sleep)
        for flags in (["--json"], ["--json", "--native"], []):
            self.assert_one_line_error([core] + flags, "gcore of `sleep 100`, %s" % flags)

    def test_not_a_core(self):
        rng = random.Random(20240601)
        random_path = os.path.join(self.directory, "random.bin")
        with open(random_path, "wb") as f:
            f.write(bytes(rng.getrandbits(8) for _ in range(256 * 1024)))
        empty = os.path.join(self.directory, "empty")
        open(empty, "wb").close()
        a_directory = os.path.join(self.directory, "a-directory")
        os.makedirs(a_directory, exist_ok=True)
        missing = os.path.join(self.directory, "no-such-core")
        executable = os.path.realpath(shutil.which("true") or "/bin/true")
        cases = [("random bytes", random_path, None), ("a zero-length file", empty, None),
                 ("a directory", a_directory, None), ("a nonexistent path", missing, None),
                 ("an ELF executable", executable, None),
                 ("random bytes on stdin", "-", random_path),
                 ("nothing on stdin", "-", empty)]
        for what, path, stdin_path in cases:
            with self.subTest(input=what):
                self.assert_one_line_error([path, "--json"], "%s (%s)" % (what, path),
                                           stdin_path=stdin_path)

    def test_interpreter_missing_or_replaced(self):
        """gcore of a --copies venv of /usr/bin/python3 (the interpreter is
        the copied binary), then: the copy deleted, the copy replaced by
        another build, and --exe pointing at the right one."""
        system = [i for i in CHOSEN if i.path == lib.SYSTEM_PYTHON] or \
            [i for i in lib.discover_interpreters_without_venvs() if i.path == lib.SYSTEM_PYTHON]
        if not system:
            if lib.required_pythons():
                self.fail("PYHANG_REQUIRE_PYTHONS is set but %s is missing" % lib.SYSTEM_PYTHON)
            self.skipTest("%s is missing" % lib.SYSTEM_PYTHON)
        directory = os.path.join(self.directory, "venv-case")
        venv = os.path.join(directory, "venv")
        python = lib.make_venv(system[0].path, venv, copies=True)
        real_binary = os.path.realpath(python)
        truth_path = os.path.join(directory, "truth.json")
        # One malloc arena: a smaller gcore.
        env = dict(lib.WORKLOAD_ENV, MALLOC_ARENA_MAX="1")
        proc = lib.spawn([python, WORKLOAD, "block", truth_path], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while not os.path.exists(truth_path):
                if proc.poll() is not None or time.monotonic() > deadline:
                    self.fail("the block workload wrote no truth (exit %s): %r" % (
                        proc.poll(), proc.stderr.read() if proc.poll() is not None else ""))
                time.sleep(0.05)
            with open(truth_path, encoding="utf-8") as f:
                truth = json.load(f)
            while truth["recorder_tid"] in lib.tasks_of(proc.pid):
                self.assertLess(time.monotonic(), deadline, "the recorder did not exit")
                time.sleep(0.01)
            core = gcore(proc.pid, os.path.join(directory, "gcore"))
        finally:
            lib.kill(proc)

        def check_frames(result, context):
            dump, why = parse_dump(result)
            if dump is None and result.returncode == 0 and result.stderr:
                try:
                    dump, why = json.loads(result.stdout.decode("utf-8")), None
                except ValueError:
                    pass
            if dump is None:
                self.fail("%s: %s" % (context, why))
            threads = {t.get("tid"): t for t in dump.get("threads", [])}
            problems = []
            for thread in truth["threads"]:
                got = threads.get(thread["tid"])
                if got is None:
                    problems.append("thread %d (%s) missing" % (thread["tid"], thread["name"]))
                else:
                    problems += frame_problems("thread %d (%s)" % (thread["tid"], thread["role"]),
                                               python_frames(got), thread["frames"])
            if set(threads) != {t["tid"] for t in truth["threads"]}:
                problems.append("threads %s, the process had %s" % (
                    sorted(threads, key=str), sorted(t["tid"] for t in truth["threads"])))
            core_info = dump.get("core") or {}
            if core_info.get("crashing_tid") is not None or core_info.get("signal") is not None:
                problems.append("a gcore core has no crash: core %s" % core_info)
            if problems:
                self.fail("%s:\n%s\n%s" % (context, "\n".join(problems), lib.describe(result)))

        with self.subTest(case="the interpreter in place"):
            check_frames(lib.run_pyhang(["dump", "--core", core, "--json"]),
                         "gcore of %s" % python)

        kept = os.path.join(directory, "kept-python")
        os.rename(real_binary, kept)
        with self.subTest(case="the interpreter deleted"):
            self.assert_one_line_error([core, "--json"], "gcore of %s, deleted since" % python)
            self.assert_one_line_error([core], "gcore of %s, deleted since (text)" % python)
        with self.subTest(case="the interpreter deleted, --exe the kept copy"):
            check_frames(lib.run_pyhang(["dump", "--core", core, "--json", "--exe", kept]),
                         "--exe %s" % kept)

        others = self.other_builds(build_id(kept))
        if not others:
            self.fail("no other interpreter build to put in place of %s" % real_binary)
        for other in others:
            shutil.copy(other, real_binary)
            with self.subTest(case="the interpreter replaced by %s" % other):
                context = "gcore of %s, replaced by a copy of %s since" % (python, other)
                result = lib.run_pyhang(["dump", "--core", core, "--json"])
                stderr = result.stderr.decode("utf-8", "replace")
                if not re.search(r"build id", stderr, re.I):
                    self.fail("%s: stderr does not mention the build id:\n%s" % (
                        context, lib.describe(result)))
                if result.returncode == 0:
                    check_frames(result, context + " (pyhang went on)")
                else:
                    self.assert_one_line_error([core, "--json"], context, mention="build id")
            with self.subTest(case="replaced by %s, --exe the kept copy" % other):
                check_frames(lib.run_pyhang(["dump", "--core", core, "--json", "--exe", kept]),
                             "--exe %s with %s in place" % (kept, other))

    @staticmethod
    def other_builds(original_id):
        """Interpreters whose build id differs from `original_id`: the same
        version's debug build next to /usr/bin/python3 (same version,
        another layout: the worst case) and another discovered CPython."""
        system = os.path.realpath(lib.SYSTEM_PYTHON)
        candidates = [os.path.realpath(system + "d"), os.path.realpath(system + "-dbg")]
        candidates += [os.path.realpath(i.host_path) for i in
                       lib.discover_interpreters_without_venvs() if i.root is None and
                       not i.pidns and i.path != lib.SYSTEM_PYTHON][-1:]
        found = []
        for path in candidates:
            if os.path.isfile(path) and path not in found and build_id(path) not in (
                    None, original_id):
                found.append(path)
        return found[:2]


if __name__ == "__main__":
    unittest.main()
