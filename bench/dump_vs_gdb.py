#!/usr/bin/env python3
"""pyhang dump vs gdb's `thread apply all py-bt`, on the same process.

Target: Debian's /usr/bin/python3 (python3.11-dbg installed so that gdb's
py-bt works), 100 threads x 50 Python frames, all blocked, plus a
heartbeat thread that records every stall of the process (see
workloads/deep_threads.py). For each tool: wall time per run (median of
several runs) and how long it stopped the target (the longest heartbeat
gap inside the tool's run, next to the longest gap with no tool running).
Native stacks too: `pyhang dump --native` (BPF copies every thread's
stack without stopping it, libdwfl unwinds) next to gdb's `thread apply
all bt`, which stops the process as py-spy/pystack --native do.

Usage: sudo bench/dump_vs_gdb.py [--runs N] [--gdb-runs N] [--python PATH]
Needs: root (gdb attaches with ptrace), gdb and python3.11-dbg
(tools/install-deps.sh bench), and build/pyhang.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def start_target(python, workdir, threads, depth, extra=()):
    """python: an interpreter path, or an argv prefix that runs one (e.g. chrooted)."""
    ready = os.path.join(workdir, "ready")
    stalls = os.path.join(workdir, "stalls.log")
    open(stalls, "w").close()
    launcher = list(python) if isinstance(python, (list, tuple)) else [python]
    process = subprocess.Popen(launcher + [os.path.join(HERE, "workloads", "deep_threads.py"),
                                           ready, stalls, str(threads), str(depth)] + list(extra))
    deadline = time.monotonic() + 60
    while not os.path.exists(ready):
        if time.monotonic() > deadline or process.poll() is not None:
            raise SystemExit("benchmark target did not start")
        time.sleep(0.05)
    time.sleep(0.5)  # let the heartbeat settle
    return process, stalls


def stalls_between(stall_log, start_ns, end_ns):
    """Longest and total stall (ms) that overlaps [start_ns, end_ns]."""
    longest = total = 0.0
    with open(stall_log) as log:
        for line in log:
            began, gap = (int(field) for field in line.split())
            if began + gap >= start_ns and began <= end_ns:
                longest = max(longest, gap / 1e6)
                total += gap / 1e6
    return longest, total


def timed_run(command, stall_log):
    start = time.monotonic_ns()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic_ns()
    time.sleep(0.05)  # the heartbeat writes a stall once it resumes
    longest, total = stalls_between(stall_log, start, end + 50_000_000)
    return (end - start) / 1e6, longest, total, result


def measure(name, command, runs, stall_log, check):
    times, longest_stalls, total_stalls = [], [], []
    for _ in range(runs):
        elapsed, longest, total, result = timed_run(command, stall_log)
        if result.returncode != 0 or not check(result.stdout):
            raise SystemExit("%s failed: rc=%d\n%s" % (name, result.returncode, result.stderr[-2000:]))
        times.append(elapsed)
        longest_stalls.append(longest)
        total_stalls.append(total)
    return {"name": name, "runs": runs, "median_ms": statistics.median(times),
            "min_ms": min(times), "max_ms": max(times),
            "stopped_median_ms": statistics.median(longest_stalls),
            "stopped_max_ms": max(longest_stalls)}


def baseline_stalls(stall_log, seconds):
    start = time.monotonic_ns()
    time.sleep(seconds)
    return stalls_between(stall_log, start, time.monotonic_ns())[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="pyhang runs")
    parser.add_argument("--gdb-runs", type=int, default=5, help="gdb runs")
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: gdb needs ptrace rights")
    if not shutil.which("gdb"):
        raise SystemExit("gdb is missing: tools/install-deps.sh bench")

    workdir = tempfile.mkdtemp(prefix="pyhang-bench-")
    target, stall_log = start_target(args.python, workdir, args.threads, args.depth)
    try:
        pid = str(target.pid)
        expected_frames = args.threads * args.depth
        noise = baseline_stalls(stall_log, 2.0)
        pyhang = measure("pyhang dump", [args.pyhang, "dump", "--pid", pid, "--no-source"],
                         args.runs, stall_log,
                         lambda out: out.count("descend (") >= expected_frames - 3 * args.threads)
        pyhang_json = measure("pyhang dump --json", [args.pyhang, "dump", "--pid", pid, "--json"],
                              args.runs, stall_log, lambda out: out.count('"descend"') > 0)
        gdb = measure("gdb py-bt", ["gdb", "-p", pid, "-batch", "-ex", "thread apply all py-bt"],
                      args.gdb_runs, stall_log,
                      lambda out: out.count("in descend") >= expected_frames - 3 * args.threads)
        native = measure("pyhang dump --native", [args.pyhang, "dump", "--pid", pid, "--native",
                                                  "--no-source"], args.runs, stall_log,
                         lambda out: out.count("[native]") >= args.threads * 5)
        gdb_bt = measure("gdb bt", ["gdb", "-p", pid, "-batch", "-ex", "set pagination off",
                                    "-ex", "thread apply all bt"], args.gdb_runs, stall_log,
                         lambda out: out.count("\n#") >= args.threads * 5)
    finally:
        target.kill()
        target.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    print("target: %s, %d threads x %d frames, pid %s" % (args.python, args.threads, args.depth, pid))
    print("heartbeat stalls > 5 ms with no tool running (2 s): longest %.1f ms" % noise)
    print("%-20s %6s %12s %10s %10s %18s" % ("tool", "runs", "median ms", "min ms", "max ms",
                                              "stopped ms (med/max)"))
    for row in (pyhang, pyhang_json, gdb, native, gdb_bt):
        print("%-20s %6d %12.1f %10.1f %10.1f %10.1f / %.1f" % (
            row["name"], row["runs"], row["median_ms"], row["min_ms"], row["max_ms"],
            row["stopped_median_ms"], row["stopped_max_ms"]))
    print("speedup of pyhang dump over gdb (median/median): %.0fx" % (gdb["median_ms"] / pyhang["median_ms"]))
    print("speedup of pyhang dump --native over gdb bt (median/median): %.1fx" % (
        gdb_bt["median_ms"] / native["median_ms"]))


if __name__ == "__main__":
    sys.exit(main())
