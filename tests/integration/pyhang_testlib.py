"""Shared helpers of the integration tests (stdlib only).

- pyhang_binary(): $PYHANG_BIN, else <repo>/build/pyhang.
- discover_interpreters(): every CPython `pyhang versions --json` lists that
  this machine has (pyenv, /usr/bin/python3, the sid root's 3.14/3.15 run
  chrooted), pid-namespace twins of some of them, and venvs; nothing is
  hard-coded. An Interpreter launches workloads (argv()) and finds the
  Python's host pid (target_pid()); ns_ids() maps the thread ids a workload
  records inside its pid namespace to host ids.
- spawn()/kill(): every process a test starts, killed at the end whatever happens.
- run_pyhang(): runs pyhang with a timeout; a hang is reported, not waited out.
"""
import atexit
import collections
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKLOADS = os.path.join(REPO, "tests", "workloads")
PYHANG_TIMEOUT_S = 30

# Workloads run with UTF-8 file names and never write __pycache__ into the tree.
WORKLOAD_ENV = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUTF8="1",
                    LC_ALL="C.UTF-8")
for _name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
    WORKLOAD_ENV.pop(_name, None)


def pyhang_binary():
    path = os.environ.get("PYHANG_BIN") or os.path.join(REPO, "build", "pyhang")
    if not os.access(path, os.X_OK):
        raise RuntimeError("pyhang binary not found at %s (set PYHANG_BIN or run "
                           "tools/build.sh)" % path)
    return path


# --- processes ---------------------------------------------------------------

_LIVE = []


def spawn(argv, **kwargs):
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("env", WORKLOAD_ENV)
    proc = subprocess.Popen(argv, **kwargs)
    _LIVE.append(proc)
    return proc


def wait_for_file(path, proc, seconds, what):
    """Waits until `path` exists; RuntimeError if `proc` exits first or
    `seconds` pass (`what` names the file in the message)."""
    deadline = time.monotonic() + seconds
    while not os.path.exists(path):
        if proc.poll() is not None:
            raise RuntimeError("workload exited with %s before %s" % (proc.returncode, what))
        if time.monotonic() > deadline:
            raise RuntimeError("no %s within %ss" % (what, seconds))
        time.sleep(0.02)


def kill(proc):
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if proc in _LIVE:
        _LIVE.remove(proc)


def kill_all():
    for proc in list(_LIVE):
        kill(proc)


atexit.register(kill_all)


def tasks_of(pid):
    try:
        return {int(t) for t in os.listdir("/proc/%d/task" % pid)}
    except OSError:
        return set()


PyhangResult = collections.namedtuple("PyhangResult",
                                      "argv returncode stdout stderr hung seconds")


def run_pyhang(args, timeout=PYHANG_TIMEOUT_S, prefix=(), binary=None, stdin_path=None):
    """pyhang with `args` (stdin: /dev/null, or the file `stdin_path`)."""
    argv = list(prefix) + [binary or pyhang_binary()] + [str(a) for a in args]
    start = time.monotonic()
    with open(stdin_path or os.devnull, "rb") as stdin:
        # Its own process group, so a hang is killed with everything it started.
        proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            hung = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
            hung = True
    if stdin_path:
        argv += ["<", stdin_path]
    return PyhangResult(argv, proc.returncode, out, err, hung, time.monotonic() - start)


def describe(result):
    return ("`%s` -> exit %s%s after %.2fs\n  stdout: %r\n  stderr: %r" % (
        " ".join(result.argv), result.returncode, " (HUNG, killed)" if result.hung else "",
        result.seconds, result.stdout[:2000], result.stderr[:2000]))


def one_line_error_problems(result, code):
    """What is wrong with `result` as a clean error with exit `code` ([] if nothing)."""
    problems = []
    if result.hung:
        problems.append("pyhang hung (killed after %ss)" % PYHANG_TIMEOUT_S)
        return problems
    if result.returncode < 0:
        problems.append("pyhang died from signal %d" % -result.returncode)
    elif result.returncode != code:
        problems.append("exit code %d, expected %d" % (result.returncode, code))
    if result.stdout:
        problems.append("stdout is not empty")
    lines = result.stderr.decode("utf-8", "replace").splitlines()
    if len(lines) != 1 or not lines[0].strip():
        problems.append("stderr has %d lines, expected exactly one non-empty line" % len(lines))
    return problems


# --- interpreters ------------------------------------------------------------
#
# An Interpreter is one way of running a CPython: a host interpreter as it
# is, in a new pid namespace (a container's pid view), chrooted into the sid
# root (a container's files), or both. Tests start workloads through argv()
# and attach pyhang to target_pid(); the truth workloads record (thread ids,
# os.getpid()) is in the target's own namespace, which ns_ids() maps to host ids.

SYSTEM_PYTHON = "/usr/bin/python3"
SID_ROOT = os.environ.get("PYHANG_SID_ROOT") or "/var/cache/pyhang/sid-root"

# Runs "$PY" "$@" chrooted into "$R" in a private mount namespace where the
# host's /tmp and the repository are bind-mounted at the same paths, so
# every path a test hands a workload (scripts, temp dirs, libraries it built)
# means the same inside and outside. A fresh /proc is mounted inside: the
# root's own /proc mount may be gone (after a reboot), and in a new pid
# namespace only a proc mounted in it shows the namespace's ids. sh, chroot
# and the Python exec in turn, so they keep one pid.
CHROOT_SCRIPT = ('R=$1 REPO=$2 PY=$3; shift 3; '
                 'mount --bind /tmp "$R/tmp" && mkdir -p "$R$REPO" && '
                 'mount --bind "$REPO" "$R$REPO" && mount -t proc proc "$R/proc" && '
                 'exec chroot "$R" "$PY" "$@"')
TOOL_IN_ROOT_SCRIPT = ('R=$1; shift; mount --bind /tmp "$R/tmp" && mount -t proc proc "$R/proc" && '
                       'exec chroot "$R" "$@"')
# --fork: the Python is unshare's child, pid 1 of the new namespace, as in a
# container; --kill-child: kill(proc) of unshare takes the namespace with it.
NEW_PID_NAMESPACE = ["unshare", "--pid", "--fork", "--kill-child"]
PRIVATE_MOUNTS = ["--mount", "--propagation", "private"]
LAUNCH_TIMEOUT_S = 30


class LaunchError(RuntimeError):
    pass


class Interpreter:
    """label: readable and unique ("pyenv-3.12.1", "sid-3.15-pidns");
    path: the interpreter as it sees itself (inside `root`); root: None for
    the host's root, else a directory it runs chrooted in; pidns: whether it
    runs in a new pid namespace; version: (major, minor) where known (pyenv, sid);
    error: why it cannot be run at all (then every test of it fails with it)."""

    def __init__(self, label, path, root=None, pidns=False, version=None, error=None):
        self.label = label
        self.path = path
        self.root = root
        self.pidns = pidns
        self.version = version
        self.error = error

    def __repr__(self):
        return "Interpreter(%s)" % self.label

    @property
    def host_path(self):
        """The interpreter's file as the host sees it."""
        if self.root is None:
            return self.path
        return os.path.join(self.root, self.path.lstrip("/"))

    def where(self):
        """For messages: the path and how it is launched."""
        text = self.path
        if self.root is not None:
            text += " chrooted in %s" % self.root
        if self.pidns:
            text += ", in a new pid namespace"
        return text

    def with_pidns(self):
        return Interpreter(self.label + "-pidns", self.path, self.root, True, self.version,
                           self.error)

    def prefix(self):
        """argv up to and including the interpreter; script and arguments follow."""
        if self.root is None:
            if self.pidns:
                return NEW_PID_NAMESPACE + ["--mount-proc", self.path]
            return [self.path]
        launcher = (NEW_PID_NAMESPACE if self.pidns else ["unshare"]) + PRIVATE_MOUNTS
        return launcher + ["sh", "-c", CHROOT_SCRIPT, "sh", self.root, REPO, self.path]

    def argv(self, args):
        return self.prefix() + [str(a) for a in args]

    def tool_argv(self, args):
        """A tool (gcore, gdb) run beside the interpreter: in its root, with
        the host's /tmp and /proc, so files under /tmp have the same path on
        both sides. The host's tools for host interpreters."""
        if self.root is None:
            return [str(a) for a in args]
        return ["unshare"] + PRIVATE_MOUNTS + ["sh", "-c", TOOL_IN_ROOT_SCRIPT, "sh", self.root] + [
            str(a) for a in args]

    def shell_prefix(self):
        """prefix() as shell words, for reproduction commands."""
        return " ".join(shlex.quote(a) for a in self.prefix())

    def shell_target_pid(self, var="P"):
        """Shell that turns $var, the pid of the launched command, into the
        target's (for reproduction commands; run once it has started)."""
        if not self.pidns:
            return ""
        return '%s=$(cat /proc/$%s/task/$%s/children) && ' % (var, var, var)

    def target_pid(self, proc, timeout=LAUNCH_TIMEOUT_S):
        """The host pid of the Python that `proc` (started with argv()) runs:
        proc.pid itself once its launcher has exec'd the interpreter, or, in a
        new pid namespace, unshare's child. Identified by the file
        /proc/PID/exe is (device and inode), so a shell or chroot on the way
        is never taken for it."""
        want = file_identity(self.host_path)
        if want is None:
            raise LaunchError("%s does not exist" % self.host_path)
        deadline = time.monotonic() + timeout
        while True:
            candidates = children_of(proc.pid) if self.pidns else [proc.pid]
            for pid in candidates:
                if file_identity("/proc/%d/exe" % pid) == want:
                    return pid
            if proc.poll() is not None:
                raise LaunchError("`%s` exited with %s before it ran %s" % (
                    " ".join(proc.args), proc.returncode, self.host_path))
            if time.monotonic() > deadline:
                raise LaunchError("`%s`: no process running %s after %ss (candidates %s)" % (
                    " ".join(proc.args), self.host_path, timeout, candidates))
            time.sleep(0.005)


def file_identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def nspid(status_path):
    """The NSpid: ids of a task: the host's first (the test reads the host's
    /proc), the innermost pid namespace's last; [] if the task is gone."""
    try:
        # Bytes: the Name: line is the thread's name cut to 15 bytes, maybe
        # inside a UTF-8 character.
        with open(status_path, "rb") as f:
            for line in f:
                if line.startswith(b"NSpid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        pass
    return []


def ns_pid_of(pid):
    """The pid host process `pid` has in its own pid namespace (= pid outside one)."""
    ids = nspid("/proc/%d/status" % pid)
    if not ids:
        raise LaunchError("process %d is gone (no /proc/%d/status)" % (pid, pid))
    return ids[-1]


def ns_ids(pid):
    """{thread id in the process's own pid namespace: host thread id} for
    every live thread of host process `pid`: what threading.get_native_id()
    says inside maps to what pyhang must print as `tid`. Outside a pid
    namespace every id maps to itself."""
    ids = {}
    for tid in tasks_of(pid):
        both = nspid("/proc/%d/task/%d/status" % (pid, tid))
        if both:
            ids[both[-1]] = both[0]
    return ids


def ns_id_problems(threads, ns_of_host):
    """pyhang's contract for ids (ARCHITECTURE.md): `tid` is the host id and
    `ns_tid` the id in the target's pid namespace, present exactly where the
    two differ. `threads`: JSON thread objects; `ns_of_host`: {host tid: ns
    tid} from /proc. Threads whose tid is no host thread of the target are
    left to the caller (that is its thread-list check)."""
    problems = []
    for thread in threads:
        tid = thread.get("tid")
        if tid not in ns_of_host:
            continue
        want = ns_of_host[tid]
        if want != tid and thread.get("ns_tid") != want:
            problems.append("thread %s: ns_tid %r, its id in the target's pid namespace is %d"
                            % (tid, thread.get("ns_tid", "(absent)"), want))
        elif want == tid and "ns_tid" in thread:
            problems.append("thread %s: ns_tid %r, but the target shares the host's pid "
                            "namespace (the key must be absent)" % (tid, thread["ns_tid"]))
    return problems


def ns_pid_problems(document, host_pid, ns_pid):
    """`pid` the host pid, `ns_pid` the namespace's, present exactly where
    they differ (a dump's top level)."""
    problems = []
    if document.get("pid") != host_pid:
        problems.append("pid %r, expected the host pid %d" % (document.get("pid"), host_pid))
    if ns_pid != host_pid and document.get("ns_pid") != ns_pid:
        problems.append("ns_pid %r, expected %d (os.getpid() in the target)" % (
            document.get("ns_pid", "(absent)"), ns_pid))
    elif ns_pid == host_pid and "ns_pid" in document:
        problems.append("ns_pid %r present, but the target shares the host's pid "
                        "namespace" % document["ns_pid"])
    return problems


_SUPPORTED = []


def supported_versions():
    """[(3, 8), ...]: the versions `pyhang versions --json` lists, the one
    list of what pyhang supports (the tests follow it, never a range of
    their own)."""
    if _SUPPORTED:
        return list(_SUPPORTED)
    argv = [pyhang_binary(), "versions", "--json"]
    try:
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=PYHANG_TIMEOUT_S)
        names = json.loads(result.stdout.decode("utf-8"))["supported"] \
            if result.returncode == 0 else None
        versions = [tuple(int(x) for x in name.split(".")) for name in names or []]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError,
            AttributeError) as error:
        raise RuntimeError("`%s` failed (%s: %s): the tests need pyhang's list of supported "
                           "versions" % (" ".join(argv), type(error).__name__, error))
    if not versions or any(len(v) != 2 for v in versions):
        raise RuntimeError("`%s` did not print {\"supported\": [\"3.8\", ...]}: exit %s, "
                           "stdout %r, stderr %r" % (" ".join(argv), result.returncode,
                                                     result.stdout[:500], result.stderr[:500]))
    _SUPPORTED[:] = versions
    return list(versions)


def versions_text(versions):
    return "%d.%d-%d.%d" % (versions[0] + versions[-1]) if versions else "(none)"


def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root:
        return root
    try:
        out = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=20, check=True)
        root = out.stdout.decode().strip()
        if root:
            return root
    except (OSError, subprocess.SubprocessError):
        pass
    return os.path.expanduser("~/.pyenv")


def pyenv_pythons(minors=None):
    """{(3, minor, micro): path} for pyenv's CPython 3.<minor>.<micro> builds
    whose (3, minor) is in `minors` (None: all of them)."""
    versions = os.path.join(pyenv_root(), "versions")
    found = {}
    try:
        names = os.listdir(versions)
    except OSError:
        return found
    for name in names:
        match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", name)
        if not match:
            continue  # 3.13.0t (free-threaded), dev builds, other implementations
        major, minor, micro = (int(g) for g in match.groups())
        if minors is not None and (major, minor) not in minors:
            continue
        binary = "python%d" % major if major == 2 else "python%d.%d" % (major, minor)
        path = os.path.join(versions, name, "bin", binary)
        if os.access(path, os.X_OK):
            found[(major, minor, micro)] = path
    return found


def can_use_namespaces():
    """Chroot and new pid namespaces need root (and util-linux's unshare)."""
    return os.geteuid() == 0 and shutil.which("unshare") is not None


def probe(interpreter):
    """None if `interpreter` starts (and is its version, when known), else why not."""
    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(interpreter.argv(["-c", code]), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=WORKLOAD_ENV, timeout=LAUNCH_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as error:
        return "`%s` failed: %s" % (interpreter.shell_prefix(), error)
    output = result.stdout.decode("utf-8", "replace").strip()
    want = interpreter.version and "%d.%d" % interpreter.version
    if result.returncode != 0 or (want and output != want):
        return "`%s -c ...` -> exit %d: %r" % (interpreter.shell_prefix(), result.returncode,
                                               output[-500:])
    return None


def sid_pythons(minors, root=SID_ROOT):
    """[Interpreter] for the sid root's /usr/bin/python3.X of each (3, X) in
    `minors` (see tools/sid-root.sh), each checked by starting it."""
    found = []
    for major, minor in sorted(minors):
        path = "/usr/bin/python%d.%d" % (major, minor)
        interpreter = Interpreter("sid-%d.%d" % (major, minor), path, root=root,
                                  version=(major, minor))
        if os.access(interpreter.host_path, os.X_OK):
            interpreter.error = probe(interpreter)
            found.append(interpreter)
    return found


def make_venv(base, directory, copies):
    argv = [base, "-m", "venv", "--without-pip"] + (["--copies"] if copies else []) + [directory]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=WORKLOAD_ENV, timeout=120)
    python = os.path.join(directory, "bin", "python")
    if result.returncode != 0 or not os.access(python, os.X_OK):
        raise RuntimeError("`%s` failed: %s" % (" ".join(argv), result.stdout.decode()[-500:]))
    return python


def required_pythons():
    return [w.strip() for w in os.environ.get("PYHANG_REQUIRE_PYTHONS", "").split(",")
            if w.strip()]


def check_required_pythons(interpreters):
    """PYHANG_REQUIRE_PYTHONS="2.7,3.8,...,3.15,system,pidns" (set by CI):
    every listed minor version must be there under pyenv or, for versions
    Debian 12 lacks, as the sid root's python3.X; "system": /usr/bin/python3;
    "pidns": the pid-namespace variants. So "every interpreter found" cannot
    quietly shrink to one. `interpreters`: what discovery found."""
    missing = []
    usable = [i for i in interpreters if not i.error]
    for wanted in required_pythons():
        if wanted == "system":
            if not any(i.path == SYSTEM_PYTHON and i.root is None for i in usable):
                missing.append(SYSTEM_PYTHON)
        elif wanted == "pidns":
            if not any(i.pidns for i in usable):
                missing.append("the pid-namespace variants (they need root and unshare)")
        else:
            minor = tuple(int(x) for x in wanted.split("."))
            if pyenv_pythons({minor}):
                continue
            sid = [i for i in interpreters if i.label == "sid-%d.%d" % minor]
            if sid and not sid[0].error:
                continue
            why = ("its python%s there does not start: %s" % (wanted, sid[0].error) if sid
                   else "no python%s there" % wanted)
            if not sid and not can_use_namespaces():
                why = "the sid root needs root and unshare"
            missing.append("%s: not under pyenv (%s) nor in the sid root %s (%s; run "
                           "tools/sid-root.sh to build it)" % (wanted, pyenv_root(), SID_ROOT,
                                                               why))
    if missing:
        raise RuntimeError("PYHANG_REQUIRE_PYTHONS: missing %s" % "; ".join(missing))


_DISCOVERED = []


def discover_interpreters_without_venvs():
    """Every supported CPython here, in both shapes a container gives:
    pyenv's builds and /usr/bin/python3; the sid root's python3.X
    (tools/sid-root.sh: 3.14 and 3.15, chrooted); and pid-namespace
    twins of the newest pyenv build, /usr/bin/python3 and each sid one. The
    list is the same for every caller in a process (it is probed once)."""
    if _DISCOVERED:
        return list(_DISCOVERED)
    supported = supported_versions()
    interpreters = []
    pyenv = pyenv_pythons(set(supported))
    for version in sorted(pyenv):
        interpreters.append(Interpreter("pyenv-%d.%d.%d" % version, pyenv[version],
                                        version=version[:2]))
    if os.access(SYSTEM_PYTHON, os.X_OK):
        interpreters.append(Interpreter("system-python3", SYSTEM_PYTHON))
    host = list(interpreters)
    sid = []
    if can_use_namespaces():
        sid = sid_pythons(set(supported))
        interpreters += sid
        newest_pyenv = [i for i in host if i.label.startswith("pyenv-")][-1:]
        system = [i for i in host if i.path == SYSTEM_PYTHON]
        for base in newest_pyenv + system + sid:
            twin = base.with_pidns()
            if not twin.error:
                twin.error = probe(twin)
            interpreters.append(twin)
    else:
        sys.stderr.write("pyhang_testlib: not root (or no unshare): no sid-root or "
                         "pid-namespace interpreters\n")
    check_required_pythons(interpreters)
    interpreters = only_interpreters(interpreters)
    _DISCOVERED[:] = interpreters
    return list(interpreters)


def only_interpreters(interpreters):
    """PYHANG_ONLY_INTERPRETERS="pyenv-3.9,system-python3,sid-3.15-pidns"
    (tools/sanitize.sh's slice): only those (see pick_interpreters)."""
    wanted = [w.strip() for w in os.environ.get("PYHANG_ONLY_INTERPRETERS", "").split(",") if w.strip()]
    if not wanted:
        return interpreters
    chosen, missing = pick_interpreters(interpreters, wanted)
    if missing:
        raise RuntimeError("PYHANG_ONLY_INTERPRETERS: not found here: %s (have %s)" % (
            ", ".join(missing), ", ".join(i.label for i in interpreters)))
    return chosen


# One interpreter per layout family: frame objects (3.9), Debian's stripped
# 3.11, 3.12's interpreter frames, 3.14's _Py_DebugOffsets, 3.15's
# thread-local thread state in a pid namespace.
LAYOUT_FAMILIES = ("pyenv-3.9", "system-python3", "pyenv-3.12", "sid-3.14", "sid-3.15-pidns")


def pick_interpreters(interpreters, wanted):
    """(the interpreters named in `wanted`, by label or by label without its
    micro version; the names in `wanted` that none matched)."""
    def matches(label, name):
        return label == name or (label.startswith(name + ".") and "-pidns" not in label[len(name):])
    chosen = [i for i in interpreters if any(matches(i.label, w) for w in wanted)]
    missing = [w for w in wanted if not any(matches(i.label, w) for i in chosen)]
    return chosen, missing


def discover_interpreters(venv_parent):
    """discover_interpreters_without_venvs(), plus a symlink venv and a --copies venv."""
    interpreters = discover_interpreters_without_venvs()
    host = [i for i in interpreters if i.root is None and not i.pidns]
    if not host:
        return interpreters
    # The symlink venv from the distribution python if there is one (a static,
    # stripped binary behind a symlink), the --copies venv from a pyenv build
    # (a copied executable that still loads libpython from pyenv).
    by_label = {i.label: i for i in host}
    symlink_base = by_label.get("system-python3", host[0])
    pyenv_ones = [i for i in host if i.label.startswith("pyenv-")]
    copies_base = pyenv_ones[-1] if pyenv_ones else host[0]
    for kind, base, copies in (("symlinks", symlink_base, False), ("copies", copies_base, True)):
        label = "venv-%s-of-%s" % (kind, base.label)
        directory = os.path.join(venv_parent, "venv-%s" % kind)
        try:
            interpreters.append(Interpreter(label, make_venv(base.path, directory, copies)))
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            interpreters.append(Interpreter(label, os.path.join(directory, "bin", "python"),
                                            error="could not create the venv: %s" % error))
    return interpreters


def in_host_namespace(interpreters):
    """The interpreters that share the host's pid namespace (sid root included)."""
    return [i for i in interpreters if not i.pidns]


def describe_interpreters(interpreters):
    return ", ".join("%s=%s%s" % (i.label, i.where(), " (ERROR: %s)" % i.error if i.error else "")
                     for i in interpreters)


def temp_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path
