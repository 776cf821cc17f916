"""Every `pyhang dump` scenario in one process, with the interpreter's own truth.

Usage: python dump_scenarios.py TRUTH_JSON

Runs on CPython 3.8+ (keep the syntax 3.8-compatible). Starts one or more
threads per scenario -- deadlocks (`with` blocks and bare acquire()), a queue
consumer pool, a 500-deep recursion, a crowd of 120 threads, non-ASCII names,
nested functions, lambdas, generators, comprehensions, an asyncio coroutine
chain, sleep / pause / socket / pipe / select / epoll / join waits and a frame
holding typed locals -- then a recorder thread waits until every other thread
is blocked and its stack is stable, takes sys._current_frames() and writes what
the interpreter itself sees (tid, name, frames innermost first) to TRUTH_JSON
atomically. Last, the recorder starts one thread spinning in a pure-Python loop
(for the `running` state) and exits. Everything else stays blocked until the
process is killed.

Nothing in the truth file is typed by hand except each scenario's expected
thread state, which follows from what the thread blocks in.
"""
import asyncio
import importlib.util
import json
import os
import platform
import queue
import select
import selectors
import signal
import socket
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True  # never leave __pycache__ in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
FOREVER = 10 ** 6  # seconds; the harness kills the process long before

# (thread, scenario, acceptable pyhang states)
SPAWNED = []
LOCK_WAIT = ["lock_wait"]


def spawn(name, scenario, states, target, *args):
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    SPAWNED.append((thread, scenario, states))
    return thread


def new_gate():
    """A lock that is held and never released: acquire() blocks forever."""
    gate = threading.Lock()
    gate.acquire()
    return gate


# --- deadlocks: two locks taken in opposite order --------------------------

def deadlock_with(first, second, both_hold_one):
    with first:
        both_hold_one.wait()
        with second:  # waits forever for the other thread
            pass


def deadlock_acquire(first, second, both_hold_one):
    first.acquire()
    both_hold_one.wait()
    second.acquire()  # waits forever for the other thread
    second.release()
    first.release()


# --- a queue consumer pool --------------------------------------------------

def queue_consumer(work, done):
    while True:
        item = work.get()  # blocks in Queue.get once the queue is empty
        done.append(item)
        work.task_done()


# --- deep recursion ---------------------------------------------------------

def recurse(depth, gate):
    if depth > 1:
        return recurse(depth - 1, gate)
    gate.acquire()  # innermost of 500 recurse() frames
    return depth


# --- crowd ------------------------------------------------------------------

def crowd_member(event):
    event.wait()


# --- nested functions and lambdas -------------------------------------------

def outer(gate):
    def middle():
        def inner():
            gate.acquire()
            return gate
        return inner()
    return middle()


module_lambda = lambda gate: gate.acquire()  # noqa: E731 (the scenario is a lambda)


def lambda_scenario(gate):
    call = lambda: module_lambda(gate)  # noqa: E731
    return call()


# --- generators and comprehensions ------------------------------------------

def produce(gate):
    yield 1
    gate.acquire()  # a thread blocked inside a generator body
    yield 2


def consume_generator(gate):
    total = 0
    for item in produce(gate):
        total += item
    return total


def consume_genexpr(gate):
    return sum(value * 2 for value in produce(gate))


def listcomp_scenario(gate):
    return [gate.acquire() for _ in range(1)]


# --- asyncio: a coroutine chain that blocks in a synchronous call -----------

def blocking_in_coroutine():
    time.sleep(FOREVER)


async def coro_inner():
    await asyncio.sleep(0)  # go through the event loop once
    blocking_in_coroutine()


async def coro_outer():
    await coro_inner()


def asyncio_scenario():
    asyncio.run(coro_outer())


# --- thread states ----------------------------------------------------------

def sleep_forever():
    time.sleep(FOREVER)


def socket_reader(sock):
    return sock.recv(1)  # nothing is ever written to the other end


def pipe_reader(fd):
    return os.read(fd, 1)


def select_waiter(sock):
    return select.select([sock], [], [])


def epoll_waiter(sock):
    with selectors.DefaultSelector() as selector:  # epoll on Linux
        selector.register(sock, selectors.EVENT_READ)
        return selector.select()


def event_waiter(event):
    return event.wait()


def joiner(thread):
    thread.join()


def pauser():
    signal.pause()


# --- locals -----------------------------------------------------------------

LOCALS_TRUTH = {}

# pyhang's documented bounds of one value (userspace/python/value_reader.h);
# bounded_repr() applies them to Python's own repr() of every part.
MAX_STRING, MAX_ITEMS, MAX_DEPTH, MAX_REPR = 256, 16, 3, 1024
CONTAINER_MARKERS = {list: "[...]", tuple: "(...)", dict: "{...}", set: "{...}",
                     frozenset: "frozenset({...})"}
# A module-level name hold_locals() reads: what dump --globals shows.
RETRY_POLICY = {"retries": 3, "backoff": 0.5, "url": "http://service.invalid/api"}


def bounded_repr(value):
    text = _bounded(value, 0, [])
    return text[:MAX_REPR] + "..." if len(text) > MAX_REPR else text


def _joined(parts, count):
    text = ", ".join(parts)
    if count > len(parts):
        text += ", ..." if parts else "..."
    return text


def _bounded(value, depth, open_ids):
    kind = type(value)
    if kind in (str, bytes):
        return repr(value[:MAX_STRING]) + ("..." if len(value) > MAX_STRING else "")
    if kind is bytearray:
        cut = "..." if len(value) > MAX_STRING else ""
        return "bytearray(%r%s)" % (bytes(value[:MAX_STRING]), cut)
    if kind in CONTAINER_MARKERS:
        if id(value) in open_ids or depth >= MAX_DEPTH:
            return CONTAINER_MARKERS[kind]
        if kind in (set, frozenset) and not value:
            return repr(value)
        open_ids.append(id(value))
        if kind is dict:
            parts = [_bounded(k, depth + 1, open_ids) + ": " + _bounded(v, depth + 1, open_ids)
                     for k, v in list(value.items())[:MAX_ITEMS]]
        else:
            parts = [_bounded(item, depth + 1, open_ids) for item in list(value)[:MAX_ITEMS]]
        open_ids.pop()
        inner = _joined(parts, len(value))
        if kind is list:
            return "[" + inner + "]"
        if kind is tuple:
            return "(" + inner + ("," if len(value) == 1 else "") + ")"
        if kind is frozenset:
            return "frozenset({" + inner + "})"
        return "{" + inner + "}"
    return repr(value)


def instance_repr(value):
    """The documented form of an instance: Name(attr=value, ...), from its
    __dict__ and then its set __slots__ (sorted, as CPython lays them out)."""
    attrs = list(getattr(value, "__dict__", {}).items())
    for name in sorted(getattr(type(value), "__slots__", ())):
        if hasattr(value, name):
            attrs.append((name, getattr(value, name)))
    parts = ["%s=%s" % (k, _bounded(v, 1, [id(value)])) for k, v in attrs[:MAX_ITEMS]]
    return "%s(%s)" % (type(value).__name__, _joined(parts, len(attrs)))


class Job:
    def __init__(self, job_id, url):
        self.job_id = job_id
        self.url = url
        self.attempts = [1, 2]


class Endpoint:
    __slots__ = ("host", "port")

    def __init__(self, host, port):
        self.host = host
        self.port = port


class Opaque:
    __slots__ = ()


def fake_object(kind_address, words, tail=b""):
    """A CPython object header laid out in a bytearray this process never
    frees: 16 zero bytes of GC header (untracked), then `words`. Returns the
    buffer (keep it alive) and the object's address."""
    import ctypes
    import struct
    raw = b"\0" * 16 + struct.pack("<%dQ" % len(words), *words) + tail
    buffer = ctypes.create_string_buffer(raw, len(raw) + 64)
    return buffer, ctypes.addressof(buffer) + 16


def hostile_locals():
    """Values that are garbage on purpose, made without touching real ones:
    a list that claims 2**60 items and a dict whose keys table is 0xff bytes.
    Their refcounts are huge so nothing ever frees them."""
    import ctypes
    keep = []
    items, items_address = fake_object(0, [0])
    keep.append(items)
    buffer, big_list = fake_object(0, [1 << 30, id(list), 1 << 60, items_address, 1])
    keep.append(buffer)
    garbage = ctypes.create_string_buffer(b"\xff" * 256)
    keep.append(garbage)
    buffer, bad_dict = fake_object(0, [1 << 30, id(dict), 1, 0, ctypes.addressof(garbage), 0])
    keep.append(buffer)
    as_object = lambda address: ctypes.cast(address, ctypes.py_object).value
    return keep, as_object(big_list), as_object(bad_dict), big_list, bad_dict


def hold_locals(gate):
    i_small = 42
    i_negative = -7
    i_big = 2 ** 70 + 5
    i_huge = 7 ** 1000
    f_plain = 3.14
    f_tiny = 2.5e-07
    c_complex = complex(1.5, -2)
    c_imaginary = 1j
    s_ascii = "it's ascii"
    s_latin1 = "café crème"
    s_ucs2 = "日本語テキスト"
    s_ucs4 = "snake 🐍 here"
    s_long = "x" * 300
    s_100mib = "m" * (100 << 20)
    n_none = None
    b_true = True
    b_false = False
    by_plain = b"\x00ab\xff\n"
    by_quote = b"it's"
    ba_array = bytearray(b"buf\x01")
    r_range = range(0, 10)
    r_step = range(1, 100, 7)
    l_numbers = [-1234, 5678]
    l_list = [1, "two", 3.0]
    l_many = list(range(40))
    t_letters = ("a", "b", "c")
    t_single = (1,)
    t_empty = ()
    d_nested = {"a": False, "b": (1, 2, 3)}
    d_deep = {"level1": {"level2": {"level3": {"level4": [1]}}}}
    d_text = {"request": {"headers": {"agent": "pyhang-test/1.0 " + "q" * 100}}}
    set_small = {3, 1, 2}
    set_empty = set()
    fs_frozen = frozenset({"x"})
    l_cycle = [1]
    l_cycle.append(l_cycle)
    d_cycle = {"k": 1}
    d_cycle["self"] = d_cycle
    t_self = tuple([None])  # a new tuple, not the shared constant (None,)
    import ctypes
    ctypes.py_object.from_address(id(t_self) + 24).value = t_self  # the tuple holds itself
    l_wide = ["w" * 200] * 16
    obj_job = Job(1234, "https://example.invalid/jobs/1234")
    obj_endpoint = Endpoint("db.internal", 5432)
    obj_opaque = Opaque()
    exc_refused = ConnectionRefusedError(111, "Connection refused")
    exc_value = ValueError("bad value")
    lock_free = threading.Lock()
    lock_held = threading.Lock()
    lock_held.acquire()
    rlock_held = threading.RLock()
    rlock_held.acquire()
    rlock_held.acquire()
    fn_function = bounded_repr
    code_object = bounded_repr.__code__
    cls_class = Job
    cls_builtin = int
    mod_json = json
    hostile_keep, bad_list, bad_dict, bad_list_address, bad_dict_address = hostile_locals()
    policy = RETRY_POLICY  # a global the frame reads: dump --globals shows it
    exact = dict(i_small=i_small, i_negative=i_negative, i_big=i_big, i_huge=i_huge,
                 f_plain=f_plain, f_tiny=f_tiny, c_complex=c_complex, c_imaginary=c_imaginary,
                 s_ascii=s_ascii, s_latin1=s_latin1, s_ucs2=s_ucs2, s_ucs4=s_ucs4,
                 s_long=s_long, s_100mib=s_100mib, n_none=n_none, b_true=b_true,
                 b_false=b_false, by_plain=by_plain, by_quote=by_quote, ba_array=ba_array,
                 r_range=r_range, r_step=r_step, l_numbers=l_numbers, l_list=l_list,
                 l_many=l_many, t_letters=t_letters, t_single=t_single, t_empty=t_empty,
                 d_nested=d_nested, d_deep=d_deep, d_text=d_text, set_small=set_small,
                 set_empty=set_empty, fs_frozen=fs_frozen, l_cycle=l_cycle, d_cycle=d_cycle,
                 t_self=t_self, l_wide=l_wide, exc_refused=exc_refused, exc_value=exc_value,
                 lock_free=lock_free, lock_held=lock_held, rlock_held=rlock_held,
                 fn_function=fn_function, code_object=code_object, cls_class=cls_class,
                 cls_builtin=cls_builtin, policy=policy)
    reprs = {name: bounded_repr(value) for name, value in exact.items()}
    reprs["obj_job"] = instance_repr(obj_job)
    reprs["obj_endpoint"] = instance_repr(obj_endpoint)
    reprs["obj_opaque"] = "<Opaque at %#x>" % id(obj_opaque)
    reprs["mod_json"] = "<module %r>" % json.__name__
    reprs["bad_list"] = "<list at %#x, corrupt: size %d of 1 allocated>" % (bad_list_address, 1 << 60)
    prefixes = {"bad_dict": "<dict at %#x, unreadable" % bad_dict_address}
    LOCALS_TRUTH.update(function=sys._getframe().f_code.co_name,
                        tid=threading.get_native_id(), reprs=reprs, prefixes=prefixes,
                        globals={"RETRY_POLICY": bounded_repr(RETRY_POLICY)},
                        lock_held=id(lock_held))
    del exact, reprs, prefixes  # the frame's other locals vary between versions
    gate.acquire()


# --- threads handling exceptions: dump shows what each one handles ----------

EXCEPTION_TRUTH = {}  # native tid -> the handled exception's chain, as traceback sees it
CHAIN_CUT = 16        # links pyhang shows (ExceptionReader::kMaxChain)


class AppError(Exception):
    pass


def exception_line(error):
    return traceback.format_exception_only(type(error), error)[-1].rstrip("\n")


def chain_of(error):
    """The chain traceback prints under `error`: __cause__, else __context__
    unless suppressed; a link seen before ends it as a cycle."""
    links, seen, relation = [], [], None
    while error is not None and len(links) < CHAIN_CUT + 1:
        if any(error is other for other in seen):
            return {"links": links, "cycle_to": id(error), "cut": False}
        seen.append(error)
        links.append({"relation": relation, "line": exception_line(error), "address": id(error)})
        if error.__cause__ is not None:
            error, relation = error.__cause__, "cause"
        elif not error.__suppress_context__:
            error, relation = error.__context__, "context"
        else:
            error = None
    cut = len(links) > CHAIN_CUT
    return {"links": links[:CHAIN_CUT], "cycle_to": None, "cut": cut}


def handle_and_block(gate):
    EXCEPTION_TRUTH[threading.get_native_id()] = chain_of(sys.exc_info()[1])
    gate.acquire()


def refused_connection(gate):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionRefusedError:
        handle_and_block(gate)


def missing_file(gate):
    try:
        open("/nonexistent-pyhang/config.toml")
    except FileNotFoundError:
        handle_and_block(gate)


def chained_exceptions(gate):
    try:
        try:
            {}["missing-key"]
        except KeyError as error:
            raise AppError("wrapper", 3) from error
    except AppError:
        try:
            raise ValueError("raised while handling ü")
        except ValueError:
            handle_and_block(gate)


def cyclic_context(gate):
    first, second = RuntimeError("first"), RuntimeError("second")
    lines = [exception_line(first), exception_line(second)]
    try:
        raise first
    except RuntimeError:
        # Linked only now, and nothing raised after: on 3.8-3.10 an exception
        # raised while a cyclic chain is handled makes CPython loop forever
        # looking for the new exception in the chain.
        first.__context__, second.__context__ = second, first
        EXCEPTION_TRUTH[threading.get_native_id()] = {
            "links": [{"relation": None, "line": lines[0], "address": id(first)},
                      {"relation": "context", "line": lines[1], "address": id(second)}],
            "cycle_to": id(first), "cut": False}
        gate.acquire()


def long_chain(gate):
    error = LookupError("link 0")
    for number in range(1, 100):
        link = LookupError("link %d" % number)
        link.__context__ = error
        error = link
    try:
        raise error
    except LookupError:
        handle_and_block(gate)


def current_exceptions(by_ident):
    """sys._current_exceptions() (3.10+) by native tid: each thread's handled
    exception's line, or None."""
    current = getattr(sys, "_current_exceptions", None)
    if current is None:
        return None
    lines = {}
    for ident, value in current().items():
        if isinstance(value, tuple):  # 3.10, 3.11: (type, value, traceback)
            value = value[1]
        thread = by_ident.get(ident)
        if thread is not None:
            lines[str(thread.native_id)] = None if value is None else exception_line(value)
    return lines


# --- the busy thread, started by the recorder just before it exits ---------

def spin():
    x = 1
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF


# --- the recorder -----------------------------------------------------------

def task_state(tid):
    """(stat state letter, first word of /proc/.../syscall), or None if gone."""
    try:
        # Bytes: the comm field is the thread's name cut to 15 bytes (3.14+
        # names OS threads), which can end inside a UTF-8 character.
        with open("/proc/self/task/%d/stat" % tid, "rb") as f:
            stat = f.read()
        with open("/proc/self/task/%d/syscall" % tid) as f:
            syscall = f.read().split()
    except OSError:
        return None
    return chr(stat[stat.rfind(b")") + 2]), (syscall[0] if syscall else "")


def other_tasks(me):
    return sorted(int(t) for t in os.listdir("/proc/self/task") if int(t) != me)


def all_blocked(me):
    for tid in other_tasks(me):
        state = task_state(tid)
        if state is None or state[0] == "R" or state[1] == "running":
            return False
    return True


def stacks(me):
    """{ident: [frame dict, ...]} innermost first, and the same as a comparable key."""
    frames = sys._current_frames()
    result, key = {}, {}
    try:
        for ident, frame in frames.items():
            if ident == threading.get_ident():
                continue
            entries, signature = [], []
            while frame is not None:
                code = frame.f_code
                entry = {"function": code.co_name, "file": code.co_filename,
                         "line": frame.f_lineno}
                if hasattr(code, "co_qualname"):
                    entry["qualname"] = code.co_qualname
                entries.append(entry)
                signature.append((id(code), frame.f_lineno, frame.f_lasti))
                frame = frame.f_back
            result[ident] = entries
            key[ident] = signature
    finally:
        del frames
    return result, key


def settled_stacks(me, deadline):
    """Stacks once every other thread is off-CPU in a syscall and stays put."""
    in_a_row = 0
    while time.monotonic() < deadline:
        if not all_blocked(me):
            in_a_row = 0
            time.sleep(0.02)
            continue
        in_a_row += 1
        if in_a_row < 4:
            time.sleep(0.03)
            continue
        time.sleep(0.2)  # settle
        first, first_key = stacks(me)
        time.sleep(0.2)
        second, second_key = stacks(me)
        if first_key == second_key and all_blocked(me):
            return second
        in_a_row = 0
    raise RuntimeError("threads did not settle before the deadline")


def write_json_atomically(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.rename(tmp, path)


def record(truth_path, main_states):
    me = threading.get_native_id()
    truth = {"pid": os.getpid(), "recorder_tid": me,
             "python_version": platform.python_version(),
             "version_info": list(sys.version_info[:3]),
             "executable": sys.executable}
    try:
        frames = settled_stacks(me, time.monotonic() + 90)
        by_ident = {t.ident: t for t in threading.enumerate()}
        roles = {t.ident: (scenario, states) for t, scenario, states in SPAWNED}
        roles[threading.main_thread().ident] = ("main", main_states)
        threads = []
        for ident, entries in sorted(frames.items()):
            thread = by_ident.get(ident)
            if thread is None:
                raise RuntimeError("sys._current_frames() has unknown ident %d" % ident)
            scenario, states = roles.get(ident, ("unknown", None))
            threads.append({"tid": thread.native_id, "name": thread.name,
                            "scenario": scenario, "states": states, "frames": entries})
        truth["threads"] = threads
        truth["tasks"] = other_tasks(-1)
        truth["locals"] = dict(LOCALS_TRUTH)
        truth["exceptions"] = {str(tid): chain for tid, chain in EXCEPTION_TRUTH.items()}
        truth["current_exceptions"] = current_exceptions(by_ident)
        busy = threading.Thread(target=spin, name="busy-spin", daemon=True)
        busy.start()
        truth["busy"] = {"tid": busy.native_id, "name": busy.name, "function": "spin",
                         "file": spin.__code__.co_filename}
    except Exception as error:  # the harness reports it
        truth["error"] = "%s: %s" % (type(error).__name__, error)
    write_json_atomically(truth_path, truth)


def main():
    truth_path = os.path.abspath(sys.argv[1])

    # Deadlocks, twice: with `with` blocks and with bare acquire().
    for style, target in (("with", deadlock_with), ("acquire", deadlock_acquire)):
        lock_a, lock_b = threading.Lock(), threading.Lock()
        both_hold_one = threading.Barrier(2)
        deadlock = ["lock_wait", "deadlock"]
        spawn("deadlock-%s-a" % style, "deadlock", deadlock, target, lock_a, lock_b,
              both_hold_one)
        spawn("deadlock-%s-b" % style, "deadlock", deadlock, target, lock_b, lock_a,
              both_hold_one)

    work, done = queue.Queue(), []
    for item in range(8):
        work.put(item)
    for number in range(4):
        spawn("queue-consumer-%d" % number, "queue", LOCK_WAIT, queue_consumer, work, done)

    spawn("recursion-500", "recursion", LOCK_WAIT, recurse, 500, new_gate())

    crowd_event = threading.Event()
    for number in range(120):
        spawn("crowd-%03d" % number, "crowd", LOCK_WAIT, crowd_member, crowd_event)

    spec = importlib.util.spec_from_file_location(
        "non_ascii_scenario", os.path.join(HERE, "nön_ascii_名前_🐍.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spawn("ünïcode-名前-🐍", "non_ascii", LOCK_WAIT, getattr(module, "entrée"), new_gate())

    spawn("nested", "nested", LOCK_WAIT, outer, new_gate())
    spawn("lambda", "lambda", LOCK_WAIT, lambda_scenario, new_gate())
    spawn("generator", "generator", LOCK_WAIT, consume_generator, new_gate())
    spawn("genexpr", "generator", LOCK_WAIT, consume_genexpr, new_gate())
    spawn("listcomp", "comprehension", LOCK_WAIT, listcomp_scenario, new_gate())
    spawn("asyncio-loop", "asyncio", ["sleep"], asyncio_scenario)

    spawn("sleeper", "state", ["sleep"], sleep_forever)
    sock_a, sock_b = socket.socketpair()
    spawn("socket-reader", "state", ["io_wait"], socket_reader, sock_a)
    read_end, write_end = os.pipe()
    spawn('pipe-reader "q" \\ \t', "state", ["io_wait"], pipe_reader, read_end)
    sock_c, sock_d = socket.socketpair()
    spawn("select-waiter", "state", ["io_wait"], select_waiter, sock_c)
    sock_e, sock_f = socket.socketpair()
    spawn("epoll-waiter", "state", ["io_wait"], epoll_waiter, sock_e)
    spawn("event-waiter", "state", LOCK_WAIT, event_waiter, threading.Event())
    spawn("joiner", "state", LOCK_WAIT, joiner, SPAWNED[0][0])
    spawn("pauser", "state", ["sleep"], pauser)
    spawn("locals-holder", "locals", LOCK_WAIT, hold_locals, new_gate())
    for name, handler in (("refused", refused_connection), ("missing-file", missing_file),
                          ("chained", chained_exceptions), ("cyclic-context", cyclic_context),
                          ("long-chain", long_chain)):
        spawn("handling-" + name, "exception", LOCK_WAIT, handler, new_gate())

    forever = threading.Event()
    threading.Thread(target=record, args=(truth_path, LOCK_WAIT), name="recorder",
                     daemon=True).start()
    forever.wait()  # the main thread blocks in Event.wait too
    return (sock_b, sock_d, sock_f, write_end)


if __name__ == "__main__":
    main()
