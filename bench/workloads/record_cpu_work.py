"""Benchmark target for bench/record_overhead.py: a fixed amount of CPU work
per thread, timed by the process itself.

Usage:
  record_cpu_work.py calibrate SECONDS        print how many work units take
                                              about SECONDS of CPU on one thread
  record_cpu_work.py run THREADS UNITS        fixed work: see below
  record_cpu_work.py forever THREADS          busy until killed (for RSS runs)

`run` starts THREADS threads, prints "ready" and waits for a line on stdin;
then every thread does UNITS units of work and the process prints
"done WALL_S CPU_S" -- the wall time from the go line until every thread
finished (time.perf_counter) and the process's CPU time over the same span
(time.process_time) -- and exits once stdin is closed (so that a profiler
can be stopped while its target is still there). A unit is a small Python call tree of
varying depth (1-24 frames), so a sampler walks stacks of realistic length.
Stdlib only; CPython 3.8+.
"""
import sys
import threading
import time


def leaf(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def middle(depth, n):
    if depth <= 1:
        return leaf(n)
    return middle(depth - 1, n)


def other_middle(depth, n):
    if depth <= 1:
        return leaf(n)
    return other_middle(depth - 1, n)


def unit(k):
    """One unit of work: a few microseconds of bytecode under 1-24 frames."""
    depth = 1 + k % 24
    if k & 1:
        return middle(depth, 100)
    return other_middle(depth, 100)


def work(units):
    for k in range(units):
        unit(k)


def calibrate(seconds):
    work(2000)  # warm up
    start = time.thread_time()
    units = 2000
    work(units)
    per_unit = (time.thread_time() - start) / units
    return max(1, int(seconds / per_unit))


def run(threads, units):
    go = threading.Event()
    done = []

    def worker():
        go.wait()
        work(units)
        done.append(time.perf_counter())

    pool = [threading.Thread(target=worker, name="worker-%d" % i) for i in range(threads)]
    for thread in pool:
        thread.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    if not sys.stdin.readline():
        return 1
    start, cpu_start = time.perf_counter(), time.process_time()
    go.set()
    for thread in pool:
        thread.join()
    end, cpu_end = max(done), time.process_time()
    sys.stdout.write("done %.6f %.6f\n" % (end - start, cpu_end - cpu_start))
    sys.stdout.flush()
    sys.stdin.read()
    return 0


def forever(threads):
    def worker():
        k = 0
        while True:
            unit(k)
            k += 1

    for i in range(threads):
        threading.Thread(target=worker, name="worker-%d" % i, daemon=True).start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)


def main(argv):
    if argv[1:2] == ["calibrate"]:
        print(calibrate(float(argv[2])))
        return 0
    if argv[1:2] == ["run"]:
        return run(int(argv[2]), int(argv[3]))
    if argv[1:2] == ["forever"]:
        return forever(int(argv[2]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
