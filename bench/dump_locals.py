#!/usr/bin/env python3
"""pyhang dump --locals vs plain pyhang dump, on the same process.

Target: workloads/deep_threads.py with "locals": 100 threads x 50 Python
frames, each frame holding 10 locals (int, str, float, None, bool, bytes,
list, dict, tuple, an instance). Runs of `dump --no-source` and
`dump --no-source --locals` alternate (so noise hits both alike); the
figure is the ratio of their medians. The issue's target: within 3x.

Usage: sudo bench/dump_locals.py [--runs N] [--python PATH]
Exit status 1 if the ratio is above --max-ratio (default 3).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import dump_vs_gdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def timed(command, workdir):
    """(milliseconds, stdout text). Output goes to a file, as from
    `pyhang dump > FILE`: a pipe would time this harness reading and
    decoding the 5 MiB that --locals prints, not pyhang."""
    path = os.path.join(workdir, "out.txt")
    with open(path, "wb") as out:
        start = time.monotonic_ns()
        result = subprocess.run(command, stdout=out, stderr=subprocess.PIPE)
        elapsed = (time.monotonic_ns() - start) / 1e6
    if result.returncode != 0:
        raise SystemExit("%s failed: rc=%d\n%s" % (command, result.returncode, result.stderr[-2000:]))
    with open(path, encoding="utf-8", errors="replace") as out:
        return elapsed, out.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--max-ratio", type=float, default=3.0)
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="pyhang-bench-")
    target, _ = dump_vs_gdb.start_target(args.python, workdir, args.threads, args.depth, ["locals"])
    plain, with_locals = [], []
    try:
        base = [args.pyhang, "dump", "--pid", str(target.pid), "--no-source"]
        for _ in range(args.runs):
            elapsed, _ = timed(base, workdir)
            plain.append(elapsed)
            elapsed, out = timed(base + ["--locals"], workdir)
            with_locals.append(elapsed)
            shown = out.count("request: Request(url=")
            if shown < args.threads * (args.depth - 3):
                raise SystemExit("dump --locals showed %d request locals, expected %d" % (
                    shown, args.threads * (args.depth - 3)))
    finally:
        target.kill()
        target.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = statistics.median(with_locals) / statistics.median(plain)
    print("target: %s, %d threads x %d frames x 10 locals" % (args.python, args.threads, args.depth))
    print("pyhang dump          median %.1f ms (min %.1f, max %.1f), %d runs" % (
        statistics.median(plain), min(plain), max(plain), args.runs))
    print("pyhang dump --locals median %.1f ms (min %.1f, max %.1f), %d runs" % (
        statistics.median(with_locals), min(with_locals), max(with_locals), args.runs))
    print("ratio (median/median): %.2fx (target <= %.1fx)" % (ratio, args.max_ratio))
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
