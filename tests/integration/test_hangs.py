"""`pyhang watch` hang detection against real programs (GitHub issue 4).

For every supported CPython found (pyenv, /usr/bin/python3, the sid root's
3.14/3.15 chrooted, and pid-namespace twins of the newest pyenv build,
/usr/bin/python3 and the sid ones: see pyhang_testlib) each scenario is a
real program, tests/workloads/hang_*.py, that reports its threads' OS ids
and names in a ready file, waits until `pyhang watch --json` is attached, then
gets stuck and records the moment it did (see hang_common.py). The findings
must have the right kind on exactly the right threads, with their evidence.
In a pid namespace the workload's ids are the namespace's: hang_testlib maps
them to host ids, which findings must carry as `tid`, with the workload's own
as `ns_tid`.

  deadlock  `with` blocks, bare acquire(), RLocks, a three-thread cycle; and
            `pyhang dump --json` shows the same cycles
  lock_wait queue consumers whose producer died
  io_wait   HTTP clients (http.client, urllib) on a server that never answers
  busy_loop a pure-Python loop beside a healthy CPU-bound worker
  native_loop + gil_wait  a C loop called through ctypes.PyDLL, a GIL starver
            (the C library loaded at start-up, and loaded while watched)
  asyncio   event loops stalled by time.sleep() and recv() in a coroutine
  retry_loop  a thread retrying a refused connection from its handler, beside
            a poller that succeeds, one that recovers and one asleep in a
            handler (those three: no finding)
plus: no finding at all on healthy idle programs (60 s, default threshold);
detection latency; the target exiting with findings open; a churning thread
list with one stuck thread; a busy loop watched for 8 s (first and last
interpreter only) must stay one open finding.

Scheduling (2 CPUs): the 60 s no-false-findings watches run IDLE_PARALLEL
interpreters at a time, while the blocking scenarios (no CPU needed) run beside
them; the CPU-hungry loop scenarios run afterwards, one at a time (a busy
loop beside a CPU-bound worker gets at most half a CPU; sharing the machine
further would starve it below what pyhang calls a loop).

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_hangs
PYHANG_REQUIRE_BPF=1 turns "BPF unavailable" (no native symbols) into a failure.
"""
import concurrent.futures
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unittest

import hang_testlib as hl
import pyhang_testlib as lib

THRESHOLD_S = 2.0          # --hang-threshold of the scenarios
CHURN_WAKE_MARGIN_S = 0.3  # release (timed by the workload) -> the thread runs again
LATENCY_LIMIT_S = 1.5      # threshold -> first hang event
SETTLE_S = 1.0             # watch on after the expected findings, for extra ones
WATCH_LIMIT_S = 60         # -d of the scenario watches (they are stopped earlier)
IDLE_WATCH_S = 60          # the no-false-findings watch, default threshold
BLOCKING_PARALLEL = 8      # blocking scenarios at a time
# Idle watches at a time. Each idle workload has a CPU-bound worker, and the
# pyhang processes of the blocking scenarios beside them need CPU to report
# in time: with all 13 interpreters' idle watches at once, detection latency
# reached 1.3 s of its 1.5 s bar (it was 0.6 s with the 7 interpreters of
# before). 7 at a time still let a deadlock on a pid-namespace twin report
# 1.76 s late (CI, December 2026), while the median was 0.25 s: 5 at a time
# leaves the blocking scenarios more CPU, at the cost of a third wave of
# idle watches (about 60 s, run after the blocking scenarios are done).
IDLE_PARALLEL = 5
CPU_PARALLEL = 1           # loop scenarios at a time (each wants a whole CPU)
REQUIRE_BPF = os.environ.get("PYHANG_REQUIRE_BPF") == "1"

INTERPRETERS = []
RUNS = {}          # (scenario, interpreter label) -> Run
SETUP = {}         # "spin_library", "spin_error", "seconds"

DEADLOCK_MODES = {"deadlock_with": "with", "deadlock_acquire": "acquire",
                  "deadlock_rlock": "rlock", "deadlock_three": "three"}
OWNER_EVIDENCE = {"with": "with_block", "acquire": "inferred_acquire",
                  "rlock": "rlock_owner", "three": "with_block"}


class Run:
    """One scenario under one interpreter: what the workload said and what
    pyhang printed."""

    def __init__(self, scenario, interpreter):
        self.scenario = scenario
        self.interpreter = interpreter
        self.error = None       # why there is nothing to check
        self.workload = None
        self.watch = None
        self.watch_args = []
        self.expected = []      # [(kind, (tid, ...))]
        self.marks = {}
        self.dump = None        # lib.PyhangResult of `dump --json`
        self.times = {}         # scenario-specific moments
        self.threshold = THRESHOLD_S

    @property
    def label(self):
        return "%s %s (%s)" % (self.scenario, self.interpreter.label, self.interpreter.where())

    def repro(self):
        if self.workload is None:
            return "(no workload started)"
        if self.scenario.startswith("native"):
            return self.workload.repro(self.watch_args, args='"$D/libspin.so" %s %s' % (
                hl.SPIN_SYMBOL, self.workload.argv[-1]), prelude=hl.SPIN_SHELL)
        if self.scenario == "exit":
            return self.workload.repro(self.watch_args, background='sleep 4; touch "$D/exit"')
        return self.workload.repro(self.watch_args, go=self.scenario != "idle")


# --- what each scenario expects ----------------------------------------------

def expect_deadlock(workload):
    return [("deadlock", tuple(sorted(t["tid"] for t in workload.ready["threads"]
                                      if t["role"] != "main")))]


def expect_each(kind, role, count):
    """`kind` on each of the `count` threads with `role` (fewer registered
    threads would make the scenario pass on nothing)."""
    def expected(workload):
        tids = workload.tids(role)
        if len(tids) != count:
            raise hl.WorkloadError("%d threads with role %r in ready.json, expected %d" % (
                len(tids), role, count))
        return [(kind, (tid,)) for tid in tids]
    return expected


def expect_asyncio(workload):
    return [("io_wait", (workload.tid("sleep"),)), ("io_wait", (workload.tid("recv"),))]


def expect_exit(workload):
    return [("lock_wait", (workload.tid("lock"),)), ("io_wait", (workload.tid("recv"),))]


def expect_native(workload):
    return [("native_loop", (workload.tid("looper"),)), ("gil_wait", (workload.tid("starver"),))]


class Spec:
    """How to run one scenario: its workload, what pyhang must find, and how
    long to watch after go (None: until the expected findings + SETTLE_S)."""

    def __init__(self, script, args, expected, dump=False, threshold=THRESHOLD_S,
                 watch_after_go=None):
        self.script, self.args, self.expected, self.dump = script, args, expected, dump
        self.threshold, self.watch_after_go = threshold, watch_after_go


SCENARIOS = {
    "deadlock_with": Spec("hang_deadlock.py", ["with"], expect_deadlock, dump=True),
    "deadlock_acquire": Spec("hang_deadlock.py", ["acquire"], expect_deadlock, dump=True),
    "deadlock_rlock": Spec("hang_deadlock.py", ["rlock"], expect_deadlock),
    "deadlock_three": Spec("hang_deadlock.py", ["three"], expect_deadlock, dump=True),
    "queue": Spec("hang_queue.py", ["3"], expect_each("lock_wait", "consumer", 3)),
    "http": Spec("hang_http.py", [], expect_each("io_wait", "client", 2)),
    "asyncio": Spec("hang_asyncio.py", [], expect_asyncio),
    "exit": Spec("hang_exit.py", [], expect_exit),
    "retry": Spec("hang_retry.py", [], expect_each("retry_loop", "retrier", 1)),
    "churn": Spec("hang_churn.py", ["1.2"], expect_each("lock_wait", "stuck", 1),
                  watch_after_go=THRESHOLD_S + 5),
    "busy": Spec("hang_busy.py", [], expect_each("busy_loop", "spinner", 1)),
    # hang_native.py gets the library, its function and when to load it.
    "native": Spec("hang_native.py", ["early"], expect_native),
    "native_late": Spec("hang_native.py", ["late"], expect_native),
    # The busy loop again, watched for 8 s after go with a 1 s threshold: a
    # loop that goes on must stay one open finding (ten thresholds and more).
    "busy_long": Spec("hang_busy.py", [], expect_each("busy_loop", "spinner", 1), threshold=1.0,
                      watch_after_go=8.0),
}
BLOCKING = ["deadlock_with", "deadlock_acquire", "deadlock_rlock", "deadlock_three", "queue",
            "churn", "http", "asyncio", "exit", "retry"]
CPU_HUNGRY = ["busy", "native", "native_late"]
LONG_LOOP = "busy_long"  # on the first and the last interpreter only (time)


def missing_expected(watch, expected):
    have = [(h.get("kind"), tuple(sorted(h.get("tids") or []))) for h in watch.hangs()]
    return [e for e in expected if e not in have]


# --- running the scenarios -----------------------------------------------------

@contextlib.contextmanager
def harness_errors(run):
    """A harness error inside the block becomes the run's error, not a crash;
    the watch and the workload are stopped whatever happens."""
    try:
        yield run
    except (hl.WorkloadError, OSError, RuntimeError) as error:
        run.error = "%s: %s" % (type(error).__name__, error)
    finally:
        if run.watch is not None:
            run.watch.stop()
        if run.workload is not None:
            run.workload.kill()


def run_scenario(scenario, interpreter, directory):
    run = Run(scenario, interpreter)
    spec = SCENARIOS[scenario]
    run.threshold = spec.threshold
    args = spec.args
    if spec.script == "hang_native.py":
        if not SETUP.get("spin_library"):
            run.error = "no C library to call: %s" % SETUP.get("spin_error")
            return run
        args = [SETUP["spin_library"], hl.SPIN_SYMBOL] + args
    run_dir = os.path.join(directory, "%s-%s" % (scenario, interpreter.label))
    with harness_errors(run):
        run.workload = workload = hl.Workload(interpreter, spec.script, args, run_dir)
        workload.wait_ready()
        run.expected = spec.expected(workload)
        run.watch_args = ["--hang-threshold", spec.threshold, "-d", WATCH_LIMIT_S]
        run.watch = watch = hl.Watch(workload.pid, run.watch_args)
        # Attached and looking before anything gets stuck.
        if not watch.wait_for(lambda w: w.summaries(), 15):
            run.error = "pyhang printed no summary %s: %s" % (
                "within 15 s" if watch.proc.poll() is None else "before it ended",
                watch.describe())
            return run
        workload.go()
        if spec.watch_after_go is not None:
            watch.wait_for(lambda w: False, workload.go_time + spec.watch_after_go
                           - time.monotonic())
        else:
            watch.wait_for(lambda w: not missing_expected(w, run.expected), spec.threshold + 5)
            watch.wait_for(lambda w: False, SETTLE_S)  # extra findings show up here
        run.marks = workload.marks()
        if spec.dump:
            run.dump = lib.run_pyhang(["dump", "--pid", workload.pid, "--json"])
        if scenario == "exit":
            run.times["exit_requested"] = time.monotonic()
            workload.touch("exit")
            try:
                workload.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass  # target_status None: reported by the test
            run.times["target_exited"] = time.monotonic()
            run.times["target_status"] = workload.proc.returncode
            watch.wait_exit(15)
            run.times["pyhang_exited"] = watch.exit_time
        else:
            watch.stop()
    return run


def run_idle(interpreter, directory):
    run = Run("idle", interpreter)
    with harness_errors(run):
        run.workload = workload = hl.Workload(interpreter, "hang_idle.py", [],
                                              os.path.join(directory, "idle-" + interpreter.label))
        workload.wait_ready()
        run.watch_args = ["-d", IDLE_WATCH_S]
        run.watch = hl.Watch(workload.pid, run.watch_args)
        run.watch.wait_exit(IDLE_WATCH_S + 30)
        run.times["target_alive"] = workload.proc.poll() is None
    return run


def collect(key, future):
    """A finished run; a harness error becomes the run's error, not a crash."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 -- reported by every test of the run
        run = Run(key[0], next(i for i in INTERPRETERS if i.label == key[1]))
        run.error = "harness error: %s: %s" % (type(error).__name__, error)
        return run


def setUpModule():
    started = time.monotonic()
    directory = lib.temp_dir("pyhang-hangs-it-")
    lib.pyhang_binary()  # fail early, with a clear message, if it is missing
    INTERPRETERS[:] = lib.discover_interpreters_without_venvs()
    sys.stderr.write("interpreters: %s\n" % lib.describe_interpreters(INTERPRETERS))
    try:
        SETUP["spin_library"] = hl.build_spin_library(directory)
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        SETUP["spin_error"] = str(error)
    # Phase 1: the 60 s idle watches, IDLE_PARALLEL at a time, and beside
    # them the blocking scenarios, which need no CPU.
    with concurrent.futures.ThreadPoolExecutor(max_workers=IDLE_PARALLEL) as idle, \
            concurrent.futures.ThreadPoolExecutor(max_workers=BLOCKING_PARALLEL) as pool:
        idle_runs = {i.label: idle.submit(run_idle, i, directory) for i in INTERPRETERS}
        blocking = {(s, i.label): pool.submit(run_scenario, s, i, directory)
                    for s in BLOCKING for i in INTERPRETERS}
        for key, future in blocking.items():
            RUNS[key] = collect(key, future)
        for label, future in idle_runs.items():
            RUNS[("idle", label)] = collect(("idle", label), future)
    SETUP["phase1_s"] = time.monotonic() - started
    # Phase 2: the loops, which want the CPUs.
    long_loop = [INTERPRETERS[0], INTERPRETERS[-1]] if len(INTERPRETERS) > 1 else INTERPRETERS
    with concurrent.futures.ThreadPoolExecutor(max_workers=CPU_PARALLEL) as pool:
        futures = {(s, i.label): pool.submit(run_scenario, s, i, directory)
                   for i in INTERPRETERS for s in CPU_HUNGRY}
        futures.update({(LONG_LOOP, i.label): pool.submit(run_scenario, LONG_LOOP, i, directory)
                        for i in long_loop})
        for key, future in futures.items():
            RUNS[key] = collect(key, future)
    SETUP["seconds"] = time.monotonic() - started
    sys.stderr.write("hang scenarios ran in %.1f s (phase 1 %.1f s)\n" % (
        SETUP["seconds"], SETUP["phase1_s"]))


def tearDownModule():
    hl.stop_all()
    lib.kill_all()


# --- checking ------------------------------------------------------------------

def limited(problems, most=30):
    if len(problems) <= most:
        return problems
    return problems[:most] + ["... and %d more" % (len(problems) - most)]


def thread_names(run):
    return {t["tid"]: "%s %r" % (t["tid"], t["name"]) for t in run.workload.ready["threads"]}


def describe_tids(run, tids):
    names = thread_names(run)
    return "[%s]" % ", ".join(names.get(t, "%s (not a workload thread)" % t) for t in tids)


def frames_text(frames, most=4):
    return " <- ".join("%s (%s:%s)" % (f.get("function"), os.path.basename(str(f.get("file"))),
                                       f.get("line")) for f in (frames or [])[:most])


class HangTest(unittest.TestCase):
    maxDiff = None

    def runs(self, scenario):
        if not INTERPRETERS:
            self.fail("no supported CPython found (%s)" % lib.versions_text(
                lib.supported_versions()))
        return [RUNS[(scenario, i.label)] for i in INTERPRETERS]

    def for_interpreter(self, run):
        return self.subTest(interpreter=run.interpreter.label)

    def usable(self, run):
        """Fails the current subTest if the run has nothing to check."""
        if run.error:
            self.fail("[%s] %s\n  reproduce: %s" % (run.label, run.error, run.repro()))
        watch = run.watch
        problems = []
        if watch.hung:
            problems.append("pyhang did not exit (killed): " + watch.describe())
        elif watch.proc.returncode != 0:
            problems.append("pyhang exited with %s: %s" % (watch.proc.returncode, watch.describe()))
        if watch.bad_lines:
            problems.append("pyhang printed non-JSON lines: %r" % watch.bad_lines[:3])
        self.fail_with(run, "pyhang watch failed", problems)

    def fail_with(self, run, what, problems):
        if problems:
            events = [hl.short(e) for _, e in run.watch.events
                      if e.get("event") != "summary"] if run.watch else []
            self.fail("[%s] %s:\n  %s\n  events: %s\n  reproduce: %s" % (
                run.label, what, "\n  ".join(limited(list(problems))),
                "\n    ".join([""] + events) if events else "(none)", run.repro()))

    # --- shared finding checks ----------------------------------------------------

    def finding_problems(self, run, end_reason="watch stopped", true_extra=lambda hang: False):
        """Exactly one hang event per expected (kind, tids), nothing else, each
        thread listed with its name, and each ended once, with end_reason (the
        conditions never clear by themselves). A finding for which
        true_extra(hang) holds (the workload says it happened) is allowed
        beside them; it ends once, for any reason."""
        problems = []
        hangs = run.watch.hangs()
        ready_names = {t["tid"]: t["name"] for t in run.workload.ready["threads"]}
        matched = []
        for kind, tids in run.expected:
            same = [h for h in hangs if h.get("kind") == kind
                    and tuple(sorted(h.get("tids") or [])) == tids]
            if not same:
                near = [h for h in hangs if set(h.get("tids") or []) & set(tids)]
                problems.append("expected a %s finding on %s; %s" % (
                    kind, describe_tids(run, tids),
                    "pyhang reported on those threads: %s" % "; ".join(hl.short(h) for h in near)
                    if near else "nothing was reported on those threads"))
            elif len(same) > 1:
                problems.append("%d %s findings on %s, expected one" % (
                    len(same), kind, describe_tids(run, tids)))
            matched += same
        for hang in hangs:
            if not any(hang is m for m in matched) and not true_extra(hang):
                problems.append("unexpected finding on %s: %s" % (
                    describe_tids(run, hang.get("tids") or []), hl.short(hang)))
        for hang in matched:
            listed = {t.get("tid"): t for t in hang.get("threads") or []}
            for tid in hang.get("tids") or []:
                if tid not in listed:
                    problems.append("finding #%s lists no thread %s in \"threads\"" % (
                        hang.get("id"), tid))
                elif listed[tid].get("name") != ready_names.get(tid):
                    problems.append("finding #%s: thread %s named %r, the workload calls it %r" % (
                        hang.get("id"), tid, listed[tid].get("name"), ready_names.get(tid)))
            problems += ["finding #%s: %s" % (hang.get("id"), p) for p in lib.ns_id_problems(
                hang.get("threads") or [], run.workload.ns_of_host())]
        return problems + self.end_problems(run, end_reason, true_extra)

    def end_problems(self, run, reason, any_reason=lambda hang: False):
        """Every hang ends exactly once, with `reason` (the condition never
        clears), or any reason where any_reason(hang)."""
        problems = []
        ends = run.watch.ends()
        for hang in run.watch.hangs():
            mine = [e for e in ends if e.get("id") == hang.get("id")]
            if len(mine) != 1:
                problems.append("finding #%s has %d hang_end events, expected 1" % (
                    hang.get("id"), len(mine)))
                continue
            end = mine[0]
            if end.get("reason") != reason and not any_reason(hang):
                problems.append("finding #%s ended with reason %r, expected %r" % (
                    hang.get("id"), end.get("reason"), reason))
            if end.get("kind") != hang.get("kind") or end.get("tids") != hang.get("tids"):
                problems.append("hang_end #%s is %s on %s, the hang was %s on %s" % (
                    hang.get("id"), end.get("kind"), end.get("tids"), hang.get("kind"),
                    hang.get("tids")))
        ids = {h.get("id") for h in run.watch.hangs()}
        for end in ends:
            if end.get("id") not in ids:
                problems.append("hang_end for unknown finding: %s" % hl.short(end))
        return problems

    def finding(self, run, kind, tid):
        for hang in run.watch.hangs():
            if hang.get("kind") == kind and tid in (hang.get("tids") or []):
                return hang
        return None

    # --- deadlocks ----------------------------------------------------------------

    def check_deadlock(self, scenario):
        mode = DEADLOCK_MODES[scenario]
        for run in self.runs(scenario):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                ready = run.workload.ready
                by_role = {t["role"]: t["tid"] for t in ready["threads"]}
                holder_of = {e["holds"]: by_role[e["role"]] for e in ready["edges"]}
                wants = {by_role[e["role"]]: e["wants"] for e in ready["edges"]}
                (kind, tids), = run.expected
                hang = self.finding(run, "deadlock", tids[0])
                problems = []
                cycle = hang["evidence"].get("cycle") or []
                if sorted(edge.get("tid") for edge in cycle) != list(tids):
                    problems.append("cycle has threads %s, expected %s" % (
                        [edge.get("tid") for edge in cycle], list(tids)))
                for edge in cycle:
                    tid = edge.get("tid")
                    if tid not in wants:
                        continue
                    lock = ready["locks"][wants[tid]]
                    waits_for = edge.get("waits_for") or {}
                    if waits_for.get("address") != lock["address"]:
                        problems.append("thread %s waits for %s (%s), the cycle says %s" % (
                            tid, wants[tid], lock["address"], waits_for.get("address")))
                    if waits_for.get("type") != lock["type"]:
                        problems.append("lock %s is a %s, the cycle says %r" % (
                            wants[tid], lock["type"], waits_for.get("type")))
                    if edge.get("held_by") != holder_of[wants[tid]]:
                        problems.append("%s is held by %s, the cycle says held_by %s" % (
                            wants[tid], holder_of[wants[tid]], edge.get("held_by")))
                    if edge.get("evidence") != OWNER_EVIDENCE[mode]:
                        problems.append("thread %s: owner evidence %r, expected %r" % (
                            tid, edge.get("evidence"), OWNER_EVIDENCE[mode]))
                    if not edge.get("where"):
                        problems.append("thread %s: empty \"where\"" % tid)
                    elif mode != "rlock" and ready["function"] not in edge["where"]:
                        problems.append("thread %s: where %r does not name %s()" % (
                            tid, edge["where"], ready["function"]))
                for thread in hang.get("threads") or []:
                    frames = thread.get("frames") or [{}]
                    if frames[0].get("function") != ready["function"]:
                        problems.append("thread %s: innermost frame %s, expected %s()" % (
                            thread.get("tid"), frames_text(frames), ready["function"]))
                    if thread.get("holds_gil") is not False:
                        problems.append("thread %s: holds_gil %r" % (thread.get("tid"),
                                                                     thread.get("holds_gil")))
                self.fail_with(run, "deadlock evidence", problems)

    def test_deadlock_with_blocks(self):
        """Two Locks in opposite order in `with` blocks: one deadlock, evidence with_block."""
        self.check_deadlock("deadlock_with")

    def test_deadlock_bare_acquire(self):
        """The same with bare acquire(): owners inferred (inferred_acquire)."""
        self.check_deadlock("deadlock_acquire")

    def test_deadlock_rlocks(self):
        """Two RLocks in opposite order: owners from the RLock (rlock_owner)."""
        self.check_deadlock("deadlock_rlock")

    def test_deadlock_three_threads(self):
        """A holds 1 wants 2, B holds 2 wants 3, C holds 3 wants 1: one 3-thread deadlock."""
        self.check_deadlock("deadlock_three")

    def test_dump_shows_deadlocks(self):
        """`pyhang dump --json` of scenarios 1, 2, 4: the cycle in "deadlocks", state
        "deadlock", waiting_for and holds on its threads."""
        for scenario in ("deadlock_with", "deadlock_acquire", "deadlock_three"):
            for run in self.runs(scenario):
                with self.subTest(scenario=scenario, interpreter=run.interpreter.label):
                    self.usable(run)
                    result = run.dump
                    if result is None or result.hung or result.returncode != 0:
                        self.fail("[%s] dump failed: %s" % (
                            run.label, lib.describe(result) if result else "not run"))
                    dump = json.loads(result.stdout.decode("utf-8"))
                    ready = run.workload.ready
                    by_role = {t["role"]: t["tid"] for t in ready["threads"]}
                    (kind, tids), = run.expected
                    problems = lib.ns_pid_problems(dump, run.workload.pid, ready["pid"])
                    problems += lib.ns_id_problems(dump.get("threads") or [],
                                                   run.workload.ns_of_host())
                    deadlocks = dump.get("deadlocks")
                    if not isinstance(deadlocks, list) or len(deadlocks) != 1:
                        problems.append("\"deadlocks\" is %r, expected one cycle" % (deadlocks,))
                    elif sorted(deadlocks[0].get("tids") or []) != list(tids):
                        problems.append("deadlock tids %s, expected %s" % (
                            deadlocks[0].get("tids"), list(tids)))
                    threads = {t.get("tid"): t for t in dump.get("threads") or []}
                    for edge in ready["edges"]:
                        tid = by_role[edge["role"]]
                        thread = threads.get(tid)
                        if thread is None:
                            problems.append("thread %s missing from the dump" % tid)
                            continue
                        if thread.get("state") != "deadlock":
                            problems.append("thread %s: state %r, expected 'deadlock'" % (
                                tid, thread.get("state")))
                        wanted = ready["locks"][edge["wants"]]["address"]
                        held = ready["locks"][edge["holds"]]["address"]
                        if (thread.get("waiting_for") or {}).get("address") != wanted:
                            problems.append("thread %s: waiting_for %r, expected %s (%s)" % (
                                tid, thread.get("waiting_for"), edge["wants"], wanted))
                        if held not in [h.get("address") for h in thread.get("holds") or []]:
                            problems.append("thread %s: holds %r, expected %s (%s) among them" % (
                                tid, thread.get("holds"), edge["holds"], held))
                    main = threads.get(by_role["main"])
                    if main is not None and main.get("state") == "deadlock":
                        problems.append("the sleeping main thread has state 'deadlock'")
                    if problems:
                        self.fail("[%s] `pyhang dump --pid %s --json`:\n  %s" % (
                            run.label, run.workload.pid, "\n  ".join(problems)))

    # --- one finding per stuck thread -------------------------------------------

    def test_queue_consumers_of_dead_producer(self):
        """Consumers in Queue.get() after the producer died: lock_wait on each,
        waiting for a notification (no owner), stack in Queue.get."""
        for run in self.runs("queue"):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                problems = []
                for tid in run.workload.tids("consumer"):
                    hang = self.finding(run, "lock_wait", tid)
                    evidence = hang.get("evidence") or {}
                    if evidence.get("notification") is not True:
                        problems.append("consumer %s: notification %r, expected true "
                                        "(Queue.get waits in Condition.wait)" % (
                                            tid, evidence.get("notification")))
                    if evidence.get("owner") is not None:
                        problems.append("consumer %s: owner %r, expected null" % (
                            tid, evidence.get("owner")))
                    frames = next(t for t in hang["threads"] if t.get("tid") == tid)["frames"]
                    if not any(f.get("function") == "get" and str(f.get("file")).endswith("queue.py")
                               for f in frames):
                        problems.append("consumer %s: no Queue.get in %s" % (tid, frames_text(frames)))
                self.fail_with(run, "queue evidence", problems)

    def test_http_clients_without_answer(self):
        """http.client and urllib clients on a silent server: io_wait on each,
        evidence.io naming the server's 127.0.0.1:port; nothing on the server."""
        for run in self.runs("http"):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                port = run.workload.ready["port"]
                peer = re.compile(r"127\.0\.0\.1:%d(?!\d)" % port)
                problems = []
                for tid in run.workload.tids("client"):
                    evidence = self.finding(run, "io_wait", tid).get("evidence") or {}
                    io = evidence.get("io") or {}
                    if not peer.search(str(io.get("description"))):
                        problems.append("client %s: io %r does not name the server 127.0.0.1:%d" % (
                            tid, evidence.get("io"), port))
                    if not isinstance(io.get("fd"), int) or io.get("fd") < 0:
                        problems.append("client %s: io.fd %r" % (tid, io.get("fd")))
                    if not evidence.get("blocking_call"):
                        problems.append("client %s: empty blocking_call" % tid)
                self.fail_with(run, "io evidence", problems)

    def test_retry_loop_against_refused_port(self):
        """A thread that keeps failing to connect and sleeping in its handler:
        retry_loop on it alone, its summary and evidence naming the exception
        exactly as traceback prints it (the workload's own), at least two
        rounds, at most one per look; nothing on the poller that succeeds,
        the one that recovered, or the one asleep in a handler."""
        for run in self.runs("retry"):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                line = run.workload.ready["retry_exception"]
                hang = self.finding(run, "retry_loop", run.workload.tid("retrier"))
                evidence = hang.get("evidence") or {}
                exception = evidence.get("exception") or {}
                shown = "%s: %s" % (exception.get("type"), exception.get("message"))
                problems = []
                if shown != line:
                    problems.append("evidence.exception is %r, traceback says %r" % (shown, line))
                if line not in str(hang.get("summary")):
                    problems.append("summary %r does not name %r" % (hang.get("summary"), line))
                rounds = evidence.get("rounds")
                looks = hang.get("duration_s", 0) / 0.25 + 2  # the default --look-interval
                if not isinstance(rounds, int) or not 2 <= rounds <= looks:
                    problems.append("rounds %r, expected 2..%d" % (rounds, looks))
                if "retry" not in str(evidence.get("where")):
                    problems.append("where %r does not name retry()" % evidence.get("where"))
                self.fail_with(run, "retry_loop evidence", problems)

    def test_asyncio_loop_stalled(self):
        """time.sleep() and a blocking recv() inside coroutines: io_wait on each loop
        thread with asyncio.loop_stalled and the coroutine in coroutine_frames;
        nothing on the healthy loop."""
        for run in self.runs("asyncio"):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                problems = []
                for role, coroutine in sorted(run.workload.ready["coroutines"].items()):
                    tid = run.workload.tid(role)
                    evidence = self.finding(run, "io_wait", tid).get("evidence") or {}
                    stalled = evidence.get("asyncio")
                    if not isinstance(stalled, dict) or stalled.get("loop_stalled") is not True:
                        problems.append("loop thread %s (%s): evidence.asyncio is %r" % (
                            tid, role, stalled))
                        continue
                    frames = stalled.get("coroutine_frames") or []
                    if coroutine not in [f.get("function") for f in frames]:
                        problems.append("loop thread %s: %s() not in coroutine_frames %s" % (
                            tid, coroutine, frames_text(frames, 8)))
                self.fail_with(run, "asyncio evidence", problems)

    # --- loops ------------------------------------------------------------------

    def test_busy_loop_beside_healthy_worker(self):
        """busy_loop on the spinning thread only, loop_lines on the loop's lines;
        nothing on the healthy worker."""
        for run in self.runs("busy"):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                ready = run.workload.ready
                allowed = {"%s:%d" % (ready["script"], line) for line in ready["loop_lines"]}
                hang = self.finding(run, "busy_loop", run.workload.tid("spinner"))
                evidence = hang.get("evidence") or {}
                problems = []
                lines = evidence.get("loop_lines")
                if not lines or not set(lines) <= allowed:
                    problems.append("loop_lines %r, expected a non-empty subset of %s" % (
                        lines, sorted(allowed)))
                if not 0 < (evidence.get("cpu_fraction") or 0) <= 1:
                    problems.append("cpu_fraction %r" % evidence.get("cpu_fraction"))
                frames = (hang.get("threads") or [{}])[0].get("frames") or [{}]
                if frames[0].get("function") != ready["loop_function"]:
                    problems.append("innermost frame %s, expected %s()" % (
                        frames_text(frames), ready["loop_function"]))
                self.fail_with(run, "busy loop evidence", problems)

    def test_loop_finding_stays_open_while_looping(self):
        """The busy loop watched 8 s after go with --hang-threshold 1 (first and
        last interpreter): one busy_loop finding, open until the watch stops."""
        runs = [RUNS[key] for key in sorted(RUNS) if key[0] == LONG_LOOP]
        if not runs:
            self.fail("no %s run" % LONG_LOOP)
        for run in runs:
            with self.for_interpreter(run):
                self.usable(run)
                problems = self.finding_problems(run)
                hang = self.finding(run, "busy_loop", run.workload.tid("spinner"))
                if hang is not None and run.watch.stop_sent is not None:
                    open_for = run.watch.stop_sent - run.watch.read_time(hang)
                    if open_for < 4:
                        problems.append("workload problem: watched only %.1f s after the "
                                        "finding" % open_for)
                self.fail_with(run, "loop finding over time", problems)

    def test_native_loop_and_gil_starvation(self):
        """A C loop through ctypes.PyDLL (library loaded at start-up): native_loop on
        the looper (with the C symbol when BPF is available), gil_wait on the
        starver naming the holder."""
        self.check_native("native")

    def test_native_loop_in_library_loaded_while_watched(self):
        """The same, but the library is loaded after pyhang attached and sampled
        the thread (a plugin loaded at run time): the symbol must still be found."""
        self.check_native("native_late")

    def check_native(self, scenario):
        for run in self.runs(scenario):
            with self.for_interpreter(run):
                self.usable(run)
                self.fail_with(run, "findings", self.finding_problems(run))
                looper = run.workload.tid("looper")
                starver = run.workload.tid("starver")
                symbol = run.workload.ready["symbol"]
                problems = []
                native = self.finding(run, "native_loop", looper)
                symbols = (native.get("evidence") or {}).get("native_symbols")
                bpf_missing = "BPF unavailable" in run.watch.stderr_text() or os.geteuid() != 0
                if bpf_missing and REQUIRE_BPF:
                    problems.append("PYHANG_REQUIRE_BPF=1 but BPF is unavailable: %r" % (
                        run.watch.stderr_text()[-300:]))
                elif not bpf_missing and not any(str(s).split(" ")[0] == symbol
                                                 for s in symbols or []):
                    problems.append("native_symbols %r do not include %s (BPF is available; "
                                    "library loaded %s)" % (symbols, symbol,
                                                            run.workload.ready["library_loaded"]))
                frames = (native.get("threads") or [{}])[0].get("frames") or [{}]
                python = [f for f in frames if f.get("kind", "python") == "python"] or [{}]
                if python[0].get("function") != "loop_in_c":
                    problems.append("looper: innermost Python frame %s, expected loop_in_c()" % (
                        frames_text(python)))
                # With BPF the evidence is the whole native stack, the C loop on top.
                natives = [f for f in frames if f.get("kind") == "native"]
                if not bpf_missing and (not natives or natives[0].get("function") != symbol):
                    problems.append("looper: native frames %s, expected %s() innermost" % (
                        [f.get("function") for f in natives[:5]], symbol))
                if not bpf_missing and frames and frames[0].get("kind") != "native":
                    problems.append("looper: the stack does not start with its native frames")
                gil = self.finding(run, "gil_wait", starver)
                holder = (gil.get("evidence") or {}).get("gil_holder")
                if holder != looper:
                    problems.append("gil_wait evidence.gil_holder %r, expected the looper %d" % (
                        holder, looper))
                self.fail_with(run, "native loop evidence", problems)

    # --- latency -----------------------------------------------------------------

    def test_detection_latency(self):
        """threshold -> first hang event: (when the harness read the line) -
        (stuck moment + threshold) < 1.5 s; duration_s in [threshold, threshold + 1.5)."""
        per_interpreter = {}
        failures = []
        for interpreter in INTERPRETERS:
            for scenario in BLOCKING + CPU_HUNGRY + [LONG_LOOP]:
                run = RUNS.get((scenario, interpreter.label))
                if run is None or run.error or run.watch is None:
                    continue
                for kind, tids in run.expected:
                    hang = next((h for h in run.watch.hangs() if h.get("kind") == kind
                                 and tuple(sorted(h.get("tids") or [])) == tids), None)
                    if hang is None:
                        continue  # the scenario test reports it
                    duration = hang.get("duration_s")
                    if not isinstance(duration, (int, float)) or \
                            not run.threshold <= duration < run.threshold + LATENCY_LIMIT_S:
                        failures.append("[%s] %s on %s: duration_s %r, expected in [%.1f, %.1f)" % (
                            run.label, kind, list(tids), duration, run.threshold,
                            run.threshold + LATENCY_LIMIT_S))
                    moments = [run.marks[t] for t in tids if t in run.marks]
                    if not moments:
                        failures.append("[%s] %s on %s: the workload recorded no stuck moment" % (
                            run.label, kind, list(tids)))
                        continue
                    latency = run.watch.read_time(hang) - (max(moments) + run.threshold)
                    per_interpreter.setdefault(interpreter.label, []).append(latency)
                    # duration_s: pyhang's own count; pipe: its "time" -> our read.
                    pipe = run.watch.wall_read.get(id(hang), 0) - (hang.get("time") or 0)
                    print("LATENCY interpreter=%s scenario=%s kind=%s seconds=%.3f "
                          "duration_s=%s pipe_s=%.3f" % (interpreter.label, scenario, kind,
                                                         latency, duration, pipe))
                    if not latency < LATENCY_LIMIT_S:
                        failures.append("[%s] %s on %s reported %.3f s after stuck + threshold "
                                        "(limit %.1f s)\n  reproduce: %s" % (
                                            run.label, kind, list(tids), latency,
                                            LATENCY_LIMIT_S, run.repro()))
        every = []
        for label, values in per_interpreter.items():
            every += values
            print("LATENCY interpreter=%s findings=%d median=%.3f max=%.3f" % (
                label, len(values), statistics.median(values), max(values)))
        if every:
            print("LATENCY all findings=%d median=%.3f max=%.3f" % (
                len(every), statistics.median(every), max(every)))
        sys.stdout.flush()
        if not every:
            failures.append("no latency measured at all")
        if failures:
            self.fail("\n".join(limited(failures)))

    # --- no false findings -----------------------------------------------------------

    def test_no_false_findings_when_idle(self):
        """Sleeping scheduler, idle ThreadPoolExecutor, idle socketserver and
        accept() loop, healthy CPU-bound worker: 60 s with the default
        threshold, zero hang events."""
        for run in self.runs("idle"):
            with self.for_interpreter(run):
                self.usable(run)
                problems = ["false finding on %s: %s" % (
                    describe_tids(run, e.get("tids") or []), hl.short(e))
                    for e in run.watch.hangs() + run.watch.ends()]
                summaries = run.watch.summaries()
                last = (summaries or [{}])[-1].get("elapsed_s") or 0
                if len(summaries) < IDLE_WATCH_S / 2 or last < IDLE_WATCH_S - 2.5:
                    problems.append("workload problem: %d summaries, the last at %.1f s, in a "
                                    "%d s watch" % (len(summaries), last, IDLE_WATCH_S))
                else:
                    seen = {t.get("tid") for t in summaries[-1].get("threads") or []}
                    missing = [t for t in run.workload.tids() if t not in seen]
                    if missing:
                        problems.append("workload threads %s not in the last summary" % (
                            describe_tids(run, missing)))
                    cruncher = run.workload.tid("cruncher")
                    cpu = [t.get("cpu") or 0 for s in summaries for t in s.get("threads") or []
                           if t.get("tid") == cruncher]
                    if not cpu or statistics.mean(cpu) < 0.05:
                        problems.append("the cruncher did not compute (cpu %r...)" % cpu[:5])
                if not run.times.get("target_alive"):
                    problems.append("the workload died during the watch: %s" % (
                        run.workload.log_tail()))
                if len(run.workload.tids("pool")) != 4:
                    problems.append("workload problem: %d pool workers" % len(
                        run.workload.tids("pool")))
                self.fail_with(run, "healthy program", problems)

    # --- bad input -------------------------------------------------------------------

    def test_process_exit_ends_findings(self):
        """The target exits with two findings open: a hang_end "process exited" for
        each, then pyhang exits 0 with one line on stderr, within 2.5 s."""
        for run in self.runs("exit"):
            with self.for_interpreter(run):
                if run.error:
                    self.fail("[%s] %s\n  reproduce: %s" % (run.label, run.error, run.repro()))
                watch = run.watch
                problems = []
                if watch.hung:
                    problems.append("pyhang did not exit within 15 s of the target: " +
                                    watch.describe())
                elif watch.proc.returncode != 0:
                    problems.append("pyhang exited with %s, expected 0: %s" % (
                        watch.proc.returncode, watch.describe()))
                if run.times.get("target_status") != 0:
                    problems.append("workload problem: it exited with %r" % (
                        run.times.get("target_status"),))
                problems += self.finding_problems(run, "process exited")
                exited = run.times.get("target_exited")
                if exited and watch.exit_time and not watch.hung:
                    delay = watch.exit_time - exited
                    if delay > 2.5:
                        problems.append("pyhang exited %.2f s after the target" % delay)
                lines = watch.stderr_text().splitlines()
                if len(lines) != 1 or not lines[0].strip():
                    problems.append("stderr has %d lines, expected one: %r" % (
                        len(lines), watch.stderr_text()[-500:]))
                self.fail_with(run, "target exit", problems)

    def test_thread_churn_no_stale_findings(self):
        """Short-lived threads blocking briefly, one stuck thread: exactly one
        finding, on the stuck thread, open until the watch ends; none on churn
        threads (unless the workload itself released one later than the
        threshold); every hang has its hang_end."""
        for run in self.runs("churn"):
            with self.for_interpreter(run):
                self.usable(run)
                late = self.late_churn_threads(run)

                def really_blocked(hang, run=run, late=late):
                    """A finding on one churn thread that the workload released
                    later than the threshold (a loaded machine) is the truth.
                    The workload times its release; the thread stays blocked
                    until the kernel runs it again, which on a loaded machine
                    can be a look (0.25 s) later: hence the margin."""
                    threads = hang.get("threads") or []
                    return len(threads) == 1 and \
                        late.get(threads[0].get("name"), 0) >= run.threshold - CHURN_WAKE_MARGIN_S
                problems = self.finding_problems(run, true_extra=really_blocked)
                stuck = run.workload.tid("stuck")
                tids = set()
                blocked = 0
                for summary in run.watch.summaries():
                    for thread in summary.get("threads") or []:
                        tids.add(thread.get("tid"))
                        if thread.get("tid") != stuck and thread.get("name", "") and \
                                str(thread.get("name")).startswith("churn-") and \
                                thread.get("state") in ("lock_wait", "io_wait"):
                            blocked += 1
                if len(tids) < 30 or blocked < 10:
                    problems.append("workload problem: pyhang saw only %d threads, %d churn threads "
                                    "blocked" % (len(tids), blocked))
                if problems and late:
                    problems.append("churn threads the workload released late (s): %s" % late)
                self.fail_with(run, "thread churn", problems)

    def late_churn_threads(self, run):
        """{churn thread name: seconds it waited} for those released late."""
        try:
            return run.workload.read_json("late.json")
        except (OSError, ValueError):
            return {}

    def test_run_time(self):
        """Not a check of pyhang: how long the scenarios took."""
        print("RUNTIME seconds=%.1f phase1=%.1f spin_library=%s" % (
            SETUP.get("seconds", 0), SETUP.get("phase1_s", 0),
            SETUP.get("spin_library") or SETUP.get("spin_error")))


if __name__ == "__main__":
    unittest.main()
