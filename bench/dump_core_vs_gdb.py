#!/usr/bin/env python3
"""pyhang dump --core vs gdb's `thread apply all py-bt`, on the same core file.

1. Speed. Target: bench/workloads/deep_threads.py on Debian's
   /usr/bin/python3, 100 threads x 50 Python frames, all blocked. Once it
   is ready, `gcore -o PREFIX PID` writes its core and the target is killed.
   The core is read once (page cache warm), each tool runs once to warm up
   and to check its output, then the tools run in interleaved rounds (the
   order rotates every round): `pyhang dump --core` (text, --json and
   --native) --runs times, `gdb -nx -iex 'set debuginfod enabled off'
   -batch -ex 'thread apply all py-bt' PYTHON CORE` --gdb-runs times (no
   ~/.gdbinit, no network). Reported: the median wall time, min, max,
   the peak RSS (wait4's ru_maxrss, of the warm-up run: see run_measured),
   and how many threads printed all their `descend` frames; a tool that
   exits non-zero or prints fewer stops the bench, loudly.
   Goal: gdb / pyhang dump (median/median) >= 20.
2. Memory. Target: bench/workloads/big_heap.py, a 1 GiB bytearray with
   every page written, plus 4 blocked threads; gcore'd the same way.
   Reported: the core's size and pyhang dump --core's peak RSS (the max of
   --runs runs; --json and --native too, for information).
   Goal: <= 64 MiB (pyhang maps the core; it never reads it all in).

The cores go to a temporary directory under /var/tmp, deleted at the end
unless --keep. Before each gcore the bench checks the free space (at least
3 GiB, and more than the target's readable mappings) and skips that part
with a message when it is short.

Usage: sudo bench/dump_core_vs_gdb.py [--runs N] [--gdb-runs N] [--keep]
                                      [--pyhang PATH] [--check]
  --check: exit 1 when a goal is missed (or gdb's row cannot be measured).
Needs: root (gcore attaches with ptrace), gdb (gcore is in it) and, for
py-bt on Debian's python3.11, python3.11-dbg (tools/install-deps.sh bench),
and build/pyhang.
"""
import argparse
import ctypes
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
PYHANG_THREAD = re.compile(r"^Thread \d+ ", re.M)
PYHANG_FRAME = re.compile(r"^\s+descend \(", re.M)
GDB_THREAD = re.compile(r"^Thread \d+ \(", re.M)
GDB_FRAME = re.compile(r'^\s+File ".*", line \d+, in descend$', re.M)
RUN_TIMEOUT_S = 300
MIN_FREE = 3 << 30
MIB = 1 << 20
# -nx: no ~/.gdbinit; debuginfod off: no network lookups inside the timing.
GDB = ["gdb", "-nx", "-iex", "set debuginfod enabled off", "-batch"]
SPEED_GOAL = 20.0
RSS_GOAL_MIB = 64.0


# Peak RSS: ru_maxrss of a child that Python spawns starts at this Python
# process's own peak (exec records the old address space's high-water mark,
# and posix_spawn/vfork share it), ~30 MiB here. So for an RSS run a shell
# starts the tool in the background and exits; the tool is reparented to us
# (PR_SET_CHILD_SUBREAPER) and reaped with wait4: its ru_maxrss is its own
# (the shell's ~1 MiB at fork at most). Timed runs spawn the tool directly.
PR_SET_CHILD_SUBREAPER = 36
BACKGROUND = 'out=$1 err=$2; shift 2; "$@" >"$out" 2>"$err" </dev/null & echo $!'


def become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER): %s" % os.strerror(ctypes.get_errno()))


def run_measured(argv, workdir, rss=False, timeout=RUN_TIMEOUT_S):
    """(wall ms, exit code, peak RSS MiB or None, stdout, stderr); output goes to files.
    rss: measure the peak RSS (through a shell: the wall time then includes it)."""
    out_path, err_path = os.path.join(workdir, "out"), os.path.join(workdir, "err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.monotonic_ns()
        if rss:
            shell = subprocess.run(["/bin/sh", "-c", BACKGROUND, "sh", out_path, err_path] + argv,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
            pid = int(shell.stdout)
        else:
            pid = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err).pid
        timer = threading.Timer(timeout, os.kill, (pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(pid, 0)
        finally:
            timer.cancel()
        end = time.monotonic_ns()
    code = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as out, open(err_path, errors="replace") as err:
        stdout, stderr = ANSI.sub("", out.read()), ANSI.sub("", err.read())
    if code == -signal.SIGKILL and (end - start) / 1e9 >= timeout:
        stderr += "\ntimed out after %d s" % timeout
    return ((end - start) / 1e6, code, usage.ru_maxrss / 1024.0 if rss else None,
            stdout, stderr)


def full_threads_text(out, thread_re, frame_re, depth):
    """Threads whose block holds exactly `depth` descend frames, and all descend frames."""
    blocks = thread_re.split(out)[1:]
    return (sum(1 for block in blocks if len(frame_re.findall(block)) == depth),
            len(frame_re.findall(out)))


def pyhang_text_counter(depth):
    return lambda out: full_threads_text(out, PYHANG_THREAD, PYHANG_FRAME, depth)


def gdb_counter(depth):
    return lambda out: full_threads_text(out, GDB_THREAD, GDB_FRAME, depth)


def pyhang_json_counter(depth):
    def count(out):
        document = json.loads(out)
        per_thread = [sum(1 for frame in thread["frames"] if frame["function"] == "descend")
                      for thread in document["threads"]]
        return sum(1 for frames in per_thread if frames == depth), sum(per_thread)
    return count


class Tool:
    def __init__(self, name, argv, count, runs):
        self.name, self.argv, self.count, self.runs = name, argv, count, runs
        self.times, self.rss = [], []
        self.threads = self.frames = None
        self.failure = None  # why this tool cannot be measured (not an output mismatch)

    def run(self, workdir, expected_threads, record=True, rss=False):
        """One run, its output checked; record: keep its wall time, rss: its peak RSS."""
        elapsed, code, peak, out, err = run_measured(self.argv, workdir, rss)
        if code != 0:
            lines = [line.strip() for line in err.splitlines() if line.strip()]
            raise SystemExit("%s FAILED: rc=%d after %.0f ms: %s\n  command: %s" % (
                self.name, code, elapsed, lines[-1] if lines else "(no message)",
                " ".join(self.argv)))
        try:
            threads, frames = self.count(out)
        except (ValueError, KeyError, TypeError) as error:
            raise SystemExit("%s FAILED: rc=0 after %.0f ms, unreadable output (%s)\n"
                             "  command: %s" % (self.name, elapsed, error, " ".join(self.argv)))
        if threads != expected_threads:
            printed = [" ".join(line.split()) for line in out.splitlines() if line.strip()]
            errors = [line.strip() for line in err.splitlines() if line.strip()]
            raise SystemExit(
                "%s FAILED: rc=0 after %.0f ms but only %d of the %d threads printed all their "
                "descend frames (%d descend frames in all)\n  command: %s\n"
                "  its output (%d lines) begins: %s\n  its stderr ends: %s" % (
                    self.name, elapsed, threads, expected_threads, frames, " ".join(self.argv),
                    len(printed), " | ".join(printed[:3]) or "(none)",
                    " | ".join(errors[-3:]) or "(none)"))
        self.threads, self.frames = threads, frames
        if rss:
            self.rss.append(peak)
        elif record:
            self.times.append(elapsed)


def readable_bytes(pid):
    """Bytes in the readable mappings of a process: about what gcore writes."""
    total = 0
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            fields = line.split()
            if fields[1].startswith("r") and not line.rstrip().endswith(("[vvar]", "[vsyscall]")):
                low, high = (int(part, 16) for part in fields[0].split("-"))
                total += high - low
    return total


def start_workload(python, argv, ready):
    process = subprocess.Popen([python] + argv, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not os.path.exists(ready):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            process.wait()
            raise SystemExit("benchmark target did not start: %s %s" % (python, " ".join(argv)))
        time.sleep(0.05)
    return process


def take_core(process, coredir, name):
    """gcore the target, kill it; (core path, size, seconds) or (None, why, 0)."""
    try:
        need = max(MIN_FREE, readable_bytes(process.pid) + 512 * MIB)
        free = shutil.disk_usage(coredir).free
        if free < need:
            return None, "only %.1f GiB free in %s, %.1f GiB needed" % (
                free / (1 << 30), coredir, need / (1 << 30)), 0
        prefix = os.path.join(coredir, name)
        start = time.monotonic()
        result = subprocess.run(["gcore", "-o", prefix, str(process.pid)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors="replace")
        seconds = time.monotonic() - start
        core = "%s.%d" % (prefix, process.pid)
        if result.returncode != 0 or not os.path.exists(core):
            raise SystemExit("gcore failed (rc=%d): %s" % (
                result.returncode, result.stdout.strip()[-2000:]))
        return core, os.path.getsize(core), seconds
    finally:
        process.kill()
        process.wait()


def warm(path):
    with open(path, "rb", buffering=0) as core:
        while core.read(16 * MIB):
            pass


def py_bt_missing(python):
    """None when gdb has py-bt for this interpreter, else why not and what to install."""
    probe = subprocess.run(GDB + ["-ex", "help py-bt", python], stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace")
    if probe.returncode == 0 and "Undefined command" not in probe.stdout:
        return None
    version = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             stdout=subprocess.PIPE, text=True).stdout.strip() or "3.X"
    return ("gdb has no py-bt for %s (%s): it comes with python%s-dbg, which is missing "
            "(tools/install-deps.sh bench)" % (
                python, probe.stdout.strip().splitlines()[-1] if probe.stdout.strip() else
                "rc=%d" % probe.returncode, version))


def speed(args, coredir, workdir):
    ready = os.path.join(coredir, "ready")
    target = start_workload(args.python, [os.path.join(HERE, "workloads", "deep_threads.py"),
                                          ready, os.path.join(coredir, "stalls.log"),
                                          str(args.threads), str(args.depth)], ready)
    time.sleep(0.2)
    core, size, seconds = take_core(target, coredir, "deep_threads")
    if core is None:
        print("speed: skipped: %s" % size)
        return {"skipped": size}
    print("core: %s (%.0f MiB, gcore took %.1f s): %s, %d threads x %d frames" % (
        core, size / MIB, seconds, args.python, args.threads, args.depth))
    warm(core)
    depth = args.depth - 3  # descend frames per thread: the thread's own 3 frames are not
    tools = [
        Tool("pyhang dump --core", [args.pyhang, "dump", "--core", core],
             pyhang_text_counter(depth), args.runs),
        Tool("pyhang dump --core --json", [args.pyhang, "dump", "--core", core, "--json"],
             pyhang_json_counter(depth), args.runs),
        Tool("pyhang dump --core --native", [args.pyhang, "dump", "--core", core, "--native"],
             pyhang_text_counter(depth), args.runs),
    ]
    gdb = Tool("gdb py-bt", GDB + ["-ex", "thread apply all py-bt", args.python, core],
               gdb_counter(depth), args.gdb_runs)
    gdb.failure = py_bt_missing(args.python)
    if gdb.failure is None:
        tools.append(gdb)
    for tool in tools:  # warm-up, output check and peak RSS
        tool.run(workdir, args.threads, rss=True)
    for round_ in range(max(tool.runs for tool in tools)):
        shift = round_ % len(tools)
        for tool in tools[shift:] + tools[:shift]:
            if len(tool.times) < tool.runs:
                tool.run(workdir, args.threads)
    if not args.keep:
        os.unlink(core)

    print("%-28s %5s %10s %9s %9s %14s %16s" % ("tool", "runs", "median ms", "min ms", "max ms",
                                               "peak RSS MiB", "threads/frames"))
    for tool in tools:
        print("%-28s %5d %10.1f %9.1f %9.1f %14.1f %9d/%d" % (
            tool.name, len(tool.times), statistics.median(tool.times), min(tool.times),
            max(tool.times), max(tool.rss), tool.threads, tool.frames))
    result = {"tools": {tool.name: statistics.median(tool.times) for tool in tools}}
    if gdb.failure:
        print("gdb py-bt: not measured: %s" % gdb.failure)
        result["gdb_missing"] = gdb.failure
        return result
    for tool in tools[:-1]:
        print("gdb py-bt / %s (median/median): %.0fx" % (
            tool.name, statistics.median(gdb.times) / statistics.median(tool.times)))
    ratio = statistics.median(gdb.times) / statistics.median(tools[0].times)
    result["ratio"] = ratio
    print("speed goal (gdb / pyhang dump --core >= %.0fx): %.0fx -> %s" % (
        SPEED_GOAL, ratio, "met" if ratio >= SPEED_GOAL else "NOT met"))
    return result


def memory(args, coredir, workdir):
    ready = os.path.join(coredir, "ready-big")
    threads, depth = 4, 20
    target = start_workload(args.python, [os.path.join(HERE, "workloads", "big_heap.py"),
                                          ready, str(args.big_mib), str(threads), str(depth)],
                            ready)
    core, size, seconds = take_core(target, coredir, "big_heap")
    if core is None:
        print("memory: skipped: %s" % size)
        return {"skipped": size}
    print("core: %s (%.0f MiB, gcore took %.1f s): %s, a %d MiB bytearray, %d threads x %d "
          "frames" % (core, size / MIB, seconds, args.python, args.big_mib, threads, depth))
    tools = [
        Tool("pyhang dump --core", [args.pyhang, "dump", "--core", core],
             pyhang_text_counter(depth - 3), args.runs),
        Tool("pyhang dump --core --json", [args.pyhang, "dump", "--core", core, "--json"],
             pyhang_json_counter(depth - 3), args.runs),
        Tool("pyhang dump --core --native", [args.pyhang, "dump", "--core", core, "--native"],
             pyhang_text_counter(depth - 3), args.runs),
    ]
    try:
        for round_ in range(args.runs):
            shift = round_ % len(tools)
            for tool in tools[shift:] + tools[:shift]:
                tool.run(workdir, threads, rss=True)
                tool.run(workdir, threads)
    finally:
        if not args.keep:
            os.unlink(core)
    print("%-28s %5s %10s %14s %14s" % ("tool", "runs", "median ms", "peak RSS MiB",
                                       "RSS / core"))
    for tool in tools:
        print("%-28s %5d %10.1f %14.1f %13.1f%%" % (
            tool.name, len(tool.times), statistics.median(tool.times), max(tool.rss),
            100.0 * max(tool.rss) * MIB / size))
    _, _, baseline, _, _ = run_measured([args.pyhang, "dump", "--help"], workdir, rss=True)
    print("for scale: pyhang dump --help peaks at %.1f MiB" % baseline)
    rss = max(tools[0].rss)
    print("memory goal (pyhang dump --core peak RSS <= %.0f MiB on a %.0f MiB core): "
          "%.1f MiB -> %s" % (RSS_GOAL_MIB, size / MIB, rss,
                              "met" if rss <= RSS_GOAL_MIB else "NOT met"))
    return {"rss_mib": rss, "core_mib": size / MIB}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="pyhang runs (per variant)")
    parser.add_argument("--gdb-runs", type=int, default=3, help="gdb runs")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--big-mib", type=int, default=1024,
                        help="heap of the memory part's target, MiB")
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"))
    parser.add_argument("--keep", action="store_true", help="keep the core files")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: gcore attaches to the target with ptrace")
    become_subreaper()
    if not shutil.which("gdb") or not shutil.which("gcore"):
        raise SystemExit("gdb (with gcore) is missing: tools/install-deps.sh bench")
    if not os.access(args.pyhang, os.X_OK):
        raise SystemExit("%s is missing: build it with tools/build.sh" % args.pyhang)
    if args.depth < 4 or args.runs < 1 or args.gdb_runs < 1:
        raise SystemExit("--depth must be at least 4, --runs and --gdb-runs at least 1")
    # A private copy: a rebuild of build/pyhang during the bench cannot break it.
    bindir = tempfile.mkdtemp(prefix="pyhang-bench-bin-")
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(args.pyhang).st_mtime))
    pyhang_copy = os.path.join(bindir, "pyhang")
    shutil.copy2(args.pyhang, pyhang_copy)
    print("pyhang: %s (built %s; a copy is timed)" % (args.pyhang, built))
    args.pyhang = pyhang_copy
    coredir = tempfile.mkdtemp(prefix="pyhang-core-bench-", dir="/var/tmp")
    try:
        print("\n== speed: %d pyhang runs and %d gdb runs per tool after one warm-up ==" % (
            args.runs, args.gdb_runs))
        try:
            fast = speed(args, coredir, bindir)
            print("\n== memory: peak RSS on a ~%d MiB core ==" % args.big_mib)
            small = memory(args, coredir, bindir)
        except SystemExit as error:
            if isinstance(error.code, str) and not args.keep:
                raise SystemExit(error.code + "\n  (the cores are deleted now; --keep keeps them)")
            raise
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
        if args.keep:
            print("\ncores kept in %s" % coredir)
        else:
            shutil.rmtree(coredir, ignore_errors=True)

    bad = []
    if "skipped" in fast:
        bad.append("speed skipped: " + fast["skipped"])
    elif "gdb_missing" in fast:
        bad.append("speed: " + fast["gdb_missing"])
    elif fast["ratio"] < SPEED_GOAL:
        bad.append("speed: gdb / pyhang %.0fx < %.0fx" % (fast["ratio"], SPEED_GOAL))
    if "skipped" in small:
        bad.append("memory skipped: " + small["skipped"])
    elif small["rss_mib"] > RSS_GOAL_MIB:
        bad.append("memory: %.1f MiB > %.0f MiB" % (small["rss_mib"], RSS_GOAL_MIB))
    print("\nsummary: %s" % ("; ".join(bad) if bad else "both goals met"))
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
