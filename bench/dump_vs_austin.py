#!/usr/bin/env python3
"""pyhang dump vs austin -w, on the same process, on several interpreters.

Target: bench/workloads/deep_threads.py, 100 threads x 50 Python frames, all
blocked, plus a heartbeat thread that records every stall of the process.
It runs on Debian's /usr/bin/python3 (3.11) and, when the sid root exists
($PYHANG_SID_ROOT, else /var/cache/pyhang/sid-root; built by
tools/sid-root.sh), on its CPython 3.15, started chrooted into that root
with the same paths for the repository and /tmp (the shape of a container).

Each tool runs once to warm up and to check its output, then --runs rounds,
interleaved (the order rotates every round), so that the machine's noise
hits every tool alike. Reported: the median wall time, min, max, how long the
target was stopped (the longest heartbeat gap inside a run), and how many of
the expected `descend` frames the tool printed. A tool that exits non-zero
or prints the wrong frames is reported as failed, with its own message.

The austin column appears when an `austin` binary is given by $AUSTIN or
found on PATH (build one from austin's source with tools/build-austin.sh);
otherwise the bench says why it is missing and times pyhang alone.

Usage: sudo bench/dump_vs_austin.py [--runs N] [--target SPEC]... [--check]
  SPEC: an interpreter path (e.g. /usr/bin/python3), or sid:PATH for an
  interpreter inside the sid root (e.g. sid:/usr/bin/python3.15).
  Default: /usr/bin/python3 and sid:/usr/bin/python3.15.
  --check: exit 1 when pyhang fails on a target or is slower than austin.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from dump_vs_gdb import baseline_stalls, start_target, stalls_between  # noqa: E402

DEFAULT_SID_ROOT = "/var/cache/pyhang/sid-root"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TEXT_FRAME = re.compile(r"^\s+descend \(", re.M)
RUN_TIMEOUT_S = 60

# Bind /tmp (the bench's work files) and the repository (the workload) into
# the root at the same paths, in a private mount namespace, then chroot.
# unshare, sh and chroot all exec, so the launched pid is Python's.
CHROOT_SCRIPT = ('R=$1; REPO=$2; PY=$3; shift 3; '
                 'mount --bind /tmp "$R/tmp" && mkdir -p "$R$REPO" && '
                 'mount --bind "$REPO" "$R$REPO" && exec chroot "$R" "$PY" "$@"')


def sid_root():
    return os.environ.get("PYHANG_SID_ROOT") or DEFAULT_SID_ROOT


def launcher(spec):
    """(argv prefix, label) for a target spec, or (None, reason it is unavailable)."""
    if spec.startswith("sid:"):
        root, interpreter = sid_root(), spec[len("sid:"):]
        if not os.path.isdir(root):
            return None, "no sid root at %s (build it with tools/sid-root.sh)" % root
        if not os.access(root + interpreter, os.X_OK):
            return None, "%s not found in the sid root %s (tools/sid-root.sh installs it)" % (
                interpreter, root)
        if not shutil.which("unshare") or not shutil.which("chroot"):
            return None, "unshare or chroot missing (util-linux, coreutils)"
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", CHROOT_SCRIPT,
                "sh", root, ROOT, interpreter]
        return argv, "%s chrooted into %s" % (interpreter, root)
    if not os.access(spec, os.X_OK):
        return None, "%s not found" % spec
    return [spec], spec


def python_version(argv):
    result = subprocess.run(argv + ["-c", "import sys; print(sys.version.split()[0])"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or "rc=%d" % result.returncode)
    return result.stdout.strip()


def find_austin():
    """(path, version) or (None, why there is no austin column)."""
    env = os.environ.get("AUSTIN")
    if env:
        path = env if os.sep in env else shutil.which(env)
        if not path or not os.access(path, os.X_OK):
            return None, "$AUSTIN=%s is not an executable" % env
    else:
        path = shutil.which("austin")
        if not path:
            return None, ("no austin binary: none on PATH and $AUSTIN unset "
                          "(build one: tools/build-austin.sh AUSTIN_SRC_DIR)")
    result = subprocess.run([path, "--version"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    version = result.stdout.strip().split()[-1] if result.stdout.strip() else "?"
    return path, version


def count_text_frames(out):
    return len(TEXT_FRAME.findall(ANSI.sub("", out)))


def count_json_frames(out):
    document = json.loads(out)
    return sum(1 for thread in document["threads"] for frame in thread["frames"]
               if frame["function"] == "descend")


class Tool:
    def __init__(self, name, argv, count):
        self.name, self.argv, self.count = name, argv, count
        self.times, self.stops = [], []
        self.frames = None
        self.failure = None

    def run(self, stall_log, expected):
        start = time.monotonic_ns()
        try:
            result = subprocess.run(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True, errors="replace", timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.failure = "timed out after %d s" % RUN_TIMEOUT_S
            return
        except OSError as error:
            self.failure = "cannot run %s: %s" % (self.argv[0], error.strerror)
            return
        end = time.monotonic_ns()
        time.sleep(0.05)  # the heartbeat logs a stall once it resumes
        elapsed = (end - start) / 1e6
        if result.returncode != 0:
            message = [line.strip() for line in ANSI.sub("", result.stderr).splitlines()
                       if line.strip()]
            self.failure = "rc=%d after %.0f ms: %s" % (
                result.returncode, elapsed, message[-1] if message else "(no message)")
            return
        try:
            frames = self.count(result.stdout)
        except (ValueError, KeyError, TypeError) as error:
            self.failure = "rc=0 after %.0f ms, unreadable output (%s)" % (elapsed, error)
            return
        self.frames = frames
        if frames != expected:
            printed = [" ".join(line.split()) for line in ANSI.sub("", result.stdout).splitlines()
                       if line.strip()]
            self.failure = "rc=0 after %.0f ms, printed %d of the %d descend frames; " \
                "its output (%d lines) begins: %s" % (
                    elapsed, frames, expected, len(printed), " | ".join(printed[:3]) or "(none)")
            return
        self.times.append(elapsed)
        self.stops.append(stalls_between(stall_log, start, end + 50_000_000)[0])


def bench_target(spec, args, austin):
    argv, label = launcher(spec)
    print()
    if argv is None:
        print("target %s: skipped: %s" % (spec, label))
        return {"spec": spec, "skipped": label}
    try:
        version = python_version(argv)
    except (RuntimeError, subprocess.TimeoutExpired) as error:
        print("target %s: skipped: cannot run it: %s" % (spec, error))
        return {"spec": spec, "skipped": str(error)}

    workdir = tempfile.mkdtemp(prefix="pyhang-bench-", dir="/tmp")
    try:
        try:
            target, stall_log = start_target(argv, workdir, args.threads, args.depth)
        except SystemExit as error:
            print("target %s: skipped: %s" % (spec, error))
            return {"spec": spec, "skipped": str(error)}
        try:
            with open(os.path.join(workdir, "ready")) as ready:
                pid = ready.read().strip()
            expected = args.threads * (args.depth - 3)
            tools = [
                Tool("pyhang dump", [args.pyhang, "dump", "--pid", pid], count_text_frames),
                Tool("pyhang dump --json", [args.pyhang, "dump", "--pid", pid, "--json"],
                     count_json_frames),
                Tool("pyhang dump --no-source", [args.pyhang, "dump", "--pid", pid, "--no-source"],
                     count_text_frames),
            ]
            if austin[0]:
                tools.append(Tool("austin -w", [austin[0], "-w", pid], count_text_frames))
            noise = baseline_stalls(stall_log, 2.0)
            for tool in tools:  # warm-up and output check
                tool.run(stall_log, expected)
                tool.times, tool.stops = [], []
            for round_ in range(args.runs):
                shift = round_ % len(tools)
                for tool in tools[shift:] + tools[:shift]:
                    if tool.failure is None:
                        tool.run(stall_log, expected)
        finally:
            target.kill()
            target.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print("target: %s (Python %s), %d threads x %d frames, pid %s" % (
        label, version, args.threads, args.depth, pid))
    print("heartbeat stalls > 5 ms with no tool running (2 s): longest %.1f ms" % noise)
    print("%-24s %5s %10s %8s %8s %21s %15s" % ("tool", "runs", "median ms", "min ms", "max ms",
                                               "stopped ms (med/max)", "descend frames"))
    for tool in tools:
        name = tool.name + (" (%s)" % austin[1] if tool.name.startswith("austin") else "")
        if tool.failure:
            print("%-24s FAILED: %s" % (name, tool.failure))
            continue
        print("%-24s %5d %10.1f %8.1f %8.1f %10.1f / %-8.1f %7d/%d" % (
            name, len(tool.times), statistics.median(tool.times), min(tool.times),
            max(tool.times), statistics.median(tool.stops), max(tool.stops), tool.frames, expected))
    if not austin[0]:
        print("austin -w: not measured: %s" % austin[1])

    by_name = {tool.name: tool for tool in tools}
    result = {"spec": spec, "version": version, "tools": {
        tool.name: (None if tool.failure else statistics.median(tool.times)) for tool in tools},
        "failures": {tool.name: tool.failure for tool in tools if tool.failure}}
    pyhang, other = by_name["pyhang dump"], by_name.get("austin -w")
    if pyhang.failure is None and other is not None and other.failure is None:
        ratio = statistics.median(pyhang.times) / statistics.median(other.times)
        result["ratio"] = ratio
        print("pyhang dump / austin -w (median/median): %.2f -> %s" % (
            ratio, "goal met (pyhang at most as slow)" if ratio <= 1.0
            else "goal NOT met (pyhang slower)"))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="interleaved rounds per target")
    parser.add_argument("--target", action="append", dest="targets", metavar="SPEC",
                        help="interpreter path or sid:PATH (repeatable; default: "
                             "/usr/bin/python3 and sid:/usr/bin/python3.15)")
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"))
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when pyhang fails or is slower than austin on a target")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: pyhang and austin read another process's memory, "
                         "and the sid target needs chroot")
    if not os.access(args.pyhang, os.X_OK):
        raise SystemExit("%s is missing: build it with tools/build.sh" % args.pyhang)
    if args.depth < 4:
        raise SystemExit("--depth must be at least 4")
    targets = args.targets or ["/usr/bin/python3", "sid:/usr/bin/python3.15"]
    austin = find_austin()
    # A private copy: a rebuild of build/pyhang during the bench cannot break it.
    bindir = tempfile.mkdtemp(prefix="pyhang-bench-bin-")
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.stat(args.pyhang).st_mtime))
    pyhang_copy = os.path.join(bindir, "pyhang")
    shutil.copy2(args.pyhang, pyhang_copy)
    print("pyhang: %s (built %s; a copy is timed)" % (args.pyhang, built))
    args.pyhang = pyhang_copy
    print("austin: %s" % ("%s (%s)" % austin if austin[0] else "missing: " + austin[1]))
    print("%d interleaved rounds per target, after one warm-up run of each tool" % args.runs)

    try:
        results = [bench_target(spec, args, austin) for spec in targets]
    finally:
        shutil.rmtree(bindir, ignore_errors=True)

    print()
    print("summary (median ms)%s:" % ("" if austin[0] else "; no austin column: " + austin[1]))
    bad = False
    for result in results:
        if "skipped" in result:
            print("  %-28s skipped: %s" % (result["spec"], result["skipped"]))
            continue
        cells = []
        for name, median in result["tools"].items():
            cells.append("%s %s" % (name, "FAILED" if median is None else "%.1f" % median))
        if "ratio" in result:
            cells.append("pyhang/austin %.2f" % result["ratio"])
            bad |= result["ratio"] > 1.0
        bad |= "pyhang dump" in result["failures"]
        print("  %-28s %s" % ("%s (%s)" % (result["spec"], result["version"]), "; ".join(cells)))
    return 1 if args.check and bad else 0


if __name__ == "__main__":
    sys.exit(main())
