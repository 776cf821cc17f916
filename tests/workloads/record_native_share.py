"""A known share of CPU time in one C function, for `record --native`.

    python record_native_share.py DIRECTORY LIBNATIVE_SO [THREADS]

Each of THREADS (default 1) threads loops: native_burn() in C (ctypes,
the GIL released), then a pure-Python loop, each timed by the thread's own
CPU clock (time.thread_time). DIRECTORY/ready.json appears once they run;
after DIRECTORY/stop appears, DIRECTORY/truth.json holds, per thread
(native id), the CPU seconds spent in native_burn and in all, from the
moment DIRECTORY/start appeared (the measured window). A "reader" thread
beside them reads /dev/zero 1 MiB at a time: time on CPU in the kernel,
for kernel frames.
"""
import ctypes
import json
import os
import sys
import threading
import time

C_ITERATIONS = 8_000_000   # a few ms of C per round
PY_ITERATIONS = 40_000     # ~3 ms of Python per round


def python_burn(n):
    total = 0
    for i in range(n):
        total += i ^ (total >> 3)
    return total


def worker(lib, directory, results):
    tid = threading.get_native_id()
    c_time = all_time = 0.0
    counting = False
    while not os.path.exists(os.path.join(directory, "stop")):
        if not counting and os.path.exists(os.path.join(directory, "start")):
            counting, c_time, all_time = True, 0.0, 0.0
        for _ in range(20):
            t0 = time.thread_time()
            lib.native_burn(C_ITERATIONS)
            t1 = time.thread_time()
            python_burn(PY_ITERATIONS)
            t2 = time.thread_time()
            if counting:
                c_time += t1 - t0
                all_time += t2 - t0
    results[tid] = {"c_seconds": c_time, "all_seconds": all_time}


def read_zeros(directory):
    with open("/dev/zero", "rb", buffering=0) as zeros:
        while not os.path.exists(os.path.join(directory, "stop")):
            zeros.read(1 << 20)


def main():
    directory, library = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    lib = ctypes.CDLL(library)
    lib.native_burn.argtypes = [ctypes.c_ulong]
    lib.native_burn.restype = ctypes.c_ulong
    results = {}
    threads = [threading.Thread(target=worker, args=(lib, directory, results), name="burner-%d" % i)
               for i in range(count)]
    reader = threading.Thread(target=read_zeros, args=(directory,), name="reader", daemon=True)
    reader.start()
    for thread in threads:
        thread.start()
    with open(os.path.join(directory, "ready.json.tmp"), "w") as f:
        json.dump({"pid": os.getpid()}, f)
    os.rename(os.path.join(directory, "ready.json.tmp"), os.path.join(directory, "ready.json"))
    for thread in threads:
        thread.join()
    with open(os.path.join(directory, "truth.json.tmp"), "w") as f:
        json.dump({str(tid): value for tid, value in results.items()}, f)
    os.rename(os.path.join(directory, "truth.json.tmp"), os.path.join(directory, "truth.json"))


if __name__ == "__main__":
    main()
