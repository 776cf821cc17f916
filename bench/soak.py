#!/usr/bin/env python3
"""Soak: `pyhang watch` for a long time against thread and process churn;
prints pyhang's RSS, open fds and BPF map fill over time.

Target: workloads/churn.py (THREADS_PER_S short threads a second, each on and
off CPU; CHILDREN_PER_S /bin/true children a second; a steady worker). The
watch runs with --metrics-addr (scraped at every look, as Prometheus would)
and --json to a file. Every --interval seconds it looks at pyhang's
/proc/PID/status (VmRSS), /proc/PID/fd (count) and, through the bpf-map fds
in /proc/PID/fdinfo, each hash and stack map's entries (bpftool map dump)
against its max_entries.

Goal (issue 13): flat after the first minute: RSS growth from minute 1 to
the end below --max-rss-growth-mib (default 8), no fd growth, no map full.
Exit status 1 if a goal is missed or pyhang ends early.

Usage: sudo bench/soak.py [--minutes 30] [--threads-per-s 1000]
                          [--children-per-s 20] [--python /usr/bin/python3]
(The agent's soak waits for `pyhang agent`, issue 11.)
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s*(\d+)", f.read(), re.M).group(1)) / 1024.0


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def map_ids(pid):
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                match = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
        except OSError:
            continue
        if match:
            ids.add(int(match.group(1)))
    return sorted(ids)


def map_fill(pid):
    """{map name: (entries, max_entries)} of pyhang's hash and stack maps."""
    fill = {}
    for map_id in map_ids(pid):
        info = json.loads(subprocess.check_output(["bpftool", "map", "show", "id", str(map_id), "-j"]))
        if info.get("type") not in ("hash", "lru_hash", "stack_trace"):
            continue
        entries = json.loads(subprocess.check_output(["bpftool", "map", "dump", "id", str(map_id), "-j"]))
        fill[info.get("name", str(map_id))] = (len(entries), info.get("max_entries", 0))
    return fill


def started(progress_path):
    """(threads, children) the churn target has started, or None."""
    try:
        with open(progress_path) as f:
            threads, children = f.read().split()
        return int(threads), int(children)
    except (OSError, ValueError):
        return None


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return len(response.read())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--interval", type=float, default=30, help="seconds between looks")
    parser.add_argument("--threads-per-s", type=float, default=1000)
    parser.add_argument("--children-per-s", type=float, default=20)
    parser.add_argument("--python", default="/usr/bin/python3")
    parser.add_argument("--max-rss-growth-mib", type=float, default=8)
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"))
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="pyhang-soak-")
    progress_path = os.path.join(workdir, "churn.progress")
    target = subprocess.Popen([args.python, os.path.join(HERE, "workloads", "churn.py"),
                               str(args.threads_per_s), str(args.children_per_s), progress_path],
                              stdout=subprocess.PIPE)
    if target.stdout.readline().strip() != b"ready":
        raise SystemExit("churn.py did not start")
    seconds = args.minutes * 60
    events_path = os.path.join(workdir, "watch.jsonl")
    log_path = os.path.join(workdir, "watch.stderr")
    with open(events_path, "wb") as events, open(log_path, "wb") as log:
        watch = subprocess.Popen([args.pyhang, "-v", "watch", "--pid", str(target.pid), "-d", str(int(seconds)),
                                  "--json", "--metrics-addr", "0"], stdout=events, stderr=log)
    url = None
    rows = []
    begin = time.monotonic()
    try:
        while time.monotonic() - begin < seconds - 5 and watch.poll() is None:
            time.sleep(min(args.interval, max(0.0, seconds - 5 - (time.monotonic() - begin))))
            if url is None:
                with open(log_path) as f:
                    match = re.search(r"serving metrics at (http://\S+)", f.read())
                url = match.group(1) if match else None
            if watch.poll() is not None:
                break
            row = {"t": time.monotonic() - begin, "rss": rss_mib(watch.pid), "fds": fd_count(watch.pid),
                   "maps": map_fill(watch.pid), "metrics_bytes": scrape(url) if url else 0,
                   "cpu_s": sum(int(x) for x in open("/proc/%d/stat" % watch.pid).read().split()[13:15])
                   / os.sysconf("SC_CLK_TCK")}
            rows.append(row)
            maps = ", ".join("%s %d/%d" % (name, used, cap) for name, (used, cap) in sorted(row["maps"].items()))
            print("%6.0f s  RSS %6.1f MiB  fds %3d  cpu %6.1f s  /metrics %5d B  maps: %s"
                  % (row["t"], row["rss"], row["fds"], row["cpu_s"], row["metrics_bytes"], maps), flush=True)
    finally:
        ended_early = watch.poll() is not None
        watch.terminate()
        watch.wait(timeout=30)
        target.kill()
        target.wait()
    with open(events_path) as f:
        summaries = sum('"event":"summary"' in line for line in f)
    print("watch: %d summaries; stderr and events in %s" % (summaries, workdir))
    churned = started(progress_path)
    if churned and rows:
        print("target churn: %.0f threads/s, %.1f children/s" % (
            churned[0] / rows[-1]["t"], churned[1] / rows[-1]["t"]))
    problems = []
    if ended_early:
        problems.append("pyhang watch ended early (exit %s): see %s" % (watch.returncode, log_path))
    after_minute = [row for row in rows if row["t"] >= 60]
    if len(after_minute) >= 2:
        growth = after_minute[-1]["rss"] - after_minute[0]["rss"]
        print("RSS from %.0f s to %.0f s: %+.1f MiB (peak %.1f MiB); fds %d -> %d"
              % (after_minute[0]["t"], after_minute[-1]["t"], growth, max(r["rss"] for r in rows),
                 after_minute[0]["fds"], after_minute[-1]["fds"]))
        if growth > args.max_rss_growth_mib:
            problems.append("RSS grew %.1f MiB after the first minute" % growth)
        if after_minute[-1]["fds"] > after_minute[0]["fds"]:
            problems.append("open fds grew from %d to %d" % (after_minute[0]["fds"], after_minute[-1]["fds"]))
    else:
        problems.append("too short to judge (run at least two looks past the first minute)")
    for row in rows:
        for name, (used, cap) in row["maps"].items():
            if cap and used >= cap:
                problems.append("BPF map %s full (%d/%d) at %.0f s" % (name, used, cap, row["t"]))
    for problem in problems:
        print("soak: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
