"""Threads for `pyhang dump --native` on a live process, with the
interpreter's own truth.

Usage: python native_scenarios.py TRUTH_JSON LIBNATIVE_SO

Threads: "c-loop" spins in C (ctypes.CDLL: the GIL is released, so the
rest of the process runs); "lock" blocks in threading.Lock.acquire;
"sleep" in time.sleep; "recv" in socket.recv; "callback" goes Python ->
C (native_call_back) -> Python (a ctypes callback) -> C (native_block,
blocked in read(2)); "heartbeat" ticks every millisecond and answers how
long its longest gap was in a window (the test asks through files: a gap
is the target being stopped). Once all are in place, TRUTH_JSON gets pid,
version_info and, per thread, tid (threading.get_native_id()), name and
frames from sys._current_frames(). Nothing is typed by hand.
"""
import ctypes
import json
import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
HEARTBEAT_S = 0.001
BEATS = []  # monotonic times of the heartbeat, the last ~60 s


def spin(lib):
    lib.native_spin(1)


def hold_forever(lock):
    lock.acquire()


def sleep_forever():
    while True:
        time.sleep(3600)


def recv_forever(sock):
    sock.recv(1)


def python_in_the_middle(lib, fd):
    lib.native_block(fd)
    return 0


def call_through_c(lib, fd):
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)
    callback = callback_type(lambda x: python_in_the_middle(lib, fd))
    lib.native_call_back(callback, 1)


def heartbeat():
    while True:
        BEATS.append(time.monotonic())
        if len(BEATS) > 60000:
            del BEATS[:10000]
        time.sleep(HEARTBEAT_S)


def answer_gap_questions(directory, lib):
    """QUESTION: "t0 t1 [t0 t1 ...]" (monotonic seconds) -> ANSWER: a line
    "PY C BASELINE RT" per span: the longest gap between beats that
    overlaps [t0, t1] of the Python heartbeat (it needs the GIL) and of the
    C one (it does not: only a stop of the process, or of the machine,
    delays it), and the C one's longest gap over an equal span just before
    t0 (the machine's own noise), in seconds; and 1 if the C heartbeat runs
    real-time."""
    question = os.path.join(directory, "gap-question")
    answer = os.path.join(directory, "gap-answer")
    while True:
        time.sleep(0.05)
        try:
            with open(question) as f:
                times = [float(t) for t in f.read().split()]
        except (OSError, ValueError):
            continue
        os.unlink(question)
        time.sleep(0.05)  # beats past the last t1
        beats = list(BEATS)
        lines = []
        for t0, t1 in zip(times[::2], times[1::2]):
            gap = max((b - a for a, b in zip(beats, beats[1:]) if b >= t0 and a <= t1), default=-1)
            c_gap = lib.native_longest_gap(t0, t1)
            baseline = lib.native_longest_gap(t0 - (t1 - t0) - 0.2, t0 - 0.2)
            lines.append("%r %r %r %d" % (gap, c_gap, baseline, lib.native_heartbeat_realtime()))
        with open(answer + ".tmp", "w") as f:
            f.write("\n".join(lines))
        os.rename(answer + ".tmp", answer)


def frames_of(frame):
    entries = []
    while frame is not None:
        entries.append({"function": frame.f_code.co_name, "file": frame.f_code.co_filename,
                        "line": frame.f_lineno})
        frame = frame.f_back
    return entries


def main():
    truth_path, library = sys.argv[1], sys.argv[2]
    lib = ctypes.CDLL(library)
    lib.native_call_back.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.native_longest_gap.argtypes = [ctypes.c_double, ctypes.c_double]
    lib.native_longest_gap.restype = ctypes.c_double
    if lib.native_heartbeat_start() != 0:
        sys.exit("native_heartbeat_start failed")
    gate = threading.Lock()
    gate.acquire()
    reader, writer = socket.socketpair()
    pipe_read, pipe_write = os.pipe()
    roles = {}
    for name, target, args in (("c-loop", spin, (lib,)), ("lock", hold_forever, (gate,)),
                               ("sleep", sleep_forever, ()), ("recv", recv_forever, (reader,)),
                               ("callback", call_through_c, (lib, pipe_read)),
                               ("heartbeat", heartbeat, ())):
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        roles[thread.ident] = name
    time.sleep(0.5)  # everyone at its place (the frames are checked below)
    current = sys._current_frames()
    threads = []
    for thread in threading.enumerate():
        if thread.ident in roles and roles[thread.ident] != "heartbeat":
            threads.append({"tid": thread.native_id, "name": thread.name,
                            "frames": frames_of(current[thread.ident])})
    truth = {"pid": os.getpid(), "version_info": list(sys.version_info[:3]), "threads": threads}
    with open(truth_path + ".tmp", "w") as f:
        json.dump(truth, f)
    os.rename(truth_path + ".tmp", truth_path)
    answer_gap_questions(os.path.dirname(truth_path), lib)


main()
