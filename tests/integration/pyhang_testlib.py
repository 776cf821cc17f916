"""Shared helpers for the `pyhang dump` integration tests (stdlib only).

- pyhang_binary(): $PYHANG_BIN, else <repo>/build/pyhang.
- discover_interpreters(): every CPython 3.8-3.13 on this machine (pyenv,
  /usr/bin/python3) plus venvs made from them; nothing is hard-coded.
- spawn()/kill(): every process a test starts, killed at the end whatever happens.
- run_pyhang(): runs pyhang with a timeout; a hang is reported, not waited out.
"""
import atexit
import collections
import os
import re
import shutil
import signal
import subprocess
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


def run_pyhang(args, timeout=PYHANG_TIMEOUT_S, prefix=(), binary=None):
    argv = list(prefix) + [binary or pyhang_binary()] + [str(a) for a in args]
    start = time.monotonic()
    # Its own process group, so a hang is killed with everything it started.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
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

Interpreter = collections.namedtuple("Interpreter", "label path")


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


def pyenv_pythons(minors):
    """{(3, minor, micro): path} for pyenv's CPython 3.<minor>.<micro> builds."""
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
        if (major, minor) not in minors:
            continue
        binary = "python%d" % major if major == 2 else "python%d.%d" % (major, minor)
        path = os.path.join(versions, name, "bin", binary)
        if os.access(path, os.X_OK):
            found[(major, minor, micro)] = path
    return found


def make_venv(base, directory, copies):
    argv = [base, "-m", "venv", "--without-pip"] + (["--copies"] if copies else []) + [directory]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=WORKLOAD_ENV, timeout=120)
    python = os.path.join(directory, "bin", "python")
    if result.returncode != 0 or not os.access(python, os.X_OK):
        raise RuntimeError("`%s` failed: %s" % (" ".join(argv), result.stdout.decode()[-500:]))
    return python


def check_required_pythons():
    """PYHANG_REQUIRE_PYTHONS="3.8,3.9,...,system" (set by CI): every listed
    pyenv minor version (and, for "system", /usr/bin/python3) must be there,
    so that "every interpreter found" cannot quietly shrink to one."""
    wanted = [w.strip() for w in os.environ.get("PYHANG_REQUIRE_PYTHONS", "").split(",") if w.strip()]
    missing = []
    minors = {tuple(int(x) for x in w.split(".")) for w in wanted if w != "system"}
    found = {version[:2] for version in pyenv_pythons(minors)}
    for w in wanted:
        if w == "system":
            if not os.access("/usr/bin/python3", os.X_OK):
                missing.append("/usr/bin/python3")
        elif tuple(int(x) for x in w.split(".")) not in found:
            missing.append("pyenv %s under %s" % (w, pyenv_root()))
    if missing:
        raise RuntimeError("PYHANG_REQUIRE_PYTHONS: missing %s" % ", ".join(missing))


def discover_interpreters_without_venvs():
    """pyenv's CPython 3.8-3.13 builds and /usr/bin/python3."""
    check_required_pythons()
    interpreters = []
    pyenv = pyenv_pythons({(3, minor) for minor in range(8, 14)})
    for version in sorted(pyenv):
        interpreters.append(Interpreter("pyenv-%d.%d.%d" % version, pyenv[version]))
    system = "/usr/bin/python3"
    if os.access(system, os.X_OK):
        interpreters.append(Interpreter("system-python3", system))
    return interpreters


def discover_interpreters(venv_parent):
    """pyenv 3.8-3.13, /usr/bin/python3, a symlink venv and a --copies venv."""
    interpreters = discover_interpreters_without_venvs()
    if not interpreters:
        return interpreters
    # The symlink venv from the distribution python if there is one (a static,
    # stripped binary behind a symlink), the --copies venv from a pyenv build
    # (a copied executable that still loads libpython from pyenv).
    by_label = {i.label: i for i in interpreters}
    symlink_base = by_label.get("system-python3", interpreters[0])
    pyenv_ones = [i for i in interpreters if i.label.startswith("pyenv-")]
    copies_base = pyenv_ones[-1] if pyenv_ones else interpreters[0]
    for kind, base, copies in (("symlinks", symlink_base, False), ("copies", copies_base, True)):
        directory = os.path.join(venv_parent, "venv-%s" % kind)
        try:
            python = make_venv(base.path, directory, copies)
            interpreters.append(Interpreter("venv-%s-of-%s" % (kind, base.label), python))
        except (RuntimeError, OSError, subprocess.SubprocessError) as error:
            interpreters.append(Interpreter("venv-%s-of-%s" % (kind, base.label),
                                            "ERROR: %s" % error))
    return interpreters


def temp_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, path, True)
    return path
