"""A thread whose CPU time splits between two functions, with its own accounting.

Usage: python record_split.py [--ratio 0.7] [--period-us 300] [--seconds 120]
                              [--exit-after SECONDS]

A thread named "busy" calls f() then g() in a loop; each call is sized at
start-up so that f takes RATIO and g 1-RATIO of PERIOD microseconds of CPU
(so they alternate several times a millisecond). Every call is timed with
time.thread_time_ns(), the thread's own CPU clock, which is what an on-CPU
sampler sees. The main thread prints, on stdout:

    ready N_F N_G F_US G_US CHAIN    once, after calibration; CHAIN is the
                                     busy thread's own stack where it calls
                                     f and g (traceback.extract_stack(),
                                     root first, comma-separated)
    T F_NS G_NS ROUNDS CPU_NS        every 20 ms: time.monotonic_ns(), the
                                     busy thread's cumulative CPU time in f
                                     and in g, the number of f+g rounds, and
                                     the busy thread's whole CPU time

so a test can compute the split over any time window (CLOCK_MONOTONIC is
the same clock in every process). The process exits after --seconds
(a safety net), or with os._exit(0) after --exit-after seconds.
Runs on CPython 3.8+.
"""
import argparse
import os
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True

RUNNING = [True]
TOTALS = [0, 0, 0]  # f_ns, g_ns, rounds: written by the busy thread only
CHAIN = []  # function names of the busy thread's stack in busy(), root first


# f and g read the thread's CPU clock themselves, first and last thing, so
# that the clock calls and the bookkeeping run inside their own frames: the
# time a sampler can see outside f and g (the driver loop) is a few dozen
# nanoseconds a round.
def f(n, clock=time.thread_time_ns, totals=TOTALS):
    start = clock()
    x = 0
    for i in range(n):
        x += i * i
    totals[0] += clock() - start
    return x


def g(n, clock=time.thread_time_ns, totals=TOTALS):
    start = clock()
    x = 0
    for i in range(n):
        x += i * i
    totals[1] += clock() - start
    return x


def cost_ns(function, n):
    """The least CPU time one call of function(n) took, over a few tries."""
    clock = time.thread_time_ns
    best = None
    for _ in range(15):
        start = clock()
        function(n)
        took = clock() - start
        best = took if best is None else min(best, took)
    return max(best, 1)


def calibrate(f_us, g_us):
    for _ in range(3):  # warm up (and, on 3.11+, let the code specialize)
        cost_ns(f, 20000)
        cost_ns(g, 20000)
    n_f = max(1, int(20000 * f_us * 1000 / cost_ns(f, 20000)))
    n_g = max(1, int(20000 * g_us * 1000 / cost_ns(g, 20000)))
    return n_f, n_g


def busy(n_f, n_g, started):
    CHAIN[:] = [frame.name for frame in traceback.extract_stack()]
    started.extend((n_f, n_g))
    totals = TOTALS
    running = RUNNING
    while running[0]:
        f(n_f)
        g(n_g)
        totals[2] += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ratio", type=float, default=0.7)
    parser.add_argument("--period-us", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--exit-after", type=float, default=None)
    args = parser.parse_args()
    f_us = args.ratio * args.period_us
    g_us = args.period_us - f_us
    calibrated = []
    clocks = []

    def thread_main():
        n_f, n_g = calibrate(f_us, g_us)
        TOTALS[:] = [0, 0, 0]
        clocks.append(time.pthread_getcpuclockid(threading.get_ident()))
        busy(n_f, n_g, calibrated)

    thread = threading.Thread(target=thread_main, name="busy", daemon=True)
    thread.start()
    while not calibrated:
        time.sleep(0.005)
    out = sys.stdout
    out.write("ready %d %d %.1f %.1f %s\n" % (calibrated[0], calibrated[1], f_us, g_us,
                                              ",".join(CHAIN)))
    out.flush()
    start = time.monotonic()
    deadline = start + args.seconds
    exit_at = start + args.exit_after if args.exit_after is not None else None
    while time.monotonic() < deadline:
        time.sleep(0.02)
        totals = list(TOTALS)
        cpu = time.clock_gettime_ns(clocks[0])
        out.write("%d %d %d %d %d\n" % (time.monotonic_ns(), totals[0], totals[1], totals[2],
                                        cpu))
        out.flush()
        if exit_at is not None and time.monotonic() >= exit_at:
            os._exit(0)
    RUNNING[0] = False
    thread.join()


if __name__ == "__main__":
    main()
