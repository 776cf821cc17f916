"""gdb's native backtraces of a core file, and how pyhang's match them (stdlib only).

- backtraces(exe, core): runs `gdb -batch -ex 'set pagination off' -ex
  'thread apply all bt' EXE CORE` (plus settings that only shorten the
  output: no arguments, no auto-loaded Python pretty-printers) and returns
  {tid (the LWP number): [Frame, ...] innermost first}.
- analyze(exe, core): the same run, plus what gdb says crashed: a GdbCore
  (threads, crashing_tid, crash_function: frame #0's function of that
  thread, "??" where gdb has no name; crash_pc; crash_module: the basename
  of the file the core's own mappings (`info proc mappings`) put the pc in).
- names(frames, drop_eval_loop=True): the function names ("??" where gdb has
  none), without the physical frames of _PyEval_EvalFrameDefault (and the
  calls gdb shows inlined into it), which pyhang replaces with the Python
  frames that activation ran.
- compare(pyhang_native_names, gdb_names) -> (matched, gdb_total, mismatches):
  the two lists aligned by difflib.SequenceMatcher on normalized names.

Names are compared after normalize(): without GCC's clone suffixes
(".cold", ".part.N", ".constprop.N", ".isra.N", ".lto_priv.N", any number
of them) and glibc's "__GI_" internal-alias prefix.
"""
import collections
import difflib
import os
import re
import subprocess

GDB_TIMEOUT_S = 120
EVAL_LOOP = "_PyEval_EvalFrameDefault"
UNKNOWN = "??"

# Frame: index (gdb's #N), address (int, or None where gdb prints none: an
# inlined call, or frame #0 at the start of a line), function (name or
# "??"), physical (index of the physical frame it belongs to: each address
# gdb prints starts one; the calls inlined there follow without one).
Frame = collections.namedtuple("Frame", "index address function physical")

THREAD_RE = re.compile(r"^Thread \d+ \(.*?\bLWP (\d+)\b")  # gdb 13: "(Thread 0x.. (LWP N))", 18: "(LWP N \"name\")"
# "#3  0x00007f... in name (args) at file:line", "#0  name (args) at ...",
# "#4  0x... in ?? () from /lib/...", "#1  <signal handler called>".
FRAME_RE = re.compile(r"^#(\d+)\s+(?:(0x[0-9a-fA-F]+) in )?(.*)$")
CLONE_SUFFIX_RE = re.compile(r"(?:\.(?:cold|part\.\d+|constprop\.\d+|isra\.\d+|lto_priv\.\d+))+$")


class GdbError(RuntimeError):
    pass


GdbCore = collections.namedtuple("GdbCore",
                                 "threads crashing_tid crash_function crash_pc crash_module")

# "[Current thread is 1 (Thread 0x7f... (LWP 15111))]" when gdb loads a core.
CURRENT_RE = re.compile(r"^\[Current thread is \d+ \(.*?\bLWP (\d+)\)", re.M)
# `p/x $pc`: "$1 = 0x7f..."
PC_RE = re.compile(r"^\$\d+ = (0x[0-9a-fA-F]+)\s*$", re.M)
# `info proc mappings`: "START END SIZE OFFSET [PERMS] FILE"
MAPPING_RE = re.compile(r"^\s*(0x[0-9a-fA-F]+)\s+(0x[0-9a-fA-F]+)\s+0x[0-9a-fA-F]+\s+"
                        r"0x[0-9a-fA-F]+\s+(?:[rwxsp-]{4}\s+)?(/\S.*?)\s*$", re.M)


def gdb_argv(exe, core, sysroot=None, before=(), solib_dirs=()):
    argv = ["gdb", "-nx", "-batch",
            "-iex", "set auto-load python-scripts off",
            "-ex", "set pagination off", "-ex", "set width 0",
            "-ex", "set print frame-arguments none"]
    if sysroot:
        argv += ["-iex", "set sysroot %s" % sysroot]
    if solib_dirs:
        # Libraries outside the sysroot (a test's own, bind-mounted in).
        argv += ["-iex", "set solib-search-path %s" % ":".join(solib_dirs)]
    for command in before:
        argv += ["-ex", command]
    return argv + ["-ex", "thread apply all bt", exe, core]


def run_gdb(exe, core, sysroot=None, timeout=GDB_TIMEOUT_S, before=(), solib_dirs=(),
            launch=None):
    """launch: turns gdb's argv into the command to run (e.g. in a chroot)."""
    argv = gdb_argv(exe, core, sysroot, before, solib_dirs)
    if launch is not None:
        argv = launch(argv)
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GdbError("`%s` did not finish within %ss" % (" ".join(argv), timeout))
    except OSError as error:
        raise GdbError("`%s` failed: %s" % (" ".join(argv), error))
    return argv, result.returncode, result.stdout.decode("utf-8", "replace")


def function_of(rest):
    """The function name from what follows "#N  [0x... in ]"."""
    if rest.startswith("<"):  # "<signal handler called>"
        return rest
    # The name ends where the argument list starts: the first " (".
    cut = rest.find(" (")
    name = (rest if cut < 0 else rest[:cut]).strip()
    return name or UNKNOWN


def parse(text):
    """{tid: [Frame]} from `thread apply all bt` output. Frames printed
    before the first "Thread N (... LWP tid)" header (gdb's own "#0 ..."
    when it loads the core) are not any thread's list."""
    threads = {}
    current = None
    for line in text.splitlines():
        header = THREAD_RE.match(line)
        if header:
            current = threads.setdefault(int(header.group(1)), [])
            continue
        match = FRAME_RE.match(line)
        if not match or current is None:
            continue
        index = int(match.group(1))
        if index == 0 and current:
            continue  # a thread printed twice: keep the first
        address = int(match.group(2), 16) if match.group(2) else None
        if not current or address is not None:
            physical = current[-1].physical + 1 if current else 0
        else:
            physical = current[-1].physical
        current.append(Frame(index, address, function_of(match.group(3)), physical))
    return threads


def backtraces(exe, core, sysroot=None, timeout=GDB_TIMEOUT_S, launch=None):
    """{tid: [Frame]} of every thread gdb finds in `core`; GdbError if none.
    launch: as for run_gdb (a chrooted interpreter's own gdb)."""
    argv, code, text = run_gdb(exe, core, sysroot, timeout, launch=launch)
    threads = parse(text)
    if not threads:
        raise GdbError("`%s` -> exit %d printed no thread backtraces:\n%s" % (
            " ".join(argv), code, text[-3000:]))
    return threads


def analyze(exe, core, sysroot=None, timeout=GDB_TIMEOUT_S, solib_dirs=()):
    """GdbCore of `core`: every thread's frames and the crash site. gdb's
    current thread when it loads a core is the one whose registers come
    first, the kernel's crashing thread ("[Current thread is N (... LWP
    tid)]")."""
    argv, code, text = run_gdb(exe, core, sysroot, timeout,
                               before=["p/x $pc", "info proc mappings"], solib_dirs=solib_dirs)
    threads = parse(text)
    current = CURRENT_RE.search(text)
    pc = PC_RE.search(text)
    if not threads or not current or int(current.group(1)) not in threads or not pc:
        raise GdbError("`%s` -> exit %d printed no current thread, pc and backtraces:\n%s" % (
            " ".join(argv), code, text[-3000:]))
    tid = int(current.group(1))
    crash_pc = int(pc.group(1), 16)
    module = None
    for start, end, path in MAPPING_RE.findall(text):
        if int(start, 16) <= crash_pc < int(end, 16):
            module = os.path.basename(path)
    return GdbCore(threads, tid, threads[tid][0].function, crash_pc, module)


def normalize(name):
    if not name:
        return UNKNOWN
    name = CLONE_SUFFIX_RE.sub("", name)
    if name.startswith("__GI_"):
        name = name[len("__GI_"):]
    return name


def names(frames, drop_eval_loop=True):
    """Function names innermost first; without each physical frame whose
    function (the outermost of its inlined chain) is the eval loop."""
    if drop_eval_loop:
        outermost = {}
        for frame in frames:
            outermost[frame.physical] = frame.function
        frames = [f for f in frames if normalize(outermost[f.physical]) != EVAL_LOOP]
    return [f.function for f in frames]


def compare(pyhang_native_names, gdb_names):
    """(matched, gdb_total, mismatches): how many of gdb's frames pyhang has
    in the same order, aligned by SequenceMatcher on normalized names;
    mismatches: ["gdb #i..j [names] vs pyhang [names]" (replace), "gdb
    only: ...", "pyhang only: ..."]."""
    ours = [normalize(n) for n in pyhang_native_names]
    theirs = [normalize(n) for n in gdb_names]
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    matched = 0
    mismatches = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            matched += i2 - i1
        elif tag == "replace":
            mismatches.append("gdb %d-%d %s, pyhang %d-%d %s" % (
                j1, j2 - 1, theirs[j1:j2], i1, i2 - 1, ours[i1:i2]))
        elif tag == "delete":
            mismatches.append("only pyhang %d-%d %s" % (i1, i2 - 1, ours[i1:i2]))
        elif tag == "insert":
            mismatches.append("only gdb %d-%d %s" % (j1, j2 - 1, theirs[j1:j2]))
    return matched, len(theirs), mismatches
