"""`pyhang dump` against real interpreters, compared with the interpreter's own view.

For every supported CPython found (pyenv, /usr/bin/python3, the sid root's
3.14/3.15 chrooted, a symlink venv, a --copies venv, and pid-namespace twins
of the newest pyenv build, /usr/bin/python3 and the sid ones: see
pyhang_testlib) the module starts tests/workloads/dump_scenarios.py, which
records sys._current_frames() once all its threads are blocked, and runs
`pyhang dump --pid PID --json`, `--json --locals` and the text form once the
recorder thread is gone. Then gdb's `gcore` writes a core of the workload,
the workload is killed, and the same dumps are taken from the core
(`pyhang dump --core`, with --sysroot for the chrooted interpreters, and
--native, which gdb's `thread apply all bt` on the same core is compared
with). The tests below compare each dump with the truth, one subTest per
interpreter: DumpScenarioTest the live dumps, CoreDumpScenarioTest the
core's.

Inside a pid namespace the truth's ids (threading.get_native_id(),
os.getpid()) are the namespace's. They are mapped to host ids through
/proc/PID/task/TID/status (NSpid:) while the workload lives: the dump's
`tid`/`pid` must be the host ids, its `ns_tid`/`ns_pid` the truth's.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_dump_scenarios
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time
import unittest

import gdb_native
import pyhang_testlib as lib

SCENARIOS = os.path.join(lib.WORKLOADS, "dump_scenarios.py")
MAX_PROBLEMS = 40  # lines per failure message

INTERPRETERS = []
RUNS = {}


class Run:
    """One workload under one interpreter: its truth and pyhang's dumps."""

    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.error = None     # why there is nothing to compare
        self.truth = None
        self.results = {}     # "json" | "locals" | "text" -> lib.PyhangResult
        self.dumps = {}       # "json" | "locals" -> parsed JSON
        self.dump_errors = {}  # "json" | "locals" -> why there is no parsed JSON
        self.tasks_before = set()
        self.tasks_after = set()
        self.pid = None         # the host pid of the workload's Python
        self.ns_pid = None      # its pid in its own pid namespace (truth["pid"])
        self.ns_of_host = {}    # {host tid: ns tid} of its threads, from /proc
        self.core_error = None  # why the workload has no core dumps
        self.gdb_native = None  # {tid: [gdb_native.Frame]} from gdb on the core
        self.gdb_error = None

    @property
    def label(self):
        return "%s (%s)" % (self.interpreter.label, self.interpreter.where())

    def host_tid(self, ns_tid):
        """The host's id of a thread id the workload reported (its namespace's)."""
        for host, ns in self.ns_of_host.items():
            if ns == ns_tid:
                return host
        return ns_tid

    @property
    def version(self):
        return tuple(self.truth["version_info"][:2])


def read_stderr(path):
    try:
        with open(path, "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")
    except OSError:
        return ""


def to_host_ids(run, ns_to_host):
    """Rewrites the truth's thread ids (the namespace's) to host ids, keeping
    the namespace's as "ns_tid". Returns None, or why some could not be mapped."""
    unknown = []

    def host(ns_tid):
        if ns_tid not in ns_to_host:
            unknown.append(ns_tid)
        return ns_to_host.get(ns_tid)

    for thread in run.truth["threads"] + [run.truth["busy"], run.truth["locals"]]:
        thread["ns_tid"] = thread["tid"]
        thread["tid"] = host(thread["ns_tid"])
    if unknown:
        return "no live thread has the namespace ids %s (NSpid in /proc/%d/task/*/status)" % (
            sorted(set(unknown)), run.pid)
    return None


def namespace_problems(run):
    """Was the workload launched the way its interpreter says? (The
    namespace checks below would prove nothing otherwise.)"""
    differ = run.ns_pid != run.pid
    if differ != run.interpreter.pidns:
        return "os.getpid() is %d in the workload, %d on the host: %s" % (
            run.ns_pid, run.pid, "expected a new pid namespace" if run.interpreter.pidns
            else "expected the host's pid namespace")
    return None


def run_workload(interpreter, directory):
    run = Run(interpreter)
    if interpreter.error:
        run.error = "the interpreter cannot be used: " + interpreter.error
        return run
    truth_path = os.path.join(directory, "truth-%s.json" % interpreter.label)
    log_path = os.path.join(directory, "workload-%s.log" % interpreter.label)
    with open(log_path, "wb") as log:
        proc = lib.spawn(interpreter.argv([SCENARIOS, truth_path]), stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 120
        while not os.path.exists(truth_path):
            if proc.poll() is not None:
                run.error = "workload exited with %s before writing its truth; output:\n%s" % (
                    proc.returncode, read_stderr(log_path))
                return run
            if time.monotonic() > deadline:
                run.error = "workload wrote no truth within 120s; output:\n%s" % (
                    read_stderr(log_path))
                return run
            time.sleep(0.05)
        with open(truth_path, encoding="utf-8") as f:
            run.truth = json.load(f)
        if "error" in run.truth:
            run.error = "workload recorder failed: %s" % run.truth["error"]
            return run
        run.pid = interpreter.target_pid(proc)
        run.ns_pid = run.truth["pid"]
        run.error = namespace_problems(run)
        if run.error:
            return run
        recorder = run.truth["recorder_tid"]  # the namespace's id
        deadline = time.monotonic() + 30
        while recorder in lib.ns_ids(run.pid):
            if time.monotonic() > deadline:
                run.error = "recorder thread %d did not exit within 30s" % recorder
                return run
            time.sleep(0.01)
        run.tasks_before = lib.tasks_of(run.pid)
        ns_to_host = lib.ns_ids(run.pid)
        run.ns_of_host = {host: ns for ns, host in ns_to_host.items()}
        run.error = to_host_ids(run, ns_to_host)
        if run.error:
            return run
        take_dumps(run, ["dump", "--pid", run.pid], "", "")
        run.tasks_after = lib.tasks_of(run.pid)
        if proc.poll() is not None:
            run.error = "workload died during the dumps (exit %s); output:\n%s" % (
                proc.returncode, read_stderr(log_path))
            return run
        core = write_core(run, directory)
    except lib.LaunchError as error:
        run.error = str(error)
        return run
    finally:
        lib.kill(proc)
    if core is not None:
        try:
            dump_core(run, core)
        finally:
            os.unlink(core)
    return run


def value_structure_problems(values):
    """The JSON "value" of a few locals against their structure."""
    problems = []
    nested = values.get("d_nested") or {}
    items = nested.get("items") or []
    if nested.get("type") != "dict" or len(items) != 2 or items[0][0].get("repr") != "'a'" \
            or items[1][1].get("type") != "tuple" or len(items[1][1].get("items") or []) != 3:
        problems.append("d_nested's value is %r" % (nested,))
    many = values.get("l_many") or {}
    if many.get("type") != "list" or len(many.get("items") or []) != 16 or not many.get("truncated"):
        problems.append("l_many's value (40 items, 16 shown) is %r" % (many,))
    job = values.get("obj_job") or {}
    if sorted((job.get("attrs") or {}).keys()) != ["attempts", "job_id", "url"]:
        problems.append("obj_job's value has attrs %r" % (job.get("attrs"),))
    return problems


def take_dumps(run, argv, prefix, what):
    """The JSON (key "json" or "core"), --locals, --native and text dumps of
    `argv` into run.results/run.dumps/run.dump_errors, keys starting with
    `prefix` ("" live, "core_" for the core)."""
    keys = {"json": "core" if prefix else "json"}
    for name, flags in (("json", ["--json"]), ("locals", ["--json", "--locals", "--globals"]),
                        ("native", ["--json", "--native"]), ("text", [])):
        key = keys.get(name, prefix + name)
        result = lib.run_pyhang(argv + flags)
        run.results[key] = result
        if name == "text":
            continue
        if result.hung or result.returncode != 0:
            run.dump_errors[key] = "pyhang failed%s: %s" % (what, lib.describe(result))
            continue
        try:
            run.dumps[key] = json.loads(result.stdout.decode("utf-8"))
        except ValueError as error:
            run.dump_errors[key] = "pyhang printed invalid JSON%s (%s): %s" % (
                what, error, lib.describe(result))


def write_core(run, directory):
    """gcore's core of the workload (it stops the process while it writes), or
    None with run.core_error set."""
    prefix = os.path.join(directory, "core-%s" % run.interpreter.label)
    # An interpreter in another root is cored by that root's gcore: Debian
    # 12's gdb writes zeros for thread stacks that sid's glibc guards with
    # MADV_GUARD_INSTALL (its 3.14 cores lose their bottom frames).
    try:
        result = subprocess.run(run.interpreter.tool_argv(["gcore", "-o", prefix, run.pid]),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=180)
    except (OSError, subprocess.TimeoutExpired) as error:
        run.core_error = "gcore failed: %s" % error
        return None
    path = "%s.%d" % (prefix, run.pid)
    if result.returncode != 0 or not os.path.exists(path):
        run.core_error = "gcore exited %s without writing %s: %s" % (
            result.returncode, path, result.stdout.decode("utf-8", "replace")[-2000:])
        return None
    return path


def dump_core(run, core):
    """The core's dumps (keys "core", "core_locals", "core_native",
    "core_text") and gdb's native backtraces of it."""
    sysroot = ["--sysroot", run.interpreter.root] if run.interpreter.root else []
    take_dumps(run, ["dump", "--core", core] + sysroot, "core_", " for the core")
    try:
        run.gdb_native = gdb_native.backtraces(run.interpreter.path, core,
                                               launch=run.interpreter.tool_argv)
    except gdb_native.GdbError as error:
        run.gdb_error = str(error)


def setUpModule():
    started = time.monotonic()
    lib.pyhang_binary()  # fail early, with a clear message, if it is missing
    directory = lib.temp_dir("pyhang-dump-it-")
    INTERPRETERS[:] = lib.discover_interpreters(directory)
    sys.stderr.write("interpreters: %s\n" % lib.describe_interpreters(INTERPRETERS))
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {i.label: pool.submit(run_workload, i, directory) for i in INTERPRETERS}
        for label, future in futures.items():
            RUNS[label] = future.result()
    sys.stderr.write("dump scenarios ran in %.1f s on %d interpreters\n" % (
        time.monotonic() - started, len(INTERPRETERS)))


def tearDownModule():
    lib.kill_all()


def frame_text(frame):
    if frame is None:
        return "(no frame)"
    return "%s [qualname %r] (%s:%s)" % (frame.get("function"), frame.get("qualname"),
                                        frame.get("file"), frame.get("line"))


def thread_text(thread):
    ns = thread.get("ns_tid")
    return "thread %s%s %r (%s)" % (thread["tid"], " [%s in its pid namespace]" % ns
                                     if ns not in (None, thread["tid"]) else "",
                                     thread["name"], thread.get("scenario", "?"))


def limited(problems):
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + ["... and %d more" % (len(problems) - MAX_PROBLEMS)]


def handling_line(link):
    """traceback's last line for a dump's exception link."""
    message = link.get("message")
    return "%s: %s" % (link.get("type"), message) if message else link.get("type")


def handling_problems(tid, thread, truth):
    """A dump thread's `handling` against the workload's chain_of()."""
    if thread is None:
        return ["thread %s (handling %s) is missing from the dump" % (tid, truth["links"][0]["line"])]
    got = thread.get("handling")
    if not got:
        return ["thread %s: no `handling`, the thread handles %s" % (tid, truth["links"][0]["line"])]
    links = [dict(got, relation=None)] + list(got.get("chain") or [])
    problems = []
    if len(links) != len(truth["links"]):
        problems.append("thread %s: %d exceptions in the chain, traceback has %d" % (
            tid, len(links), len(truth["links"])))
    for index, (have, want) in enumerate(zip(links, truth["links"])):
        seen = (have.get("relation"), handling_line(have), have.get("address"))
        wanted = (want["relation"], want["line"], want["address"])
        if seen != wanted:
            problems.append("thread %s link #%d: dump %r, traceback %r" % (tid, index, seen, wanted))
    if got.get("cycle_to") != truth["cycle_to"]:
        problems.append("thread %s: cycle_to %r, expected %r" % (tid, got.get("cycle_to"), truth["cycle_to"]))
    if bool(got.get("cut")) != truth["cut"]:
        problems.append("thread %s: cut %r, expected %r" % (tid, got.get("cut"), truth["cut"]))
    return problems


class DumpScenarioTest(unittest.TestCase):
    """The live dumps (`pyhang dump --pid`)."""
    maxDiff = None
    # Which of a Run's results each test reads: the live process's.
    KEYS = {"json": "json", "locals": "locals", "native": "native", "text": "text"}
    MIN_GDB_MATCH = 0.95  # native frames named as gdb names them, over all interpreters

    def runs(self):
        """One Run per interpreter; wrap each in self.for_interpreter(run)."""
        if not INTERPRETERS:
            self.fail("no supported CPython found (%s)" % lib.versions_text(
                lib.supported_versions()))
        return [RUNS[interpreter.label] for interpreter in INTERPRETERS]

    def for_interpreter(self, run):
        return self.subTest(interpreter=run.interpreter.label)

    def dump_of(self, run, dump_key="json"):
        """The parsed dump, or a precise failure of the current subTest."""
        if run.error:
            self.fail("[%s] %s" % (run.label, run.error))
        if dump_key is None:
            return None
        dump_key = self.KEYS.get(dump_key, dump_key)
        if dump_key.startswith("core") and run.core_error:
            self.fail("[%s] %s" % (run.label, run.core_error))
        if dump_key in run.dump_errors:
            self.fail("[%s] %s" % (run.label, run.dump_errors[dump_key]))
        return run.dumps[dump_key]

    def fail_with(self, run, what, problems):
        if problems:
            self.fail("[%s] %s:\n  %s" % (run.label, what, "\n  ".join(limited(problems))))

    # --- frames -----------------------------------------------------------

    def frame_problems(self, run, dump, scenario=None):
        """Every truth thread (of `scenario`) must be in the dump with the same
        tid, name and frames: function, qualname, file, line, and count."""
        by_tid = {}
        for thread in dump.get("threads", []):
            by_tid.setdefault(thread.get("tid"), thread)
        problems = []
        checked = 0
        for truth in run.truth["threads"]:
            if scenario is not None and truth["scenario"] != scenario:
                continue
            checked += 1
            where = thread_text(truth)
            got = by_tid.get(truth["tid"])
            if got is None:
                problems.append("%s is missing from the dump" % where)
                continue
            if got.get("name") != truth["name"]:
                problems.append("%s: name %r in the dump" % (where, got.get("name")))
            expected_frames, got_frames = truth["frames"], got.get("frames", [])
            if len(got_frames) != len(expected_frames):
                problems.append("%s: %d frames in the dump, %d in the interpreter" % (
                    where, len(got_frames), len(expected_frames)))
            shown = 0
            for index in range(max(len(expected_frames), len(got_frames))):
                want = expected_frames[index] if index < len(expected_frames) else None
                have = got_frames[index] if index < len(got_frames) else None
                if want is not None and have is not None:
                    # Before 3.11 code objects have no co_qualname; pyhang then
                    # reports the function name (README).
                    want = dict(want, qualname=want.get("qualname", want["function"]))
                    if all(have.get(k) == want[k] for k in ("function", "qualname", "file",
                                                              "line")):
                        continue
                if shown < 3:
                    problems.append("%s frame #%d (innermost is #0) of %d: expected %s, "
                                    "dump has %s" % (where, index, len(expected_frames),
                                                     frame_text(want), frame_text(have)))
                shown += 1
            if shown > 3:
                problems.append("%s: %d more frame mismatches" % (where, shown - 3))
        if scenario is not None and checked == 0:
            problems.append("workload problem: no %r thread in the truth file" % scenario)
        return problems

    def check_scenario(self, scenario, sanity):
        """Frames of one scenario's threads, after checking the workload did its part."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                threads = [t for t in run.truth["threads"] if t["scenario"] == scenario]
                problems = ["workload problem: " + p for p in sanity(run, threads)]
                self.fail_with(run, "workload did not set up scenario %r" % scenario, problems)
                self.fail_with(run, "frames differ from sys._current_frames() in scenario %r"
                               % scenario, self.frame_problems(run, dump, scenario))

    def test_frames_deadlock(self):
        def sanity(run, threads):
            inner = sorted(t["frames"][0]["function"] for t in threads)
            if inner != ["deadlock_acquire"] * 2 + ["deadlock_with"] * 2:
                yield "innermost functions %s" % inner
        self.check_scenario("deadlock", sanity)

    def test_frames_queue_consumer_pool(self):
        def sanity(run, threads):
            for t in threads:
                if not any(f["function"] == "get" and f["file"].endswith("queue.py")
                           for f in t["frames"]):
                    yield "%s is not in Queue.get" % thread_text(t)
            if len(threads) != 4:
                yield "%d consumers" % len(threads)
        self.check_scenario("queue", sanity)

    def test_frames_recursion_500(self):
        def sanity(run, threads):
            depth = sum(f["function"] == "recurse" for t in threads for f in t["frames"])
            if len(threads) != 1 or depth != 500:
                yield "%d threads, %d recurse() frames" % (len(threads), depth)
        self.check_scenario("recursion", sanity)

    def test_frames_crowd_of_120_threads(self):
        def sanity(run, threads):
            if len(threads) < 100:
                yield "only %d crowd threads" % len(threads)
        self.check_scenario("crowd", sanity)

    def test_frames_non_ascii_names(self):
        def sanity(run, threads):
            text = [f["function"] for t in threads for f in t["frames"]]
            text += [f.get("qualname", "") for t in threads for f in t["frames"]]
            widths = {max(map(ord, s)) for s in text if s}
            for low, high, what in ((0x80, 0xFF, "Latin-1"), (0x100, 0xFFFF, "UCS-2"),
                                    (0x10000, 0x10FFFF, "UCS-4")):
                if not any(low <= w <= high for w in widths):
                    yield "no %s function name" % what
            if not any(max(map(ord, f["file"])) > 0xFFFF for t in threads for f in t["frames"]):
                yield "no file name with an astral character"
            if not any(max(map(ord, t["name"])) > 0xFFFF for t in threads):
                yield "no thread name with an astral character"
        self.check_scenario("non_ascii", sanity)

    def test_frames_nested_functions(self):
        def sanity(run, threads):
            names = [f["function"] for t in threads for f in t["frames"][:3]]
            if names != ["inner", "middle", "outer"]:
                yield "innermost frames %s" % names
        self.check_scenario("nested", sanity)

    def test_frames_lambdas(self):
        def sanity(run, threads):
            names = [f["function"] for t in threads for f in t["frames"][:3]]
            if names != ["<lambda>", "<lambda>", "lambda_scenario"]:
                yield "innermost frames %s" % names
        self.check_scenario("lambda", sanity)

    def test_frames_generators(self):
        def sanity(run, threads):
            if sorted(t["frames"][0]["function"] for t in threads) != ["produce", "produce"]:
                yield "not blocked inside the generator bodies"
        self.check_scenario("generator", sanity)

    def test_frames_comprehension(self):
        self.check_scenario("comprehension", lambda run, threads: [])

    def test_frames_asyncio_coroutines(self):
        def sanity(run, threads):
            names = [f["function"] for t in threads for f in t["frames"][:3]]
            if names != ["blocking_in_coroutine", "coro_inner", "coro_outer"]:
                yield "innermost frames %s" % names
        self.check_scenario("asyncio", sanity)

    def test_frames_state_threads_and_main(self):
        for scenario in ("state", "locals", "main"):
            self.check_scenario(scenario, lambda run, threads: [])

    def test_frames_with_locals_flag(self):
        """--locals must not change the frames."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run, "locals")
                self.fail_with(run, "frames of `dump --json --locals` differ from "
                               "sys._current_frames()", self.frame_problems(run, dump))

    # --- process and thread list -------------------------------------------

    def test_process_header(self):
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                problems = lib.ns_pid_problems(dump, run.pid, run.ns_pid)
                if dump.get("python_version") != run.truth["python_version"]:
                    problems.append("python_version %r, expected %r (platform.python_version())"
                                    % (dump.get("python_version"), run.truth["python_version"]))
                self.fail_with(run, "process header", problems)

    def test_thread_list_is_exact(self):
        """Exactly the workload's Python threads (the recorder has exited), no
        duplicates, and every tid a live task of the process."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                tids = [t.get("tid") for t in dump.get("threads", [])]
                expected = {t["tid"] for t in run.truth["threads"]} | {run.truth["busy"]["tid"]}
                problems = []
                duplicates = sorted({t for t in tids if tids.count(t) > 1}, key=str)
                if duplicates:
                    problems.append("duplicate tids %s" % duplicates)
                extra = set(tids) - expected
                missing = expected - set(tids)
                if extra:
                    problems.append("tids not in the workload: %s" % sorted(extra, key=str))
                if missing:
                    problems.append("tids missing: %s" % sorted(missing))
                for tid in tids:
                    if tid not in run.tasks_before or tid not in run.tasks_after:
                        problems.append("tid %r is not in /proc/%d/task" % (tid, run.pid))
                self.fail_with(run, "thread list", problems)

    def test_namespace_ids(self):
        """`tid` is the host id and `ns_tid` the thread's id in the target's pid
        namespace (what threading.get_native_id() said there), present exactly
        where they differ; the same for `pid` and `ns_pid`. In a new pid
        namespace every thread has an ns_tid, outside one none has."""
        for run in self.runs():
            with self.for_interpreter(run):
                for key in ("json", "locals"):
                    dump = self.dump_of(run, key)
                    threads = dump.get("threads", [])
                    problems = lib.ns_pid_problems(dump, run.pid, run.ns_pid)
                    problems += lib.ns_id_problems(threads, run.ns_of_host)
                    with_ns = [t.get("tid") for t in threads if "ns_tid" in t]
                    if run.interpreter.pidns and len(with_ns) != len(threads):
                        problems.append("%d of %d threads have an ns_tid" % (len(with_ns),
                                                                             len(threads)))
                    if not run.interpreter.pidns and with_ns:
                        problems.append("threads %s have an ns_tid outside a pid namespace"
                                        % with_ns[:10])
                    if not threads:
                        problems.append("no threads at all")
                    self.fail_with(run, "ids in `dump %s`" % " ".join(
                        ["--json"] + (["--locals"] if key == "locals" else [])), problems)

    # --- states, GIL, busy thread --------------------------------------------

    def test_thread_states(self):
        """lock_wait for Lock/Event/Queue/join, io_wait for socket/pipe/select,
        sleep for time.sleep (also under asyncio)."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                by_tid = {t.get("tid"): t for t in dump.get("threads", [])}
                problems = []
                for truth in run.truth["threads"]:
                    got = by_tid.get(truth["tid"])
                    if got is None:
                        problems.append("%s is missing from the dump" % thread_text(truth))
                    elif got.get("state") not in truth["states"]:
                        problems.append("%s: state %r (%s), expected %s; innermost frame %s" % (
                            thread_text(truth), got.get("state"), got.get("state_detail"),
                            " or ".join(truth["states"]), frame_text(truth["frames"][0])))
                self.fail_with(run, "thread states", problems)

    def test_busy_thread_is_running(self):
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                busy = run.truth["busy"]
                got = {t.get("tid"): t for t in dump.get("threads", [])}.get(busy["tid"])
                if got is None:
                    self.fail("[%s] busy thread %d is missing from the dump" % (
                        run.label, busy["tid"]))
                problems = []
                if got.get("name") != busy["name"]:
                    problems.append("name %r, expected %r" % (got.get("name"), busy["name"]))
                if got.get("state") != "running":
                    problems.append("state %r (%s), expected 'running'" % (
                        got.get("state"), got.get("state_detail")))
                frames = got.get("frames") or [None]
                if (frames[0] or {}).get("function") != busy["function"] or \
                        (frames[0] or {}).get("file") != busy["file"]:
                    problems.append("innermost frame %s, expected %s in %s" % (
                        frame_text(frames[0]), busy["function"], busy["file"]))
                self.fail_with(run, "busy thread %d" % busy["tid"], problems)

    def test_gil_holders(self):
        """No blocked thread holds the GIL; at most one thread does."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                blocked = {t["tid"] for t in run.truth["threads"]}
                holders = [t for t in dump.get("threads", []) if t.get("holds_gil") is True]
                problems = ["thread %s %r holds_gil is true but it is blocked" % (
                    t.get("tid"), t.get("name")) for t in holders if t.get("tid") in blocked]
                if len(holders) > 1:
                    problems.append("%d threads hold the GIL" % len(holders))
                problems += ["thread %s: holds_gil is %r, not a bool" % (t.get("tid"),
                                                                        t.get("holds_gil"))
                             for t in dump.get("threads", [])
                             if not isinstance(t.get("holds_gil"), bool)]
                self.fail_with(run, "holds_gil", problems)

    def test_deadlock_cycles(self):
        """Both deadlocked pairs are found as two-thread cycles, each of their
        threads in state deadlock, and no other thread is in a cycle."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                stuck = {t["tid"] for t in run.truth["threads"] if t["scenario"] == "deadlock"}
                cycles = [sorted(d.get("tids", [])) for d in dump.get("deadlocks", [])]
                problems = []
                if len(cycles) != 2 or any(len(c) != 2 for c in cycles):
                    problems.append("cycles %s, expected two pairs of %s" % (cycles, sorted(stuck)))
                found = {tid for cycle in cycles for tid in cycle}
                if found != stuck:
                    problems.append("threads in cycles %s, deadlocked threads %s" % (
                        sorted(found), sorted(stuck)))
                states = {t.get("tid"): t.get("state") for t in dump.get("threads", [])}
                problems += ["thread %s: state %r, expected 'deadlock'" % (tid, states.get(tid))
                             for tid in sorted(stuck) if states.get(tid) != "deadlock"]
                self.fail_with(run, "deadlocks", problems)

    # --- native frames -------------------------------------------------------

    def running_tids(self, run):
        """Threads whose native stack a live copy cannot have: the busy one."""
        return {run.truth["busy"]["tid"]} if self.KEYS["native"] == "native" else set()

    def test_native_keeps_python_frames(self):
        """--native: each thread's Python frames, in order, are exactly those of
        the plain dump, and every eval-loop activation became Python frames.
        Live, a thread on CPU at the copy has no native frames (its saved
        registers are stale): only the busy thread may lack them."""
        for run in self.runs():
            with self.for_interpreter(run):
                plain = {t.get("tid"): t for t in self.dump_of(run).get("threads", [])}
                native = self.dump_of(run, "native")
                running = self.running_tids(run)
                problems = []
                for thread in native.get("threads", []):
                    frames = thread.get("frames", [])
                    python = [f for f in frames if f.get("kind") == "python"]
                    natives = [f for f in frames if f.get("kind") == "native"]
                    expected = plain.get(thread.get("tid"), {}).get("frames", [])
                    strip = lambda f: {k: v for k, v in f.items() if k != "kind"}
                    # A running thread moves on between two live dumps.
                    if [strip(f) for f in python] != expected and thread.get("tid") not in running:
                        problems.append("thread %s: Python frames differ from the plain dump's" %
                                        thread.get("tid"))
                    if not natives and thread.get("tid") not in running:
                        problems.append("thread %s: no native frames" % thread.get("tid"))
                    if python and any(f.get("function") == "_PyEval_EvalFrameDefault" for f in natives):
                        problems.append("thread %s: an eval-loop frame was not replaced" %
                                        thread.get("tid"))
                self.fail_with(run, "--native", problems)

    def test_native_frames_match_gdb(self):
        """Native frames named as `gdb -batch -ex 'thread apply all bt'` names
        them on the gcore taken right after the live dumps, frame for frame
        (live: every thread that was blocked; on a core: every thread)."""
        matched = total = 0
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run, "native")
                running = self.running_tids(run)
                if not run.gdb_native:
                    self.fail("[%s] gdb has no backtrace of the core: %s" % (
                        run.label, run.gdb_error))
                run_matched = run_total = 0
                mismatches = []
                for thread in dump.get("threads", []):
                    if thread.get("tid") in running:
                        continue
                    ours = [f.get("function") or "??" for f in thread.get("frames", [])
                            if f.get("kind") == "native"]
                    frames = run.gdb_native.get(thread.get("tid"))
                    if frames is None:
                        mismatches.append("thread %s: not in gdb's output" % thread.get("tid"))
                        continue
                    # pyhang puts Python frames where the eval loop's frame is.
                    theirs = [f.function for f in frames
                              if gdb_native.normalize(f.function) != gdb_native.EVAL_LOOP]
                    good, count, differences = gdb_native.compare(ours, theirs)
                    run_matched += good
                    run_total += count
                    mismatches += ["thread %s: %s" % (thread.get("tid"), d) for d in differences[:2]]
                matched += run_matched
                total += run_total
                sys.stderr.write("%s native frames like gdb's [%s]: %d of %d (%.1f%%)\n" % (
                    self.KEYS["native"], run.label, run_matched, run_total,
                    100.0 * run_matched / max(run_total, 1)))
                if run_total == 0 or run_matched < 0.9 * run_total:
                    self.fail_with(run, "native frames unlike gdb's (%d of %d)" % (
                        run_matched, run_total), mismatches or ["no frames"])
        sys.stderr.write("%s native frames like gdb's, all interpreters: %d of %d (%.1f%%)\n" % (
            self.KEYS["native"], matched, total, 100.0 * matched / max(total, 1)))
        self.assertGreaterEqual(matched, self.MIN_GDB_MATCH * total)

    # --- locals --------------------------------------------------------------

    def test_locals_reprs(self):
        """--locals shows what repr() shows, within the documented bounds
        (the workload's bounded_repr()): every builtin type, nested, cyclic,
        cut and huge values, instances, exceptions, locks, functions, code
        objects, classes; garbage ends in a marker. --globals shows the
        module-level name the frame reads."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run, "locals")
                expected = run.truth["locals"]
                got = {t.get("tid"): t for t in dump.get("threads", [])}.get(expected["tid"])
                if got is None:
                    self.fail("[%s] locals thread %d missing" % (run.label, expected["tid"]))
                frame = (got.get("frames") or [{}])[0]
                if frame.get("function") != expected["function"]:
                    self.fail("[%s] innermost frame of thread %d is %s, expected %s" % (
                        run.label, expected["tid"], frame_text(frame), expected["function"]))
                if not isinstance(frame.get("locals"), list):
                    self.fail("[%s] frame %s has no locals list: %r" % (
                        run.label, frame_text(frame), frame.get("locals")))
                shown = {}
                values = {}
                for entry in frame["locals"]:
                    shown.setdefault(entry.get("name"), entry.get("repr"))
                    values.setdefault(entry.get("name"), entry.get("value"))
                problems = []
                for name, want in sorted(expected["reprs"].items()):
                    if name not in shown:
                        problems.append("local %s missing (have %s)" % (
                            name, sorted(shown, key=str)))
                    elif shown[name] != want:
                        problems.append("local %s: dump shows %r, Python's repr is %r" % (
                            name, shown[name][:300], want[:300]))
                for name, prefix in sorted(expected.get("prefixes", {}).items()):
                    if not (shown.get(name) or "").startswith(prefix):
                        problems.append("local %s: dump shows %r, expected it to start with %r" % (
                            name, shown.get(name), prefix))
                problems += value_structure_problems(values)
                globals_shown = {g.get("name"): g.get("repr") for g in frame.get("globals") or []}
                for name, want in sorted(expected.get("globals", {}).items()):
                    if globals_shown.get(name) != want:
                        problems.append("global %s: dump --globals shows %r, Python's repr is %r (globals: %s)" % (
                            name, globals_shown.get(name), want, sorted(globals_shown)))
                self.fail_with(run, "locals of %s in thread %d" % (expected["function"],
                                                                  expected["tid"]), problems)

    # --- handled exceptions ----------------------------------------------------

    def test_handled_exceptions(self):
        """Each thread inside an `except` block shows the exception it handles
        and its chain as traceback prints them (the workload's own
        format_exception_only() of sys.exc_info() and its __cause__/__context__
        links, by id()): an OSError with errno and file name, a KeyError, args
        tuples, non-ASCII text, `raise ... from`, a cyclic context chain, a
        100-link chain cut at 16. Where sys._current_exceptions() exists
        (3.10+), every other thread agrees with it too, none included."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                by_tid = {t.get("tid"): t for t in dump.get("threads", [])}
                problems = []
                expected = run.truth.get("exceptions") or {}
                if len(expected) != 5:
                    problems.append("workload problem: %d handler threads reported, expected 5" % len(expected))
                text = run.results[self.KEYS["text"]].stdout.decode("utf-8", "replace")
                for ns_tid, truth in sorted(expected.items()):
                    tid = run.host_tid(int(ns_tid))
                    problems += handling_problems(tid, by_tid.get(tid), truth)
                    if "    handling %s\n" % truth["links"][0]["line"] not in text:
                        problems.append("thread %s: text dump lacks 'handling %s'" % (
                            tid, truth["links"][0]["line"]))
                current = run.truth.get("current_exceptions")
                if current is not None:
                    for ns_tid, line in sorted(current.items()):
                        tid = run.host_tid(int(ns_tid))
                        got = (by_tid.get(tid) or {}).get("handling")
                        shown = handling_line(got) if got else None
                        if tid in by_tid and shown != line:
                            problems.append("thread %s: dump handles %r, sys._current_exceptions() %r" % (
                                tid, shown, line))
                self.fail_with(run, "handled exceptions", problems)

    # --- text output ---------------------------------------------------------

    def test_text_output(self):
        for run in self.runs():
            with self.for_interpreter(run):
                self.dump_of(run, None)
                if run.core_error and self.KEYS["text"].startswith("core"):
                    self.fail("[%s] %s" % (run.label, run.core_error))
                result = run.results[self.KEYS["text"]]
                if result.hung or result.returncode != 0:
                    self.fail("[%s] text dump failed: %s" % (run.label, lib.describe(result)))
                text = result.stdout.decode("utf-8", "replace")
                missing = [t["tid"] for t in run.truth["threads"]
                           if "Thread %d " % t["tid"] not in text]
                if missing:
                    self.fail("[%s] text dump lacks 'Thread TID' for %d threads, e.g. %s" % (
                        run.label, len(missing), missing[:10]))


class CoreDumpScenarioTest(DumpScenarioTest):
    """Every check above on `pyhang dump --core` of a gcore of the same
    workload, plus what only a core has: its summary and native frames."""
    KEYS = {"json": "core", "locals": "core_locals", "native": "core_native", "text": "core_text"}

    def test_busy_thread_is_running(self):
        """A core does not keep run states: the busy thread, in no system call,
        is `unknown` (never guessed), its frames exact."""
        for run in self.runs():
            with self.for_interpreter(run):
                dump = self.dump_of(run)
                busy = run.truth["busy"]
                got = {t.get("tid"): t for t in dump.get("threads", [])}.get(busy["tid"])
                if got is None:
                    self.fail("[%s] busy thread %d is missing from the core's dump" % (
                        run.label, busy["tid"]))
                frames = got.get("frames") or [None]
                problems = []
                if got.get("state") != "unknown":
                    problems.append("state %r (%s), expected 'unknown'" % (
                        got.get("state"), got.get("state_detail")))
                if (frames[0] or {}).get("function") != busy["function"]:
                    problems.append("innermost frame %s, expected %s" % (
                        frame_text(frames[0]), busy["function"]))
                self.fail_with(run, "busy thread %d" % busy["tid"], problems)

    def test_core_summary(self):
        """gcore's core of a healthy process: no signal, no crashing thread,
        every OS thread counted."""
        for run in self.runs():
            with self.for_interpreter(run):
                core = self.dump_of(run).get("core") or {}
                problems = []
                for key in ("signal", "signal_name", "fault_address", "crashing_tid"):
                    if core.get(key) is not None:
                        problems.append("%s is %r, expected null (gcore)" % (key, core.get(key)))
                if core.get("threads") != len(run.tasks_before):
                    problems.append("threads %r, the process had %d" % (
                        core.get("threads"), len(run.tasks_before)))
                if core.get("compression") != "none" or core.get("truncated") is not False:
                    problems.append("compression %r, truncated %r" % (
                        core.get("compression"), core.get("truncated")))
                self.fail_with(run, "core summary", problems)



if __name__ == "__main__":
    unittest.main()
