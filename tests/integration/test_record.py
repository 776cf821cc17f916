"""`pyhang record` against real interpreters: accuracy, output files, bad input.

- Accuracy, on every supported CPython found in the host's pid namespace
  (pyenv, /usr/bin/python3, the sid root's 3.14/3.15 chrooted) and on one
  pid-namespace twin (the sid root's newest, when there is one):
  tests/workloads/record_split.py has a thread calling f() then g() every
  ~300 us, ~70/30, and reports the CPU time it spent in each, measured with
  time.thread_time_ns(), every 20 ms. `pyhang record -f raw --threads -r 1000`
  must find the same split over the recording window within +-2 percentage
  points, the busy thread's samples must be about its CPU time x rate, and
  >= 99% of them must carry the complete stack (threading's _bootstrap at the
  root, f or g innermost). Prints one `ACCURACY interpreter=... expected=...
  measured=...` line per interpreter on stderr.
  The accuracy runs go two interpreters at a time and want a quiet-ish
  machine: the ACCURACY line gives the CPU share the busy thread had.
- Output files of a real recording: speedscope JSON, gzipped pprof, SVG
  flamegraph, with the totals of the summary line; and, when node and
  tests/output's npm packages are there, speedscope's schema and npm
  pprof-format on the same files.
- Bad input: not a Python pid, an unwritable output path, a rate out of range
  (one stderr line, exit 1 or 2, quick); the target exiting mid-recording (the
  samples so far are written with their stacks, one line says it exited,
  exit 0); the /proc sampler (with one named root per thread).
- `--mode wall` on every interpreter, pid-namespace twins included
  (tests/workloads/record_lock_wait.py): the thread blocked on a Lock shows
  a [lock_wait] leaf under its own stack, the spinners' counts carry their
  Python stacks, and no thread has more counts than the recording's
  duration x rate.

Run: PYHANG_BIN=build/pyhang /usr/bin/python3 -m unittest -v test_record
(as root: BPF). PYHANG_RECORD_SECONDS=N records N s per interpreter for the
accuracy test instead of ~12 s of the busy thread's CPU time.
"""
import concurrent.futures
import gzip
import json
import math
import os
import re
import select
import shutil
import subprocess
import sys
import threading
import time
import traceback
import unittest
import xml.etree.ElementTree as ET

import pyhang_testlib as lib

SPLIT = os.path.join(lib.WORKLOADS, "record_split.py")
LOCK_WAIT = os.path.join(lib.WORKLOADS, "record_lock_wait.py")
OUTPUT_TESTS = os.path.join(lib.REPO, "tests", "output")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
# The recording lasts until the busy thread should have had ~12 s of CPU
# (~12000 samples at 1 kHz: one standard deviation of the measured split is
# then ~0.4-0.5 points), judged from the CPU share it gets just before; 8-20 s.
ACCURACY_TARGET_CPU_S = 12.0
ACCURACY_MIN_S, ACCURACY_MAX_S = 8.0, 20.0
ACCURACY_FIXED_S = os.environ.get("PYHANG_RECORD_SECONDS")  # a fixed length instead
ACCURACY_RATE = 1000
ACCURACY_TOLERANCE_PP = 2.0
COMPLETE_MIN = 0.99
PARALLEL = 2  # workloads at a time: the accuracy runs want a quiet-ish CPU

SUMMARY = re.compile(r"^pyhang: (?:process (\d+) exited; )?wrote (.+): (\d+) samples in "
                     r"([\d.]+) s \((\d+) lost, (\d+) torn, (\d+) errors\)$")
THREAD_ROOT = re.compile(r'^thread (\d+)(?: "(.*)")?$')
BOOTSTRAP = re.compile(r"^(?:Thread\.)?_bootstrap \(threading\.py:\d+\)$")
SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
REQUIRE_BPF = os.environ.get("PYHANG_REQUIRE_BPF") == "1"


def setUpModule():
    # Every test here records with BPF, which needs root; without it pyhang
    # falls back to the /proc sampler and these checks would not be about BPF.
    if os.geteuid() != 0:
        if REQUIRE_BPF:
            raise AssertionError("PYHANG_REQUIRE_BPF=1 but not root: cannot record with BPF")
        raise unittest.SkipTest("needs root (BPF)")


def tearDownModule():
    lib.kill_all()


# --- reading what pyhang wrote ------------------------------------------------

def parse_collapsed(text):
    """[(frames, count)] from `root;...;leaf count` lines."""
    stacks = []
    for line in text.splitlines():
        if not line:
            continue
        stack, _, count = line.rpartition(" ")
        stacks.append((stack.split(";"), int(count)))
    return stacks


def function_of(label):
    """`Thread.run (threading.py:975)` -> `run`; `[lock_wait]` stays as it is."""
    name = label.split(" (", 1)[0]
    return name if name.startswith("[") else name.rsplit(".", 1)[-1]


def file_of(label):
    match = re.search(r" \((.*):\d+\)$", label)
    return match.group(1) if match else None


class Summary:
    def __init__(self, result):
        lines = result.stderr.decode("utf-8", "replace").splitlines()
        self.lines = lines
        match = SUMMARY.match(lines[-1]) if lines else None
        self.ok = match is not None
        if match:
            self.exited_pid = int(match.group(1)) if match.group(1) else None
            self.path = match.group(2)
            self.samples = int(match.group(3))
            self.seconds = float(match.group(4))
            self.lost, self.torn, self.errors = (int(match.group(i)) for i in (5, 6, 7))


# --- workloads ---------------------------------------------------------------

class Workload:
    """A workload whose stdout is read by a thread: its first line, then lines
    of numbers, each kept with nothing else (record_split.py's reports).
    `pid` is the Python's host pid (the launcher's child in a pid namespace)."""

    def __init__(self, interpreter, args, ready_timeout=60):
        self.interpreter = interpreter
        if interpreter.error:
            raise AssertionError("%s cannot be used: %s" % (interpreter.label, interpreter.error))
        self.argv = interpreter.argv(args)
        self.proc = lib.spawn(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.first = None
        self.reports = []  # (monotonic_ns, f_ns, g_ns, rounds, cpu_ns)
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(ready_timeout) or self.first is None:
            lib.kill(self.proc)
            raise AssertionError("`%s` did not start: %r" % (" ".join(self.argv), self.first))
        try:
            self.pid = interpreter.target_pid(self.proc)
        except lib.LaunchError as error:
            lib.kill(self.proc)
            raise AssertionError(str(error))

    def host_tids(self, ns_tids):
        """The host ids of the workload's threads `ns_tids` (its get_native_id()s)."""
        ns_to_host = lib.ns_ids(self.pid)
        missing = [t for t in ns_tids if t not in ns_to_host]
        if missing:
            raise AssertionError("threads %s of the workload are no live threads of process "
                                 "%d" % (missing, self.pid))
        return [ns_to_host[t] for t in ns_tids]

    def _read(self):
        try:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").strip()
                if self.first is None:
                    self.first = line
                    self._ready.set()
                    continue
                fields = line.split()
                if len(fields) == 5:
                    self.reports.append(tuple(int(x) for x in fields))
        except (OSError, ValueError):
            pass
        self._ready.set()

    def stderr(self):
        try:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0)
            return self.proc.stderr.read1(4000).decode("utf-8", "replace") if ready else ""
        except (OSError, ValueError):
            return ""

    def stop(self):
        lib.kill(self.proc)
        self._reader.join(5)


def totals_at(reports, t_ns):
    """(f_ns, g_ns, rounds, cpu_ns) at time t_ns, interpolated between two reports."""
    if not reports or t_ns < reports[0][0] or t_ns > reports[-1][0]:
        raise ValueError("no report around t=%d" % t_ns)
    for before, after in zip(reports, reports[1:]):
        if before[0] <= t_ns <= after[0]:
            span = after[0] - before[0]
            w = (t_ns - before[0]) / span if span else 0.0
            return tuple(b + w * (a - b) for b, a in zip(before[1:], after[1:]))
    return reports[-1][1:]


def split_between(reports, start_ns, end_ns):
    """(f share of f+g in %, f+g share of all CPU in %, CPU seconds) of the
    busy thread between two times."""
    f0, g0, _, cpu0 = totals_at(reports, start_ns)
    f1, g1, _, cpu1 = totals_at(reports, end_ns)
    f, g, cpu = f1 - f0, g1 - g0, cpu1 - cpu0
    return 100.0 * f / (f + g), 100.0 * (f + g) / cpu, cpu / 1e9


def wait_for_reports_after(workload, t_ns, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if workload.reports and workload.reports[-1][0] > t_ns:
            return True
        time.sleep(0.01)
    return False


# --- the accuracy runs -------------------------------------------------------

class AccuracyRun:
    def __init__(self, interpreter):
        self.interpreter = interpreter
        self.error = None
        self.result = None
        self.summary = None
        self.expected = None        # f share (%) over the recording window
        self.expected_whole = None  # f share (%) from pyhang's start to its end
        self.cpu_seconds = None     # busy thread's CPU time over the window
        self.in_f_or_g = None       # % of it inside f and g
        self.busy_tid = None
        self.samples = 0            # the busy thread's samples
        self.f = self.g = 0
        self.complete = 0
        self.unnamed = 0            # busy thread's samples under `thread TID` without name
        self.bad_stacks = {}        # incomplete stack -> count
        self.calibration = None
        self.seconds = None         # length of the recording

    @property
    def label(self):
        return "%s (%s)" % (self.interpreter.label, self.interpreter.where())

    @property
    def measured(self):
        return 100.0 * self.f / (self.f + self.g) if self.f + self.g else float("nan")

    def line(self):
        if self.error:
            return "ACCURACY interpreter=%s ERROR %s" % (self.interpreter.label,
                                                          self.error.splitlines()[0])
        return ("ACCURACY interpreter=%s expected=%.1f measured=%.1f diff=%+.2f "
                "complete=%.2f%% samples=%d expected_samples=%d in_f_or_g=%.2f%% "
                "lost=%d torn=%d errors=%d seconds=%.1f cpu_share=%.2f (split from pyhang "
                "start to end: %.1f; f/g iterations and target us: %s)" % (
                    self.interpreter.label, self.expected, self.measured,
                    self.measured - self.expected,
                    100.0 * self.complete / max(self.samples, 1), self.samples,
                    self.cpu_seconds * ACCURACY_RATE, self.in_f_or_g, self.summary.lost,
                    self.summary.torn, self.summary.errors, self.seconds,
                    self.cpu_seconds / self.seconds, self.expected_whole,
                    self.calibration))


def run_accuracy(interpreter, directory):
    run = AccuracyRun(interpreter)
    try:
        workload = Workload(interpreter, [SPLIT, "--ratio", "0.7", "--period-us", "300",
                                          "--seconds", str(ACCURACY_MAX_S + 60)])
    except AssertionError as error:
        run.error = str(error)
        return run
    try:
        run.calibration = " ".join(workload.first.split()[1:5])
        time.sleep(0.3)  # steady state
        if ACCURACY_FIXED_S:
            run.seconds = float(ACCURACY_FIXED_S)
        else:
            first = len(workload.reports)
            deadline = time.monotonic() + 15
            while (len(workload.reports) < first + 2
                   or workload.reports[-1][0] - workload.reports[first][0] < 10**9):
                if time.monotonic() > deadline or workload.proc.poll() is not None:
                    run.error = ("the workload reported %d times in 15 s (expected every "
                                 "20 ms): %s" % (len(workload.reports) - first,
                                                 workload.stderr()))
                    return run
                time.sleep(0.05)
            (t0, _, _, _, cpu0), (t1, _, _, _, cpu1) = workload.reports[first], workload.reports[-1]
            share = max((cpu1 - cpu0) / max(t1 - t0, 1), 0.01)
            run.seconds = round(min(max(ACCURACY_TARGET_CPU_S / share, ACCURACY_MIN_S),
                                    ACCURACY_MAX_S), 1)
        output = os.path.join(directory, "accuracy-%s.txt" % interpreter.label)
        t_before = time.monotonic_ns()
        run.result = lib.run_pyhang(
            ["record", "-p", workload.pid, "-o", output, "-f", "raw", "--threads",
             "-r", ACCURACY_RATE, "-d", run.seconds], timeout=run.seconds + 30)
        t_after = time.monotonic_ns()
        if not wait_for_reports_after(workload, t_after):
            run.error = "the workload stopped reporting: %s" % workload.stderr()
            return run
        if run.result.hung or run.result.returncode != 0:
            run.error = "pyhang failed: " + lib.describe(run.result)
            return run
        run.summary = Summary(run.result)
        if not run.summary.ok or len(run.summary.lines) != 1:
            run.error = "stderr is not one summary line: " + lib.describe(run.result)
            return run
        # pyhang samples for -d seconds, then renders and writes a small file
        # (milliseconds): that is the window the workload's clocks are read over.
        end = t_after - 5 * 10**6
        start = end - int(run.seconds * 1e9)
        run.expected, run.in_f_or_g, run.cpu_seconds = split_between(
            workload.reports, start, end)
        run.expected_whole, _, _ = split_between(workload.reports, t_before, t_after)
        with open(output, encoding="utf-8") as f:
            stacks = parse_collapsed(f.read())
    finally:
        workload.stop()
    tids = {int(THREAD_ROOT.match(frames[0]).group(1)) for frames, _ in stacks
            if THREAD_ROOT.match(frames[0]) and THREAD_ROOT.match(frames[0]).group(2) == "busy"}
    if len(tids) != 1:
        run.error = "expected one thread named busy in the profile, found tids %s" % sorted(tids)
        return run
    run.busy_tid = tids.pop()
    # The busy thread's own stack where it calls f and g, as the interpreter
    # gave it (traceback.extract_stack()).
    expected_chain = workload.first.split()[5].split(",")
    depth = len(expected_chain)
    for frames, count in stacks:
        root = THREAD_ROOT.match(frames[0])
        if not root or int(root.group(1)) != run.busy_tid:
            continue
        run.samples += count
        if root.group(2) != "busy":
            run.unnamed += count
        names = [function_of(label) for label in frames[1:]]
        if "f" in names[depth:depth + 1]:
            run.f += count
        elif "g" in names[depth:depth + 1]:
            run.g += count
        # Complete: threading's bootstrap at the root, then the workload's
        # own chain down to f or g (callees of f/g would be allowed; none exist).
        complete = (len(frames) > 1 and BOOTSTRAP.match(frames[1]) is not None
                    and names[:depth] == expected_chain and len(names) > depth
                    and names[depth] in ("f", "g")
                    and all(file_of(label) == "record_split.py"
                            for label in frames[depth - 1:depth + 2]))
        if complete:
            run.complete += count
        else:
            key = ";".join(frames)
            run.bad_stacks[key] = run.bad_stacks.get(key, 0) + count
    return run


def accuracy_interpreters():
    """Every interpreter in the host's pid namespace, and one pid-namespace
    twin, the last (the sid root's newest when there is one: both container
    shapes at once). More twins would add a 20 s recording each; wall mode
    below runs all of them, briefly."""
    interpreters = lib.discover_interpreters_without_venvs()
    return lib.in_host_namespace(interpreters) + [i for i in interpreters if i.pidns][-1:]


class AccuracyTest(unittest.TestCase):
    """One recording per interpreter, two interpreters at a time."""

    @classmethod
    def setUpClass(cls):
        cls.interpreters = accuracy_interpreters()
        cls.runs = []
        if not cls.interpreters:
            return
        directory = lib.temp_dir("pyhang-record-accuracy-")
        def guarded(interpreter):
            try:
                return run_accuracy(interpreter, directory)
            except Exception:  # one interpreter's trouble fails its own subTests only
                run = AccuracyRun(interpreter)
                run.error = "the harness failed:\n" + traceback.format_exc()
                return run

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            cls.runs = list(pool.map(guarded, cls.interpreters))
        for run in cls.runs:
            sys.stderr.write(run.line() + "\n")
        sys.stderr.flush()

    def setUp(self):
        if not self.interpreters:
            self.fail("no supported CPython found (%s)" % lib.versions_text(
                lib.supported_versions()))

    def usable_runs(self):
        """Runs that got as far as a profile; the others fail their subTest."""
        for run in self.runs:
            with self.subTest(interpreter=run.interpreter.label):
                if run.error:
                    self.fail("%s: %s" % (run.label, run.error))
        return [run for run in self.runs if not run.error]

    def test_split_within_2_points(self):
        for run in self.usable_runs():
            with self.subTest(interpreter=run.interpreter.label):
                self.assertGreater(run.f + run.g, 0, "%s: no samples in f or g" % run.label)
                self.assertLessEqual(
                    abs(run.measured - run.expected), ACCURACY_TOLERANCE_PP,
                    "%s: pyhang measured f at %.2f%% of f+g, the workload's own CPU clocks "
                    "say %.2f%% (over pyhang's whole run %.2f%%); %d samples in f, %d in g; "
                    "the busy thread had %.0f%% of a CPU (per-CPU clock sampling drifts "
                    "when the target shares its CPU)" % (
                        run.label, run.measured, run.expected, run.expected_whole, run.f,
                        run.g, 100.0 * run.cpu_seconds / run.seconds))

    def test_sample_count_matches_cpu_time(self):
        """About one sample per millisecond of the busy thread's CPU time."""
        for run in self.usable_runs():
            with self.subTest(interpreter=run.interpreter.label):
                expected = run.cpu_seconds * ACCURACY_RATE
                self.assertGreater(expected, 500, "%s: the busy thread got only %.2f s of CPU "
                                   "in %s s" % (run.label, run.cpu_seconds, run.seconds))
                self.assertLess(abs(run.samples / expected - 1), 0.10,
                                "%s: %d samples of the busy thread, its CPU time says %d" % (
                                    run.label, run.samples, expected))

    def test_complete_stacks(self):
        for run in self.usable_runs():
            with self.subTest(interpreter=run.interpreter.label):
                worst = sorted(run.bad_stacks.items(), key=lambda item: -item[1])[:8]
                self.assertGreaterEqual(
                    run.complete, COMPLETE_MIN * run.samples,
                    "%s: only %d of %d samples (%.2f%%) of the busy thread carry its complete "
                    "stack (its own clocks say %.2f%% of its CPU time is in f or g); the "
                    "others:\n%s" % (
                        run.label, run.complete, run.samples,
                        100.0 * run.complete / max(run.samples, 1), run.in_f_or_g,
                        "\n".join("  %6d  %s" % (count, stack) for stack, count in worst)))

    def test_thread_root_always_named(self):
        """Every sample of the busy thread is under `thread TID "busy"`."""
        for run in self.usable_runs():
            with self.subTest(interpreter=run.interpreter.label):
                self.assertEqual(run.unnamed, 0, "%s: %d of %d samples of thread %d under a "
                                 "root without its name" % (run.label, run.unnamed,
                                                            run.samples, run.busy_tid))


# --- helpers for the single recordings ---------------------------------------

def default_interpreter():
    interpreters = lib.in_host_namespace(lib.discover_interpreters_without_venvs())
    if not interpreters:
        raise AssertionError("no supported CPython found (%s)" % lib.versions_text(
            lib.supported_versions()))
    by_label = {i.label: i for i in interpreters}
    return by_label.get("system-python3", interpreters[-1])


def busy_split(stacks):
    """(samples under f, under g, all samples) of the thread named busy."""
    f = g = total = 0
    for frames, count in stacks:
        root = THREAD_ROOT.match(frames[0])
        if not root or root.group(2) != "busy":
            continue
        total += count
        names = [function_of(label) for label in frames[1:]]
        f += count if "f" in names else 0
        g += count if "g" in names else 0
    return f, g, total


def read_varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def proto_fields(data):
    """[(field number, wire type, value)] of one protobuf message (values of
    length-delimited fields are bytes); raises on malformed input."""
    fields = []
    pos = 0
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise ValueError("field %d runs past the end" % number)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError("wire type %d" % wire)
        if number == 0:
            raise ValueError("field number 0")
        fields.append((number, wire, value))
    if pos != len(data):
        raise ValueError("truncated message")
    return fields


def packed_varints(field_values):
    out = []
    for wire, value in field_values:
        if wire == 0:
            out.append(value)
        else:
            pos = 0
            while pos < len(value):
                item, pos = read_varint(value, pos)
                out.append(item)
    return out


def decode_pprof(data):
    """The parts of profile.proto the test checks: string table and sample values."""
    top = proto_fields(data)
    strings = [value.decode("utf-8") for number, _, value in top if number == 6]
    samples = []
    for number, _, value in top:
        if number == 2:
            sample = proto_fields(value)
            locations = packed_varints([(w, v) for n, w, v in sample if n == 1])
            values = packed_varints([(w, v) for n, w, v in sample if n == 2])
            samples.append((locations, values))
    return {"strings": strings, "samples": samples,
            "functions": sum(1 for number, _, _ in top if number == 5),
            "locations": sum(1 for number, _, _ in top if number == 4)}


NODE_CHECK = r"""
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import Ajv from "ajv";
import { Profile } from "pprof-format";
const [speedscopePath, pprofPath] = process.argv.slice(1);
const schema = JSON.parse(readFileSync(join("node_modules", "speedscope", "dist", "release",
                                            "file-format-schema.json"), "utf8"));
const validate = new Ajv({ allErrors: true }).compile(schema);
const document = JSON.parse(readFileSync(speedscopePath, "utf8"));
const valid = validate(document);
const profile = Profile.decode(gunzipSync(readFileSync(pprofPath)));
const strings = profile.stringTable.strings;
const functions = [...new Set(profile.function.map((f) => strings[Number(f.name)]))];
console.log(JSON.stringify({
  speedscope_valid: valid,
  speedscope_errors: validate.errors,
  pprof_samples: profile.sample.reduce((n, s) => n + Number(s.value[0]), 0),
  pprof_sample_types: profile.sampleType.map((t) => strings[Number(t.type)]),
  pprof_functions: functions,
}));
"""


def node_tools():
    """(node path, None) or (None, why node checks cannot run)."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not installed"
    for package in ("ajv", "pprof-format", "speedscope"):
        if not os.path.isdir(os.path.join(OUTPUT_TESTS, "node_modules", package)):
            return None, ("tests/output/node_modules/%s missing (tests/output/run_js_test.sh "
                          "--install)" % package)
    return node, None


def assert_summary_line(test, result, context=""):
    """exit 0 and exactly the summary line on stderr; returns the Summary."""
    test.assertFalse(result.hung, "%s: pyhang hung\n%s" % (context, lib.describe(result)))
    test.assertEqual(result.returncode, EXIT_OK, "%s\n%s" % (context, lib.describe(result)))
    summary = Summary(result)
    test.assertTrue(summary.ok and len(summary.lines) == 1,
                    "%s: stderr is not exactly one summary line\n%s" % (
                        context, lib.describe(result)))
    test.assertEqual(result.stdout, b"", "%s: stdout is not empty" % context)
    return summary


class RecordTest(unittest.TestCase):

    def assert_one_line_error(self, result, code, context=""):
        problems = lib.one_line_error_problems(result, code)
        if problems:
            self.fail("%s%s\n%s" % (context and context + ": ", "; ".join(problems),
                                    lib.describe(result)))

    def assert_summary(self, result, context=""):
        return assert_summary_line(self, result, context)

    def start_split(self, interpreter=None, extra=()):
        interpreter = interpreter or default_interpreter()
        return Workload(interpreter, [SPLIT, "--seconds", "60"] + list(extra))

    # --- output files of a real recording -----------------------------------------

    def test_output_files_from_real_recording(self):
        directory = lib.temp_dir("pyhang-record-formats-")
        paths = {name: os.path.join(directory, name)
                 for name in ("profile.speedscope.json", "profile.pb.gz", "profile.svg")}
        workload = self.start_split()
        summaries = {}
        try:
            for name, fmt in (("profile.speedscope.json", "speedscope"),
                              ("profile.pb.gz", "pprof"), ("profile.svg", "flamegraph")):
                result = lib.run_pyhang(["record", "-p", workload.pid, "-o", paths[name],
                                         "-f", fmt, "-r", 1000, "-d", 1.5])
                summaries[name] = self.assert_summary(result, "-f %s" % fmt)
                self.assertGreater(summaries[name].samples, 100, "-f %s: too few samples\n%s"
                                   % (fmt, lib.describe(result)))
        finally:
            workload.stop()

        with self.subTest(format="speedscope"):
            with open(paths["profile.speedscope.json"], encoding="utf-8") as f:
                document = json.load(f)
            self.assertEqual(document.get("$schema"), SPEEDSCOPE_SCHEMA)
            profiles = document.get("profiles")
            self.assertIsInstance(profiles, list)
            self.assertTrue(profiles, "no profiles")
            frames = document["shared"]["frames"]
            weights = 0
            for profile in profiles:
                self.assertEqual(profile["type"], "sampled")
                self.assertEqual(len(profile["samples"]), len(profile["weights"]))
                for stack in profile["samples"]:
                    for index in stack:
                        self.assertTrue(0 <= index < len(frames), "frame index %r" % index)
                weights += sum(profile["weights"])
            self.assertEqual(weights, summaries["profile.speedscope.json"].samples,
                             "speedscope weights vs the summary line's sample count")
            names = {frame["name"] for frame in frames}
            self.assertTrue({"f", "g", "busy"} <= names, "frames: %s" % sorted(names))
            files = {os.path.basename(frame.get("file", "")) for frame in frames}
            self.assertIn("record_split.py", files)

        with self.subTest(format="pprof"):
            with open(paths["profile.pb.gz"], "rb") as f:
                raw = gzip.decompress(f.read())
            self.assertGreater(len(raw), 0, "empty pprof after gunzip")
            pprof = decode_pprof(raw)
            self.assertEqual(pprof["strings"][:1], [""], "string_table[0] must be empty")
            self.assertTrue({"f", "g", "busy"} <= set(pprof["strings"]),
                            "strings: %s" % pprof["strings"][:50])
            self.assertTrue(pprof["samples"], "no samples")
            self.assertGreater(pprof["functions"], 0)
            self.assertGreater(pprof["locations"], 0)
            self.assertEqual(sum(values[0] for _, values in pprof["samples"]),
                             summaries["profile.pb.gz"].samples,
                             "pprof sample values vs the summary line's sample count")

        with self.subTest(format="flamegraph"):
            tree = ET.parse(paths["profile.svg"])
            root = tree.getroot()
            self.assertEqual(root.tag, "{http://www.w3.org/2000/svg}svg")
            titles = [el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}title")]
            roots = [m for m in (re.match(r"^all \(([\d,]+) samples?, 100%\)$", t)
                                 for t in titles) if m]
            self.assertEqual(len(roots), 1, "no single `all (N samples, 100%%)` title in %s"
                             % titles[:10])
            self.assertEqual(int(roots[0].group(1).replace(",", "")),
                             summaries["profile.svg"].samples)
            self.assertTrue(any(t.startswith("f (") for t in titles), "no frame f in the SVG")

        with self.subTest(format="speedscope schema and pprof-format (node)"):
            node, why_not = node_tools()
            if node is None:
                if REQUIRE_BPF:
                    self.fail("PYHANG_REQUIRE_BPF=1 (CI) but the node checks cannot run: " + why_not)
                self.skipTest(why_not)
            check = subprocess.run([node, "--input-type=module", "-e", NODE_CHECK,
                                    paths["profile.speedscope.json"], paths["profile.pb.gz"]],
                                   cwd=OUTPUT_TESTS, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(check.returncode, 0, check.stderr.decode()[-3000:])
            verdict = json.loads(check.stdout.decode().strip().splitlines()[-1])
            self.assertTrue(verdict["speedscope_valid"],
                            json.dumps(verdict["speedscope_errors"], indent=1)[:3000])
            self.assertEqual(verdict["pprof_samples"], summaries["profile.pb.gz"].samples)
            self.assertEqual(verdict["pprof_sample_types"][:1], ["samples"])
            self.assertTrue({"f", "g", "busy"} <= set(verdict["pprof_functions"]),
                            verdict["pprof_functions"])

    # --- bad input ----------------------------------------------------------------

    def test_not_a_python_process(self):
        proc = lib.spawn(["sleep", "100"])
        try:
            sleep = os.path.realpath(shutil.which("sleep"))
            deadline = time.monotonic() + 10
            while os.path.realpath("/proc/%d/exe" % proc.pid) != sleep:
                self.assertLess(time.monotonic(), deadline, "sleep did not start")
                time.sleep(0.01)
            output = os.path.join(lib.temp_dir("pyhang-record-"), "x.txt")
            result = lib.run_pyhang(["record", "-p", proc.pid, "-o", output, "-f", "raw",
                                     "-d", 10])
            self.assert_one_line_error(result, EXIT_ERROR, "`sleep 100`")
            self.assertLess(result.seconds, 5, lib.describe(result))
            self.assertFalse(os.path.exists(output), "an output file was left behind")
        finally:
            lib.kill(proc)

    def test_output_path_not_writable(self):
        workload = self.start_split()
        try:
            directory = lib.temp_dir("pyhang-record-")
            for path in ("/proc/nonexistent/x.svg", directory,
                         os.path.join(directory, "no", "such", "dir", "x.txt")):
                with self.subTest(output=path):
                    result = lib.run_pyhang(["record", "-p", workload.pid, "-o", path,
                                             "-d", 10])
                    self.assert_one_line_error(result, EXIT_ERROR, "-o %s" % path)
                    self.assertLess(result.seconds, 2.0,
                                    "must fail before sampling, not after\n"
                                    + lib.describe(result))
        finally:
            workload.stop()

    def test_rate_out_of_range(self):
        workload = self.start_split()
        try:
            output = os.path.join(lib.temp_dir("pyhang-record-"), "x.txt")
            for rate in ("0", "10001"):
                with self.subTest(rate=rate):
                    result = lib.run_pyhang(["record", "-p", workload.pid, "-o", output,
                                             "-r", rate, "-d", 10])
                    self.assert_one_line_error(result, EXIT_USAGE, "-r %s" % rate)
                    self.assertLess(result.seconds, 2.0, lib.describe(result))
                    self.assertFalse(os.path.exists(output), "an output file was left behind")
        finally:
            workload.stop()

    def test_target_exits_mid_recording(self):
        workload = self.start_split(extra=["--exit-after", "1.5"])
        output = os.path.join(lib.temp_dir("pyhang-record-"), "exit.txt")
        try:
            result = lib.run_pyhang(["record", "-p", workload.pid, "-o", output, "-f", "raw",
                                     "--threads", "-r", 1000, "-d", 20])
        finally:
            workload.stop()
        summary = self.assert_summary(result, "target exits after 1.5 s of a 20 s recording")
        self.assertEqual(summary.exited_pid, workload.pid,
                         "the line should say the process exited\n" + lib.describe(result))
        self.assertRegex(summary.lines[0], r"\bexited\b")
        self.assertLess(result.seconds, 6, "pyhang kept recording a process that is gone\n"
                        + lib.describe(result))
        with open(output, encoding="utf-8") as f:
            stacks = parse_collapsed(f.read())
        self.assertEqual(sum(count for _, count in stacks), summary.samples)
        f, g, busy = busy_split(stacks)
        self.assertGreater(busy, 200, "too few samples of the busy thread before it exited: "
                           "%d\n%s" % (busy, lib.describe(result)))
        self.assertGreater(f, g, "f has 70%% of the CPU: f=%d g=%d" % (f, g))
        with self.subTest(check="samples up to the exit keep their Python stacks"):
            # The busy thread runs f or g until the very end (os._exit from
            # the main thread): each of its samples should carry that stack.
            complete, broken = 0, {}
            for frames, count in stacks:
                root = THREAD_ROOT.match(frames[0])
                if not root or root.group(2) != "busy":
                    continue
                names = [function_of(label) for label in frames[1:]]
                if len(frames) > 1 and BOOTSTRAP.match(frames[1]) and (
                        "f" in names or "g" in names):
                    complete += count
                else:
                    broken[";".join(frames)] = broken.get(";".join(frames), 0) + count
            worst = sorted(broken.items(), key=lambda item: -item[1])[:8]
            self.assertGreaterEqual(
                complete, COMPLETE_MIN * busy,
                "%d of %d samples of the busy thread (%.1f%%) lost their Python stack; "
                "summary: %s; the worst:\n%s" % (
                    busy - complete, busy, 100.0 * (busy - complete) / busy,
                    summary.lines[0],
                    "\n".join("  %6d  %s" % (count, stack) for stack, count in worst)))

    def test_procfs_sampler(self):
        workload = self.start_split()
        output = os.path.join(lib.temp_dir("pyhang-record-"), "procfs.txt")
        try:
            result = lib.run_pyhang(["record", "-p", workload.pid, "-o", output, "-f", "raw",
                                     "--threads", "--sampler", "procfs", "-r", 200, "-d", 2])
        finally:
            workload.stop()
        summary = self.assert_summary(result, "--sampler procfs")
        with open(output, encoding="utf-8") as f:
            stacks = parse_collapsed(f.read())
        f, g, busy = busy_split(stacks)
        self.assertGreater(busy, 100, "busy thread: %d samples in 2 s at 200 Hz\n%s" % (
            busy, lib.describe(result)))
        # /proc sampling is approximate: the busy function must dominate, the
        # split only roughly right (expected ~70%).
        self.assertGreater(f + g, 0.5 * busy, "f+g=%d of %d busy samples" % (f + g, busy))
        share = 100.0 * f / (f + g)
        sys.stderr.write("PROCFS f share %.1f%% of f+g (expected ~70), %d busy samples, "
                         "summary: %s\n" % (share, busy, summary.lines[0]))
        self.assertTrue(55 <= share <= 85, "f share %.1f%% (expected ~70)" % share)
        with self.subTest(check="every sample of a thread under one named root"):
            names = {}
            for frames, count in stacks:
                root = THREAD_ROOT.match(frames[0])
                if root:
                    names.setdefault(int(root.group(1)), {}).setdefault(root.group(0), 0)
                    names[int(root.group(1))][root.group(0)] += count
            split = {tid: roots for tid, roots in names.items() if len(roots) > 1}
            self.assertEqual(split, {}, "threads whose samples are split between roots with "
                             "and without the name: %s" % split)

    def test_procfs_sampler_keeps_a_low_rate(self):
        """At 5 Hz (a period longer than the slices record runs the sampler
        in) a busy thread gets ~5 samples a second, not one per slice."""
        workload = self.start_split()
        output = os.path.join(lib.temp_dir("pyhang-record-"), "procfs-low.txt")
        seconds, rate = 3, 5
        try:
            result = lib.run_pyhang(["record", "-p", workload.pid, "-o", output, "-f", "raw",
                                     "--threads", "--sampler", "procfs", "-r", rate,
                                     "-d", seconds])
        finally:
            workload.stop()
        self.assert_summary(result, "--sampler procfs -r 5")
        with open(output, encoding="utf-8") as f:
            _, _, busy = busy_split(parse_collapsed(f.read()))
        expected = seconds * rate
        self.assertTrue(0.5 * expected <= busy <= expected + 3,
                        "busy thread: %d samples in %d s at %d Hz (expected ~%d)\n%s" % (
                            busy, seconds, rate, expected, lib.describe(result)))


# --- --mode wall ---------------------------------------------------------------

class WallModeTest(unittest.TestCase):
    """tests/workloads/record_lock_wait.py on every interpreter (two at a time):
    a thread blocked on a Lock and two threads taking turns on the GIL, under
    `record -f raw --threads --mode wall -r 100 -d 1.5`."""

    SECONDS, RATE = 1.5, 100

    @classmethod
    def setUpClass(cls):
        cls.interpreters = lib.discover_interpreters_without_venvs()
        cls.outcomes = []
        directory = lib.temp_dir("pyhang-record-wall-")

        def record(interpreter):
            try:
                return record_unguarded(interpreter)
            except Exception:  # fails this interpreter's subTests only
                return None, None, "the harness failed:\n" + traceback.format_exc()

        def record_unguarded(interpreter):
            workload = Workload(interpreter, [LOCK_WAIT, "60"])
            try:
                tids = dict(zip(("waiter", "spinner-1", "spinner-2"), workload.host_tids(
                    [int(x) for x in workload.first.split()[1:4]])))
                output = os.path.join(directory, "wall-%s.txt" % interpreter.label)
                result = lib.run_pyhang(["record", "-p", workload.pid, "-o", output, "-f",
                                         "raw", "--threads", "--mode", "wall", "-r", cls.RATE,
                                         "-d", cls.SECONDS])
                text = ""
                if os.path.exists(output):
                    with open(output, encoding="utf-8") as f:
                        text = f.read()
                return tids, result, text
            finally:
                workload.stop()

        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            cls.outcomes = list(pool.map(record, cls.interpreters))

    def setUp(self):
        if not self.interpreters:
            self.fail("no supported CPython found (%s)" % lib.versions_text(
                lib.supported_versions()))

    def each(self):
        """(interpreter, tids, parsed stacks, raw text) of the recordings that
        worked; the others fail their subTest here."""
        usable = []
        for interpreter, (tids, result, text) in zip(self.interpreters, self.outcomes):
            with self.subTest(interpreter=interpreter.label):
                if result is None:
                    self.fail("%s: %s" % (interpreter.label, text))
                assert_summary_line(self, result, "%s --mode wall" % interpreter.label)
                usable.append((interpreter, tids, parse_collapsed(text), text))
        return usable

    def test_lock_wait_leaf(self):
        """The thread blocked in Lock.acquire shows as
        `thread TID (waiter);..._bootstrap...;waiter_blocked (...);[lock_wait] N`
        for about the whole recording, and no other thread waits on a lock."""
        expected = self.SECONDS * self.RATE
        for interpreter, tids, stacks, text in self.each():
            with self.subTest(interpreter=interpreter.label):
                self.assertIn(";[lock_wait] ", text)
                lock_wait = other = 0
                for frames, count in stacks:
                    root = THREAD_ROOT.match(frames[0])
                    tid = int(root.group(1)) if root else None
                    if tid in (tids["spinner-1"], tids["spinner-2"]):
                        self.assertNotIn("[lock_wait]", frames,
                                         "a spinner never waits on a lock: %s" % frames)
                    if tid != tids["waiter"]:
                        continue
                    names = [function_of(label) for label in frames[1:]]
                    if (frames[-1] == "[lock_wait]" and root.group(2) == "waiter"
                            and BOOTSTRAP.match(frames[1])
                            and names[-2:] == ["waiter_blocked", "[lock_wait]"]):
                        lock_wait += count
                    else:
                        other += count
                self.assertGreater(lock_wait, 0.8 * expected,
                                   "%s: [lock_wait] weight %d of the waiter (other %d), "
                                   "expected ~%d:\n%s" % (interpreter.label, lock_wait, other,
                                                          expected, text[:3000]))
                self.assertLessEqual(other, 0.05 * lock_wait,
                                     "%s: the waiter shows %d outside [lock_wait]:\n%s" % (
                                         interpreter.label, other, text[:3000]))

    def test_spinners_keep_their_python_stacks(self):
        """Each spinner's counts, on CPU or waiting for the GIL, carry its
        Python stack: `thread TID "spinner-N";..._bootstrap...;spin` (then
        [gil_wait] or nothing) for >= 95% of them. Counts alone would pass a
        sampler that finds no thread state (e.g. one matching namespace tids
        against host tids) and records bare native addresses."""
        for interpreter, tids, stacks, text in self.each():
            with self.subTest(interpreter=interpreter.label):
                for name in ("spinner-1", "spinner-2"):
                    good = bad = 0
                    for frames, count in stacks:
                        root = THREAD_ROOT.match(frames[0])
                        if not root or int(root.group(1)) != tids[name]:
                            continue
                        names = [function_of(label) for label in frames[1:]]
                        if names and names[-1] == "[gil_wait]":
                            names = names[:-1]
                        if len(frames) > 1 and BOOTSTRAP.match(frames[1]) and \
                                names[-1:] == ["spin"]:
                            good += count
                        else:
                            bad += count
                    self.assertGreaterEqual(
                        good, 0.95 * (good + bad),
                        "%s: %s (%d): %d of %d counts without its Python stack (..."
                        "_bootstrap;...;spin):\n%s" % (interpreter.label, name, tids[name], bad,
                                                       good + bad, text[:3000]))
                    self.assertGreater(good + bad, 0, "%s: no counts for %s" % (
                        interpreter.label, name))

    def test_no_thread_has_more_time_than_the_recording(self):
        """In wall mode a thread's counts add up to the time it was observed:
        at most SECONDS x RATE each, plus 5% and the sampling noise of its
        on-CPU part (a count of samples, so 4 x sqrt(count); the off-CPU part
        is measured time). Double-counted time would go far past that. The
        spinners are always running, preempted or waiting for the GIL (5 ms
        turns), so they also have at least 80% of it (a missing thread fails
        here)."""
        floor = 0.80 * self.SECONDS * self.RATE
        for interpreter, tids, stacks, text in self.each():
            with self.subTest(interpreter=interpreter.label):
                per_thread = {}
                for frames, count in stacks:
                    root = THREAD_ROOT.match(frames[0])
                    tid = int(root.group(1)) if root else None
                    state = frames[-1] if frames[-1].startswith("[") else "on CPU"
                    per_thread.setdefault(tid, {}).setdefault(state, 0)
                    per_thread[tid][state] += count
                for name, tid in sorted(tids.items()):
                    states = per_thread.get(tid, {})
                    limit = (1.05 * self.SECONDS * self.RATE
                             + 4 * math.sqrt(states.get("on CPU", 0)) + 2)
                    self.assertLessEqual(
                        sum(states.values()), limit,
                        "%s: thread %s (%d) has %d counts in a %.1f s recording at %d Hz "
                        "(%d possible, limit %.0f with sampling noise): %s" % (
                            interpreter.label, name, tid, sum(states.values()), self.SECONDS,
                            self.RATE, self.SECONDS * self.RATE, limit, states))
                    if name.startswith("spinner"):
                        self.assertGreaterEqual(
                            sum(states.values()), floor,
                            "%s: spinner %s (%d) has only %d counts in a %.1f s recording at "
                            "%d Hz: %s" % (interpreter.label, name, tid, sum(states.values()),
                                           self.SECONDS, self.RATE, states))

if __name__ == "__main__":
    unittest.main()
