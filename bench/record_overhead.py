#!/usr/bin/env python3
"""What `pyhang record` costs: the target's slowdown, pyhang's own CPU time per
sample, lost/torn samples, and pyhang's memory over a long recording.

Target: bench/workloads/record_cpu_work.py, 1 or 8 threads each doing a fixed
amount of Python work (--work-seconds of CPU per thread, calibrated once) and
timing itself from a "go" line to its last thread's end. Each configuration
(threads x {no pyhang, 100 Hz, 1 kHz}) runs --runs times, interleaved: run 1
of every mode, then run 2, ... so that the machine's drift hits all modes
alike; the results are medians.

  (a) slowdown = median completion time with pyhang / median without - 1
      (goal: <= 1% at 100 Hz, <= 3% at 1 kHz); the same on the target's CPU
      time (time.process_time) is printed beside it.
  (b) pyhang's CPU time per 1,000 samples: the CPU pyhang used from the
      moment it was attached (its /proc/PID/schedstat run time, read just
      before "go") to its exit (wait4 rusage), divided by the samples of its
      summary line; the attach cost is printed on its own (goal < 10 ms per
      1,000 samples, i.e. < 10 us a sample; austin: ~50 us).
  (c) lost / torn / error samples from the summary lines (goal 0 at 1 kHz).
  (d) with --long: pyhang's VmRSS every --rss-interval s while it records
      8 busy threads at 1 kHz for --minutes (default 10): start, end, max,
      and whether it is flat (goal <= 64 MiB and flat).

pyhang runs as `pyhang record -p PID -f raw -r HZ -o /tmp/...` without -d and
is stopped with SIGINT once the workload has reported "done", while the
target is still alive (samples taken just before a target exits are another
matter: tests/integration/test_record.py looks at those).

--python picks the target's interpreter: a path (default /usr/bin/python3),
or sid:PATH for an interpreter inside the Debian sid root ($PYHANG_SID_ROOT,
default /var/cache/pyhang/sid-root; tools/sid-root.sh builds it), e.g.
--python sid:/usr/bin/python3.15. That one runs chrooted, in a private mount
namespace with /tmp and the repository bound at the same paths, through
unshare, sh and chroot, which all exec: the pid pyhang records is Python's.
The bind mounts are made before Python starts, i.e. before "ready", so they
are outside every timed span.

--native adds the modes "100 Hz native" and "1000 Hz native" (record
--native: each sample's stack copied by BPF and unwound; goal: slowdown
<= 3% at 100 Hz, <= 50 us of pyhang's CPU per native sample).

Usage: sudo bench/record_overhead.py [--runs 5] [--work-seconds 1.0]
                                     [--threads 1,8] [--python PATH|sid:PATH]
                                     [--pyhang PATH] [--native]
                                     [--long [--minutes 10]] [--rss-only]
Needs: root (BPF), build/pyhang (tools/build.sh; --pyhang takes a copy, so
that a rebuild during a run cannot change the binary). Stdlib only.
"""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKLOAD = os.path.join(HERE, "workloads", "record_cpu_work.py")
SUMMARY = re.compile(r"(?:process (\d+) exited; )?wrote (.+): (\d+) samples in ([\d.]+) s "
                     r"\((\d+) lost, (\d+) torn, (\d+) errors\)")
RATES = (100, 1000)
NATIVE = "+native"  # mode suffix: record --native


def mode_rate(mode):
    return int(mode[:-len(NATIVE)] if mode.endswith(NATIVE) else mode)


def mode_label(mode):
    if mode == "none":
        return "none"
    return "%d Hz%s" % (mode_rate(mode), " native" if mode.endswith(NATIVE) else "")
MIB = 1024 * 1024
DEFAULT_SID_ROOT = "/var/cache/pyhang/sid-root"

# Bind /tmp and the repository (the workload) into the root at the same
# paths, in a private mount namespace, then chroot; unshare (no -f), sh and
# chroot all exec, so the launched pid is Python's.
CHROOT_SCRIPT = ('R=$1; REPO=$2; PY=$3; shift 3; '
                 'mount --bind /tmp "$R/tmp" && mkdir -p "$R$REPO" && '
                 'mount --bind "$REPO" "$R$REPO" && exec chroot "$R" "$PY" "$@"')


def die(message):
    sys.stderr.write("record_overhead.py: %s\n" % message)
    raise SystemExit(1)


# --- /proc ---------------------------------------------------------------------

def run_time_ns(pid):
    """CPU time of every thread of pid so far, in ns (from schedstat)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            total += int(f.read().split()[0])
    return total


def vm_rss(pid):
    """VmRSS of pid in bytes, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def attached(pid, cpus):
    """pyhang has opened its per-CPU perf events and attached a BPF link."""
    perf = links = 0
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            perf += target == "anon_inode:[perf_event]"
            links += target == "anon_inode:bpf_link"
    except OSError:
        return False
    return perf >= cpus and links >= 1


# --- interpreters -------------------------------------------------------------------

def launcher(spec):
    """argv prefix that runs the interpreter named by --python (PATH or sid:PATH)."""
    if spec.startswith("sid:"):
        root = os.environ.get("PYHANG_SID_ROOT") or DEFAULT_SID_ROOT
        interpreter = spec[len("sid:"):]
        if not os.path.isdir(root):
            die("no sid root at %s (build it with tools/sid-root.sh)" % root)
        if not os.access(root + interpreter, os.X_OK):
            die("%s not found in the sid root %s (tools/sid-root.sh installs it)" % (
                interpreter, root))
        if not shutil.which("unshare") or not shutil.which("chroot"):
            die("unshare or chroot missing (util-linux, coreutils)")
        return ["unshare", "--mount", "--propagation", "private", "sh", "-c", CHROOT_SCRIPT,
                "sh", root, ROOT, interpreter]
    if not os.access(spec, os.X_OK):
        die("%s not found" % spec)
    return [spec]


def describe_python(spec, argv):
    """'SPEC (Python X.Y.Z[, chrooted into ROOT])' as the interpreter reports itself."""
    result = subprocess.run(argv + ["-c", "import sys; print(sys.version.split()[0])"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            timeout=60)
    if result.returncode != 0:
        die("%s does not run: %s" % (spec, result.stderr.strip()[-2000:]))
    where = ""
    if spec.startswith("sid:"):
        where = ", chrooted into %s" % (os.environ.get("PYHANG_SID_ROOT") or DEFAULT_SID_ROOT)
    return "%s (Python %s%s)" % (spec, result.stdout.strip(), where)


# --- processes -------------------------------------------------------------------

class Workload:
    def __init__(self, python, args):
        """python: the argv prefix of launcher()."""
        self.proc = subprocess.Popen(python + [WORKLOAD] + [str(a) for a in args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.kill()
            die("workload did not start: %r %s" % (line, self.proc.stderr.read()[-2000:]))
        self.pid = self.proc.pid

    def go_and_wait(self):
        """Send go; (wall seconds, CPU seconds) as the workload measured them.
        The workload stays until finish() (its threads are done by then)."""
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        fields = line.split()
        if len(fields) != 3 or fields[0] != "done":
            die("workload failed: %r %s" % (line, self.proc.stderr.read()[-2000:]))
        return float(fields[1]), float(fields[2])

    def finish(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Pyhang:
    """`pyhang record` on a pid, started and reaped by hand (for wait4)."""

    def __init__(self, binary, pid, rate, output, extra=()):
        self.stderr_path = output + ".stderr"
        self.stderr = open(self.stderr_path, "wb")
        argv = [binary, "record", "-p", str(pid), "-o", output, "-f", "raw", "-r", str(rate)]
        self.proc = subprocess.Popen(argv + list(extra), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        self.pid = self.proc.pid
        cpus = os.cpu_count() or 1
        deadline = time.monotonic() + 30
        while not attached(self.pid, cpus):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stderr.close()
                die("pyhang did not attach: %s" % open(self.stderr_path).read())
            time.sleep(0.01)
        time.sleep(0.3)  # the target's pid reaches the BPF filter

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout=120):
        """(summary dict, CPU seconds of the whole run) once pyhang exits."""
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid == self.pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                die("pyhang did not exit within %d s" % timeout)
            time.sleep(0.02)
        self.proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(
            os, "waitstatus_to_exitcode") else status
        self.stderr.close()
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        match = SUMMARY.search(text)
        if status != 0 or not match:
            die("pyhang failed (status %d): %s" % (status, text[-2000:]))
        summary = {"samples": int(match.group(3)), "lost": int(match.group(5)),
                   "torn": int(match.group(6)), "errors": int(match.group(7))}
        return summary, usage.ru_utime + usage.ru_stime

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()


# --- (a)-(c): overhead ------------------------------------------------------------

def one_run(args, threads, units, mode, workdir):
    workload = Workload(args.python, ["run", threads, units])
    try:
        if mode == "none":
            wall, cpu = workload.go_and_wait()
            workload.finish()
            return {"wall": wall, "cpu": cpu}
        output = os.path.join(workdir, "t%d-%s.txt" % (threads, mode))
        extra = ["--native"] if mode.endswith(NATIVE) else []
        pyhang = Pyhang(args.pyhang, workload.pid, mode_rate(mode), output, extra)
        try:
            attach_ns = run_time_ns(pyhang.pid)
            wall, cpu = workload.go_and_wait()
            pyhang.interrupt()
            summary, pyhang_cpu = pyhang.wait()
            workload.finish()
        finally:
            pyhang.stop()
        steady = max(pyhang_cpu - attach_ns / 1e9, 0.0)
        return dict(summary, wall=wall, cpu=cpu, pyhang_cpu=pyhang_cpu,
                    attach_cpu=attach_ns / 1e9, steady_cpu=steady)
    finally:
        workload.kill()


def overhead(args, workdir):
    units = int(subprocess.check_output(
        args.python + [WORKLOAD, "calibrate", str(args.work_seconds)]).decode().strip())
    print("target: %s, %d work units per thread (~%.1f s of CPU each), %d runs per mode, "
          "interleaved" % (args.python_label, units, args.work_seconds, args.runs))
    modes = ["none"] + [str(rate) for rate in RATES]
    if args.native:
        modes += [str(rate) + NATIVE for rate in RATES]
    rows = []
    for threads in args.threads:
        results = {mode: [] for mode in modes}
        for run in range(args.runs):
            # Rotate the order so that no mode always comes first.
            order = modes[run % len(modes):] + modes[:run % len(modes)]
            for mode in order:
                results[mode].append(one_run(args, threads, units, mode, workdir))
            sys.stderr.write("  %d thread(s): run %d/%d done\n" % (threads, run + 1, args.runs))
        rows.append((threads, results))
    return rows


def median(values):
    return statistics.median(values) if values else float("nan")


def print_overhead(rows):
    print()
    print("(a) slowdown of the target (medians; wall = the workload's own completion time, "
          "cpu = its process CPU time)")
    print("%-8s %-7s %10s %10s %10s %10s   %s" % ("threads", "rate", "wall s", "slowdown",
                                               "cpu s", "cpu +", "wall s of each run"))
    for threads, results in rows:
        base_wall = median([r["wall"] for r in results["none"]])
        base_cpu = median([r["cpu"] for r in results["none"]])
        for mode, runs in results.items():
            wall = median([r["wall"] for r in runs])
            cpu = median([r["cpu"] for r in runs])
            label = mode_label(mode)
            slow = "" if mode == "none" else "%+.2f%%" % (100 * (wall / base_wall - 1))
            cpu_slow = "" if mode == "none" else "%+.2f%%" % (100 * (cpu / base_cpu - 1))
            print("%-8d %-7s %10.3f %10s %10.3f %10s   %s" % (
                threads, label, wall, slow, cpu, cpu_slow,
                " ".join("%.3f" % r["wall"] for r in runs)))
    print()
    print("(b) pyhang's CPU time (medians over runs; steady = from attached to exit, "
          "i.e. sampling + writing the file)")
    print("%-8s %-7s %9s %12s %12s %14s %16s" % ("threads", "rate", "samples", "attach ms",
                                                 "steady ms", "total ms", "us/sample steady"))
    for threads, results in rows:
        for mode, runs in results.items():
            if mode == "none":
                continue
            per_sample = [1e6 * r["steady_cpu"] / r["samples"] for r in runs if r["samples"]]
            print("%-8d %-7s %9d %12.1f %12.1f %14.1f %16.2f" % (
                threads, mode_label(mode), median([r["samples"] for r in runs]),
                1e3 * median([r["attach_cpu"] for r in runs]),
                1e3 * median([r["steady_cpu"] for r in runs]),
                1e3 * median([r["pyhang_cpu"] for r in runs]), median(per_sample)))
    print("    (us/sample = ms per 1,000 samples; goal < 10, austin ~50)")
    for threads, results in rows:
        for suffix in ("", NATIVE):
            marginal(threads, results, suffix)
    if any(NATIVE in mode for _, results in rows for mode in results):
        print("    native: what --native adds per sample (copy, unwind, merge), same rate:")
        for threads, results in rows:
            for rate in RATES:
                plain, native = results.get(str(rate), []), results.get(str(rate) + NATIVE, [])
                if not plain or not native:
                    continue
                per = [1e6 * r["steady_cpu"] / r["samples"] for r in native if r["samples"]]
                base = [1e6 * r["steady_cpu"] / r["samples"] for r in plain if r["samples"]]
                print("    %d thread(s), %d Hz: %.2f us per native sample, %.2f us more than "
                      "without --native" % (threads, rate, median(per), median(per) - median(base)))
    print()
    print("(c) lost / torn / errors, summed over all runs")
    for threads, results in rows:
        for mode, runs in results.items():
            if mode == "none":
                continue
            print("%-8d %-7s samples %8d   lost %d   torn %d   errors %d" % (
                threads, mode_label(mode), sum(r["samples"] for r in runs),
                sum(r["lost"] for r in runs), sum(r["torn"] for r in runs),
                sum(r["errors"] for r in runs)))


def marginal(threads, results, suffix):
    """The cost of one more sample, without what every recording pays
    (polling /proc ten times a second, writing the file): the difference
    between the 1 kHz and the 100 Hz runs."""
    low = results.get(str(RATES[0]) + suffix, [])
    high = results.get(str(RATES[-1]) + suffix, [])
    if low and high:
        extra_cpu = median([r["steady_cpu"] for r in high]) - median(
            [r["steady_cpu"] for r in low])
        extra_samples = median([r["samples"] for r in high]) - median(
            [r["samples"] for r in low])
        if extra_samples > 0:
            print("    %d thread(s)%s: marginal cost %.2f us per sample (%d Hz vs %d Hz)" % (
                threads, suffix.replace("+", ", "), 1e6 * extra_cpu / extra_samples,
                RATES[-1], RATES[0]))


# --- (d): memory over a long run -----------------------------------------------------

def rss_run(args, workdir):
    seconds = args.minutes * 60
    workload = Workload(args.python, ["forever", 8])
    output = os.path.join(workdir, "long.txt")
    try:
        pyhang = Pyhang(args.pyhang, workload.pid, 1000, output, ["-d", str(seconds)])
        start = time.monotonic()
        points = []  # (seconds since attach, RSS bytes)
        next_report = 60
        while True:
            rss = vm_rss(pyhang.pid)
            if rss is None or pyhang.proc.poll() is not None:
                break
            elapsed = time.monotonic() - start
            points.append((elapsed, rss))
            if elapsed >= next_report:
                sys.stderr.write("  %.0f min: VmRSS %.1f MiB\n" % (elapsed / 60, rss / MIB))
                next_report += 60
            if elapsed > seconds + 60:
                die("pyhang is still running 60 s after its -d %d" % seconds)
            time.sleep(min(args.rss_interval, max(0.2, seconds - elapsed + 0.2)))
        summary, pyhang_cpu = pyhang.wait()
    finally:
        workload.kill()
    return points, summary, pyhang_cpu


def print_rss(args, points, summary, pyhang_cpu):
    print()
    print("(d) pyhang's VmRSS while recording 8 busy threads at 1 kHz for %s min "
          "(every %s s, %d readings)" % (args.minutes, args.rss_interval, len(points)))
    if len(points) < 4:
        print("    too few readings")
        return
    rss = [r for _, r in points]
    # "Start" is the first reading after warm-up (10% of the run, >= 10 s):
    # caches fill during the first seconds by design.
    warm = max(10.0, 0.1 * args.minutes * 60)
    after = [(t, r) for t, r in points if t >= warm] or points[-2:]
    start_rss, end_rss, max_rss = after[0][1], rss[-1], max(rss)
    # Least-squares slope over the readings after warm-up, in KiB per minute.
    ts, rs = [t for t, _ in after], [r for _, r in after]
    mean_t, mean_r = statistics.mean(ts), statistics.mean(rs)
    var = sum((t - mean_t) ** 2 for t in ts)
    slope = sum((t - mean_t) * (r - mean_r) for t, r in zip(ts, rs)) / var if var else 0.0
    growth = end_rss - start_rss
    flat = growth <= max(1 * MIB, 0.02 * start_rss)
    print("    first reading %.1f MiB (at %.0f s); start (after %.0f s warm-up) %.1f MiB; "
          "end %.1f MiB; max %.1f MiB" % (rss[0] / MIB, points[0][0], warm, start_rss / MIB,
                                          end_rss / MIB, max_rss / MIB))
    print("    growth start->end %+.2f MiB, slope %+.1f KiB/min -> %s; max <= 64 MiB: %s" % (
        growth / MIB, slope * 60 / 1024, "FLAT" if flat else "GROWING",
        "yes" if max_rss <= 64 * MIB else "NO"))
    print("    samples %d (lost %d, torn %d, errors %d); pyhang CPU %.2f s = %.2f us/sample" % (
        summary["samples"], summary["lost"], summary["torn"], summary["errors"], pyhang_cpu,
        1e6 * pyhang_cpu / max(summary["samples"], 1)))
    step = max(1, len(points) // 12)
    print("    readings (min: MiB): " + "  ".join(
        "%.1f: %.1f" % (t / 60, r / MIB) for t, r in points[::step] + [points[-1]]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per mode (>= 5)")
    parser.add_argument("--work-seconds", type=float, default=1.0,
                        help="CPU seconds of work per thread")
    parser.add_argument("--threads", default="1,8", help="thread counts, comma-separated")
    parser.add_argument("--python", default="/usr/bin/python3"
                        if os.access("/usr/bin/python3", os.X_OK) else sys.executable,
                        help="the target's interpreter: PATH, or sid:PATH for one in the "
                        "Debian sid root ($PYHANG_SID_ROOT, default %s), run chrooted "
                        "(e.g. sid:/usr/bin/python3.15)" % DEFAULT_SID_ROOT)
    parser.add_argument("--pyhang", default=os.path.join(ROOT, "build", "pyhang"),
                        help="the pyhang binary (default build/pyhang; pass a copy to be "
                        "safe from rebuilds during the run)")
    parser.add_argument("--long", action="store_true", help="also the long RSS run")
    parser.add_argument("--native", action="store_true",
                        help="also record --native at each rate (native stacks per sample)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="length of the RSS run (default 10; implies --long)")
    parser.add_argument("--rss-interval", type=float, default=5.0)
    parser.add_argument("--rss-only", action="store_true", help="only the RSS run")
    args = parser.parse_args()
    args.threads = [int(t) for t in args.threads.split(",") if t]
    if args.minutes is not None:
        args.long = True
    if args.rss_only:
        args.long = True
    if args.minutes is None:
        args.minutes = 10.0
    if args.runs < 5:
        die("--runs must be at least 5")
    if os.geteuid() != 0:
        die("run as root: pyhang record needs BPF")
    if not os.access(args.pyhang, os.X_OK):
        die("%s not found: run tools/build.sh" % args.pyhang)
    python_spec = args.python
    args.python = launcher(python_spec)
    args.python_label = describe_python(python_spec, args.python)

    workdir = tempfile.mkdtemp(prefix="pyhang-record-bench-")
    try:
        print("pyhang: %s (%s)" % (args.pyhang, subprocess.run(
            [args.pyhang, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True).stdout.strip()))
        print("python: %s" % args.python_label)
        print("machine: %d CPUs, load average %s" % (
            os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
        if not args.rss_only:
            print_overhead(overhead(args, workdir))
        if args.long:
            print_rss(args, *rss_run(args, workdir))
        print()
        print("load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
