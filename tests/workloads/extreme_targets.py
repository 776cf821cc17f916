"""Extreme and hostile targets for tests/integration/test_extreme_targets.py.
Each mode builds its shape, then writes READY_FILE (JSON: the truth, read
from the interpreter itself once everything waits) and sleeps until killed.

Usage: extreme_targets.py READY_FILE MODE [ARG...]

  threads N       N threads, each blocked on one Event in parked(); truth:
                  every Python thread's native id and its stack
                  (sys._current_frames(), innermost first)
  recursion N     one thread N Python frames deep (recurse()), blocked in
                  the innermost; truth: its depth and its innermost and
                  outermost frames
  long_name N     a thread blocked in a function whose name is N characters
  source_files DIR
                  one thread per hostile co_filename, each blocked in a
                  function compiled with that file name: DIR/fifo (a FIFO),
                  /dev/zero, DIR/sparse.py (10 GiB, a hole), DIR/inside.py (a
                  symlink to DIR/real.py), DIR/escape.py and DIR/dotdot.py
                  (an absolute and a "../.." symlink to SECRET, a file the
                  test made outside a container's root: the target itself
                  cannot see it when chrooted)
  rewriter        two threads blocked at known depths, and a third that
                  keeps rewriting, through ctypes, the innermost frame of
                  one of them (victim()): its code object's name and file
                  name get absurd lengths and bytes that are no text, and
                  its frame link points at itself; every ~millisecond it
                  switches between the damage and the original
  exec_after S PROGRAM [ARG...]
                  spins in busy() for S seconds, then execs PROGRAM
  big_local N     a thread blocked with a local str of N characters (N a
                  multiple of 4096)
  mmap_storm      one thread maps and unmaps files and anonymous memory
                  without pause, beside a sleeping main thread
  churn RATE      starts and ends RATE threads per second (each lives about
                  a millisecond), beside a sleeping main thread
(mmap_storm and churn count their rounds in READY.progress, so a test can
tell that the storm really blew while pyhang watched.)
"""
import ctypes
import json
import mmap
import os
import sys
import threading
import time


def stack_of(frame):
    """[[function, file, line], ...] innermost first, as the interpreter
    has them (f_back links, co_name, f_lineno)."""
    stack = []
    while frame is not None:
        stack.append([frame.f_code.co_name, frame.f_code.co_filename, frame.f_lineno])
        frame = frame.f_back
    return stack


def write_ready(path, truth):
    truth["pid"] = os.getpid()
    with open(path + ".tmp", "w") as out:
        json.dump(truth, out)
    os.rename(path + ".tmp", path)


def threads_truth(exclude=()):
    """Every Python thread but `exclude` (idents): native id -> stack."""
    by_ident = {t.ident: t for t in threading.enumerate()}
    out = {}
    for ident, frame in sys._current_frames().items():
        if ident in exclude or ident not in by_ident:
            continue
        out[str(by_ident[ident].native_id)] = stack_of(frame)
    return out


def wait_until_parked(count, waiting):
    """Until `count` threads sit in Event.wait (waiting() counts them)."""
    deadline = time.monotonic() + 120
    while waiting() < count:
        if time.monotonic() > deadline:
            raise SystemExit("threads did not park")
        time.sleep(0.01)


def parked(gate, parked_count, lock):
    with lock:
        parked_count[0] += 1
    gate.wait()


def mode_threads(ready, count):
    count = int(count)
    threading.stack_size(256 << 10)  # 10,000 threads: 2.5 GiB of address space, little of it touched
    gate, lock, parked_count = threading.Event(), threading.Lock(), [0]
    for _ in range(count):
        threading.Thread(target=parked, args=(gate, parked_count, lock), daemon=True).start()
    wait_until_parked(count, lambda: parked_count[0])
    time.sleep(0.5)  # the last ones from the counter into Event.wait
    # The main thread reports, so its own stack is no truth to compare.
    write_ready(ready, {"threads": threads_truth(exclude={threading.get_ident()}),
                        "os_threads": len(os.listdir("/proc/self/task"))})


def recurse(depth, started, gate):
    if depth > 1:
        return recurse(depth - 1, started, gate)
    started.set()
    gate.wait()


def mode_recursion(ready, depth):
    depth = int(depth)
    sys.setrecursionlimit(depth + 1000)
    # 3.8-3.10 use the C stack for every Python call: give the thread room.
    threading.stack_size(1 << 30)
    started, gate = threading.Event(), threading.Event()
    thread = threading.Thread(target=recurse, args=(depth, started, gate), daemon=True)
    thread.start()
    started.wait()
    time.sleep(0.2)
    stack = stack_of(sys._current_frames()[thread.ident])
    write_ready(ready, {"tid": thread.native_id, "depth": len(stack),
                        "innermost": stack[:50], "outermost": stack[-50:]})


def compiled_function(name, filename, body="    started.set()\n    gate.wait()\n", line=1):
    """A function `name` whose code says it comes from `filename`, its
    blocking line at `line` of that file."""
    source = "\n" * (line - 1) + "def f(started, gate):\n" + body
    namespace = {}
    exec(compile(source, filename, "exec"), namespace)
    function = namespace["f"]
    changes = {"co_name": name}
    if sys.version_info >= (3, 11):
        changes["co_qualname"] = name
    function.__code__ = function.__code__.replace(**changes)
    return function


def start_blocked(function, name):
    started, gate = threading.Event(), threading.Event()
    thread = threading.Thread(target=function, args=(started, gate), name=name, daemon=True)
    thread.start()
    started.wait()
    return thread


def mode_long_name(ready, length):
    name = ("long_" * (int(length) // 5 + 1))[:int(length)]
    thread = start_blocked(compiled_function(name, "/long_name.py"), "long")
    time.sleep(0.1)
    write_ready(ready, {"tid": thread.native_id, "length": len(name), "prefix": name[:64]})


def holds_big(size, started, gate):
    big = "".join(chr(ord("a") + i % 26) for i in range(4096)) * (size // 4096)
    started.set()
    gate.wait()
    return big


def mode_big_local(ready, size):
    size = int(size)
    started, gate = threading.Event(), threading.Event()
    thread = threading.Thread(target=holds_big, args=(size, started, gate), name="big", daemon=True)
    thread.start()
    started.wait()
    # Its repr's start, as the interpreter prints it (repr(big)[:200]).
    sample = "".join(chr(ord("a") + i % 26) for i in range(4096))
    write_ready(ready, {"tid": thread.native_id, "length": size // 4096 * 4096,
                        "repr_start": repr(sample)[:200]})


def mode_source_files(ready, directory):
    files = {
        "fifo": os.path.join(directory, "fifo"),
        "zero": "/dev/zero",
        "sparse": os.path.join(directory, "sparse.py"),
        "inside": os.path.join(directory, "inside.py"),
        "escape": os.path.join(directory, "escape.py"),
        "dotdot": os.path.join(directory, "dotdot.py"),
    }
    threads = {kind: start_blocked(compiled_function("in_" + kind, path, line=2), kind)
               for kind, path in files.items()}
    time.sleep(0.1)
    truth = {"threads": {}}
    for kind, thread in threads.items():
        frame = sys._current_frames()[thread.ident]
        while frame.f_code.co_name != "in_" + kind:
            frame = frame.f_back
        truth["threads"][kind] = {"tid": thread.native_id, "file": files[kind], "line": frame.f_lineno}
        del frame
    write_ready(ready, truth)


# --- rewriter ----------------------------------------------------------------

PTR = ctypes.sizeof(ctypes.c_void_p)
STR_LENGTH_OFFSET = 2 * PTR  # PyASCIIObject: ob_refcnt, ob_type, length


def ascii_data(text):
    """Address of a compact ASCII str's characters: they follow the header,
    which is sys.getsizeof() minus the characters and their NUL."""
    return id(text) + sys.getsizeof(text) - len(text) - 1


def frame_link_address(frame):
    """Where the interpreter keeps `frame`'s link to its caller, the field
    pyhang's walk follows: PyFrameObject.f_back up to 3.10 (found as the
    field holding id(caller)); from 3.11 the link of the interpreter frame
    (_PyInterpreterFrame.previous), found as the field of the callee's
    interpreter frame that holds the caller's (each PyFrameObject points at
    its interpreter frame with f_frame, right after f_back)."""
    caller = frame.f_back
    if sys.version_info < (3, 11):
        base, wanted = id(frame), id(caller)
    else:
        f_frame = lambda f: ctypes.c_void_p.from_address(id(f) + 3 * PTR).value
        base, wanted = f_frame(frame), f_frame(caller)
    for slot in range(32):
        if ctypes.c_void_p.from_address(base + slot * PTR).value == wanted:
            return base + slot * PTR
    raise SystemExit("no frame link found")


class Damage:
    """Bytes to switch between their original and a hostile value."""

    def __init__(self):
        self.places = []  # (address, original bytes, hostile bytes)

    def add(self, address, hostile):
        original = ctypes.string_at(address, len(hostile))
        self.places.append((address, original, hostile))

    def apply(self, hostile):
        for address, original, bad in self.places:
            ctypes.memmove(address, bad if hostile else original, len(bad))


def victim(started, gate):
    started.set()
    gate.wait()


def bystander(depth, started, gate):
    if depth > 1:
        return bystander(depth - 1, started, gate)
    started.set()
    gate.wait()


def mode_rewriter(ready):
    code = victim.__code__
    # Names of their own (not shared with any other code object) to damage.
    name = "".join(["victim_name_", "x" * 20])
    filename = "".join(["/victim_file_", "y" * 20, ".py"])
    victim.__code__ = code.replace(co_name=name, co_filename=filename)
    victim_thread = start_blocked(victim, "victim")
    other_started, other_gate = threading.Event(), threading.Event()
    other = threading.Thread(target=bystander, args=(7, other_started, other_gate), name="bystander",
                             daemon=True)
    other.start()
    other_started.wait()
    time.sleep(0.1)
    frames = sys._current_frames()
    victim_frame = frames[victim_thread.ident]
    while victim_frame.f_code.co_name != name:
        victim_frame = victim_frame.f_back
    damage = Damage()
    huge = (1 << 40).to_bytes(PTR, "little")
    for text in (victim.__code__.co_name, victim.__code__.co_filename):
        damage.add(id(text) + STR_LENGTH_OFFSET, huge)
        damage.add(ascii_data(text), b"\xff\x1b[2J\x00\xfe" * 4)
    # The frame link points back at its own frame: a cycle. (Garbage
    # collection never follows a running frame's link, so this is safe.)
    link = frame_link_address(victim_frame)
    if sys.version_info < (3, 11):
        itself = id(victim_frame)
    else:
        itself = ctypes.c_void_p.from_address(id(victim_frame) + 3 * PTR).value
    damage.add(link, itself.to_bytes(PTR, "little"))
    # Copies: the originals are about to be damaged.
    truth = {"victim_tid": victim_thread.native_id, "victim_name": name.encode().decode(),
             "victim_file": filename.encode().decode(),
             "threads": threads_truth(exclude={victim_thread.ident, threading.get_ident()})}
    del frames, victim_frame
    rewriting = threading.Thread(target=rewrite_forever, args=(damage,), name="rewriter", daemon=True)
    rewriting.start()
    truth["rewriter_tid"] = rewriting.native_id
    write_ready(ready, truth)


def rewrite_forever(damage):
    hostile = True
    while True:
        damage.apply(hostile)
        hostile = not hostile
        time.sleep(0.001)


# --- busy targets ------------------------------------------------------------

def busy(seconds):
    deadline = time.monotonic() + seconds
    total = 0
    while time.monotonic() < deadline:
        for i in range(1000):
            total += i * i
    return total


def mode_exec_after(ready, seconds, program, *args):
    write_ready(ready, {"tid": threading.get_native_id()})
    busy(float(seconds))
    os.execv(program, [program] + list(args))


def progress_path(ready):
    """Where a storm or churn mode counts its rounds, beside the ready file."""
    return ready + ".progress"


def write_progress(path, count):
    with open(path + ".tmp", "w") as f:
        f.write("%d\n" % count)
    os.replace(path + ".tmp", path)


def storm(ready):
    path = ready + ".storm"
    with open(path, "wb") as out:
        out.truncate(1 << 20)
    count = 0
    with open(path, "rb") as backing:
        while True:
            pieces = [mmap.mmap(backing.fileno(), 1 << 20, prot=mmap.PROT_READ),
                      mmap.mmap(-1, 64 << 10), mmap.mmap(-1, 4096)]
            pieces[1][0] = 1
            for piece in pieces:
                piece.close()
            count += 1
            if count % 1000 == 0:
                write_progress(progress_path(ready), count)


def mode_mmap_storm(ready):
    # The main thread sleeps: a spinning one would take the GIL from the storm
    # (48,000 rounds/s alone, 300 beside a busy() thread).
    threading.Thread(target=storm, args=(ready,), name="storm", daemon=True).start()
    write_ready(ready, {"tid": threading.get_native_id()})


def short_task():
    time.sleep(0.001)


def churn(ready, rate):
    interval = 1.0 / rate
    started = 0
    begin = time.monotonic()
    while True:
        threading.Thread(target=short_task, daemon=True).start()
        started += 1
        if started % 100 == 0:
            write_progress(progress_path(ready), started)
        delay = begin + started * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def mode_churn(ready, rate):
    # The main thread sleeps: a spinning one would hold the GIL and starve the
    # churner (to ~100 threads/s), and be a busy_loop finding of its own.
    threading.Thread(target=churn, args=(ready, int(rate)), name="churner", daemon=True).start()
    write_ready(ready, {"tid": threading.get_native_id()})


MODES = {name[len("mode_"):]: function for name, function in globals().items()
         if name.startswith("mode_")}


def main():
    ready, mode = sys.argv[1], sys.argv[2]
    MODES[mode](ready, *sys.argv[3:])
    while True:
        time.sleep(1000)


if __name__ == "__main__":
    main()
