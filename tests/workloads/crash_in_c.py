"""A Python process that crashes with SIGSEGV in C code, after writing what
the interpreter itself sees to a truth file.

Usage: python crash_in_c.py MODE TRUTH_JSON [LIBCRASH_SO]

MODE
  string_at  the main thread calls ctypes.string_at(0) (strlen(NULL) in C)
  pydll      a thread named "crasher" calls crash_entry() of LIBCRASH_SO
             (tests/workloads/libcrash.c) through ctypes.PyDLL, so the GIL
             stays held; it reads address 0 three C frames down. The main
             thread waits in crasher.join().
  block      nothing crashes (for gcore): a "recorder" thread writes the
             truth and exits; the main thread waits in Event.wait() forever.

In every mode a "lock-holder" thread holds a threading.Lock and then blocks
on an Event, and a "lock-waiter" thread blocks in that lock's acquire().

Once every other thread is off-CPU and its stack stays put, the crashing
thread writes TRUTH_JSON (atomically) and crashes:
  pid, version_info, executable;
  crashing (null in block mode): {tid (threading.get_native_id()), name,
    frames}, the frames innermost first from traceback.extract_stack()
    taken on the very source line of the crashing call: for pydll, as an
    argument of a call on that line; for string_at, by a line-trace hook in
    ctypes.string_at's own frame on the line that calls into C (string_at
    is Python code, so its frame is part of the crashing stack);
  threads: [{tid, name, role, frames}] from sys._current_frames() of the
    blocked threads (role: "holder", "waiter", "main");
  lock: {holder_tid, waiter_tid}.
Nothing in the truth is typed by hand. The workload crashes in the
directory of TRUTH_JSON. Runs on CPython 3.8+.
"""
import ctypes
import json
import os
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True


def frame_entries(frame):
    """Innermost first, from a live frame (sys._current_frames())."""
    entries = []
    while frame is not None:
        entries.append({"function": frame.f_code.co_name, "file": frame.f_code.co_filename,
                        "line": frame.f_lineno})
        frame = frame.f_back
    return entries


def summary_entries(summary):
    """Innermost first, from traceback.extract_stack() (outermost first)."""
    return [{"function": entry.name, "file": entry.filename, "line": entry.lineno}
            for entry in reversed(summary)]


# --- the blocked threads ------------------------------------------------------

def hold_lock(lock, holding, never):
    with lock:
        holding.set()
        never.wait()  # holds `lock` forever


def wait_for_lock(lock, holding):
    holding.wait()
    lock.acquire()  # blocks: the holder never lets go


def task_blocked(tid):
    """Off-CPU in a syscall (stat not R, /proc/.../syscall not "running")."""
    try:
        with open("/proc/self/task/%d/stat" % tid, "rb") as f:
            stat = f.read()
        with open("/proc/self/task/%d/syscall" % tid) as f:
            syscall = f.read().split()
    except OSError:
        return False
    return chr(stat[stat.rfind(b")") + 2]) != "R" and syscall[:1] != ["running"]


def settled_stacks(threads, deadline):
    """{ident: frames} of `threads` once all are blocked and their stacks
    are the same across two looks."""
    idents = [t.ident for t in threads]

    def look():
        frames = sys._current_frames()
        try:
            return {i: frame_entries(frames[i]) for i in idents if i in frames}
        finally:
            del frames

    while time.monotonic() < deadline:
        if all(task_blocked(t.native_id) for t in threads):
            time.sleep(0.1)
            first = look()
            time.sleep(0.1)
            second = look()
            if first == second and len(second) == len(idents) and \
                    all(task_blocked(t.native_id) for t in threads):
                return second
        time.sleep(0.02)
    raise RuntimeError("the threads did not block before the deadline")


# --- the truth ----------------------------------------------------------------

TRUTH = {}


def prepare_truth(blocked, roles):
    """Everything but the crashing stack, taken while `blocked` are blocked."""
    me = threading.current_thread()
    stacks = settled_stacks(blocked, time.monotonic() + 60)
    TRUTH.update({
        "pid": os.getpid(),
        "version_info": list(sys.version_info[:3]),
        "executable": sys.executable,
        "threads": [{"tid": t.native_id, "name": t.name, "role": roles[t.ident],
                     "frames": stacks[t.ident]} for t in blocked],
        "crashing": {"tid": threading.get_native_id(), "name": me.name},
    })


def write_truth(crashing_summary):
    """Writes TRUTH_JSON; `crashing_summary` is the crashing thread's
    traceback.extract_stack()."""
    TRUTH["crashing"]["frames"] = summary_entries(crashing_summary)
    write_json(TRUTH)


def write_json(value):
    path = sys.argv[2]
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.rename(path + ".tmp", path)


# --- the crashes --------------------------------------------------------------

def crash_string_at():
    target = ctypes.string_at.__code__

    def local_trace(frame, event, arg):
        if event == "line":
            # The truth as of the line string_at's frame is about to run: the
            # last one written before the crash is the crashing line.
            write_truth(traceback.extract_stack(frame))
        return local_trace

    def global_trace(frame, event, arg):
        return local_trace if frame.f_code is target else None

    sys.settrace(global_trace)
    return ctypes.string_at(0)  # strlen(NULL): SIGSEGV


def crash_pydll(library):
    crash_entry = library.crash_entry
    crash_entry.restype = ctypes.c_int
    crash_entry.argtypes = [ctypes.c_int]
    write_truth(traceback.extract_stack()); crash_entry(0)  # noqa: E702 (one line)


def recorder_thread(blocked, roles):
    prepare_truth(blocked, roles)
    TRUTH["crashing"] = None
    TRUTH["recorder_tid"] = threading.get_native_id()
    write_json(TRUTH)


def crasher_thread(library, blocked, roles):
    prepare_truth(blocked, roles)
    crash_pydll(library)


def main():
    mode = sys.argv[1]
    # The kernel writes a relative core_pattern's core into the crashing
    # process's working directory, which chroot(1) moved to the new root.
    os.chdir(os.path.dirname(os.path.abspath(sys.argv[2])))
    lock, holding, never = threading.Lock(), threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_lock, args=(lock, holding, never),
                              name="lock-holder", daemon=True)
    holder.start()
    holding.wait()
    waiter = threading.Thread(target=wait_for_lock, args=(lock, holding),
                              name="lock-waiter", daemon=True)
    waiter.start()
    TRUTH["lock"] = {"holder_tid": holder.native_id, "waiter_tid": waiter.native_id}
    roles = {holder.ident: "holder", waiter.ident: "waiter",
             threading.main_thread().ident: "main"}
    if mode == "string_at":
        prepare_truth([holder, waiter], roles)
        crash_string_at()
    elif mode == "pydll":
        library = ctypes.PyDLL(sys.argv[3])
        crasher = threading.Thread(target=crasher_thread, name="crasher",
                                   args=(library, [holder, waiter, threading.main_thread()],
                                         roles))
        crasher.start()
        crasher.join()
    elif mode == "block":
        recorder = threading.Thread(target=recorder_thread, name="recorder",
                                    args=([holder, waiter, threading.main_thread()], roles))
        recorder.start()
        never.wait()
    else:
        raise SystemExit("unknown mode %r" % mode)
    raise SystemExit("did not crash")


if __name__ == "__main__":
    main()
