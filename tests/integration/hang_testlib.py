"""Helpers for the hang-detection integration tests (test_hangs.py), stdlib only.

- Workload: one tests/workloads/hang_*.py process and the files of the
  hang_common.py protocol (ready.json, go, stuck.json).
- Watch: one `pyhang watch --json` process whose lines are read as they come,
  each stamped with the test process's time.monotonic() when it was read.
- build_spin_library(): the C library of the native-loop scenario, built now.
"""
import atexit
import json
import os
import shlex
import signal
import subprocess
import threading
import time

import pyhang_testlib as lib

SPIN_SYMBOL = "spin_in_c_forever"
# The same library, built by hand (for reproduction commands).
SPIN_SHELL = ("printf 'void %s(void){volatile unsigned long n=0;for(;;)n++;}' > \"$D/spin.c\" "
              "&& cc -O1 -shared -fPIC -o \"$D/libspin.so\" \"$D/spin.c\" && " % SPIN_SYMBOL)
SPIN_C = """\
/* Loops forever. Called through ctypes.PyDLL, so the caller keeps the GIL. */
void %s(void) {
  volatile unsigned long counter = 0;
  for (;;) counter++;
}
""" % SPIN_SYMBOL


def build_spin_library(directory):
    source = os.path.join(directory, "spin.c")
    library = os.path.join(directory, "libspin.so")
    with open(source, "w") as f:
        f.write(SPIN_C)
    argv = ["cc", "-O1", "-shared", "-fPIC", "-o", library, source]
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    if result.returncode != 0:
        raise RuntimeError("`%s` failed: %s" % (" ".join(argv), result.stdout.decode()[-1000:]))
    return library


class WorkloadError(Exception):
    pass


class Workload:
    """python WORKLOAD DIRECTORY ARGS..., its output in DIRECTORY/workload.log.

    The workload reports threading.get_native_id() ids, which in a pid
    namespace are the namespace's: wait_ready() turns every thread's "tid"
    in ready.json into the host id (what pyhang prints as `tid`), keeping the
    workload's own as "ns_tid", and marks() does the same, so the tests
    compare host ids throughout."""

    def __init__(self, interpreter, script, args, directory):
        self.interpreter = interpreter
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.script = os.path.join(lib.WORKLOADS, script)
        self.args = [directory] + [str(a) for a in args]
        self.argv = interpreter.argv([self.script] + self.args)
        self.log_path = os.path.join(directory, "workload.log")
        with open(self.log_path, "wb") as log:
            self.proc = lib.spawn(self.argv, stdout=log, stderr=log)
        self.pid = None         # the Python's host pid, known once it is ready
        self.ns_to_host = {}    # {the workload's thread id: host thread id}
        self.ready = None
        self.go_time = None

    def path(self, name):
        return os.path.join(self.directory, name)

    def log_tail(self, size=2000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-size:].decode("utf-8", "replace")
        except OSError:
            return ""

    def read_json(self, name):
        with open(self.path(name), encoding="utf-8") as f:
            return json.load(f)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path("ready.json")):
            if self.proc.poll() is not None:
                raise WorkloadError("workload exited with %s before it was ready; output:\n%s"
                                    % (self.proc.returncode, self.log_tail()))
            if time.monotonic() > deadline:
                raise WorkloadError("workload not ready within %ss; output:\n%s"
                                    % (timeout, self.log_tail()))
            time.sleep(0.02)
        ready = self.read_json("ready.json")
        self.pid = self.interpreter.target_pid(self.proc)
        if ready["pid"] != lib.ns_pid_of(self.pid):
            raise WorkloadError("ready.json says pid %s, but process %d is %d in its pid "
                                "namespace" % (ready["pid"], self.pid, lib.ns_pid_of(self.pid)))
        if (ready["pid"] != self.pid) != self.interpreter.pidns:
            raise WorkloadError("os.getpid() is %s in the workload, %d on the host: expected %s"
                                % (ready["pid"], self.pid, "a new pid namespace"
                                   if self.interpreter.pidns else "the host's pid namespace"))
        self.ns_to_host = lib.ns_ids(self.pid)
        for thread in ready["threads"]:
            thread["ns_tid"] = thread["tid"]
            thread["tid"] = self.host_tid(thread["ns_tid"])
        self.ready = ready
        return ready

    def host_tid(self, ns_tid):
        """The host id of the workload's thread `ns_tid` (its get_native_id())."""
        if ns_tid not in self.ns_to_host:
            self.ns_to_host.update(lib.ns_ids(self.pid))
        if ns_tid not in self.ns_to_host:
            raise WorkloadError("the workload's thread %s is no live thread of process %d "
                                "(NSpid in /proc/%d/task/*/status)" % (ns_tid, self.pid,
                                                                      self.pid))
        return self.ns_to_host[ns_tid]

    def ns_of_host(self):
        """{host tid: the workload's id} of its registered threads."""
        return {t["tid"]: t["ns_tid"] for t in self.ready["threads"]}

    def touch(self, name):
        with open(self.path(name), "w"):
            pass

    def go(self):
        self.go_time = time.monotonic()
        self.touch("go")

    def marks(self, timeout=5):
        """{host tid: CLOCK_MONOTONIC seconds the thread got stuck}, {} if none came."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path("stuck.json")):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                return {}
            time.sleep(0.02)
        return {self.host_tid(int(tid)): moment
                for tid, moment in self.read_json("stuck.json")["marks"].items()}

    def tids(self, role=None):
        return [t["tid"] for t in self.ready["threads"] if role is None or t["role"] == role]

    def tid(self, role):
        tids = self.tids(role)
        if len(tids) != 1:
            raise WorkloadError("%d threads with role %r in ready.json" % (len(tids), role))
        return tids[0]

    def kill(self):
        lib.kill(self.proc)

    def repro(self, watch_args, go=True, args=None, prelude="", background=""):
        """A one-line shell command that reproduces this run by hand: `prelude`
        runs first (in $D), `args` replace the workload's arguments after the
        directory, `background` runs beside the watch."""
        if args is None:
            args = " ".join(shlex.quote(a) for a in self.args[1:])
        # The script's absolute path: a chrooted interpreter does not keep the cwd.
        line = "cd %s && D=$(mktemp -d) && %s{ %s %s \"$D\" %s & } && P=$! && sleep 1.5 && %s" % (
            shlex.quote(lib.REPO), prelude, self.interpreter.shell_prefix(),
            shlex.quote(self.script), args, self.interpreter.shell_target_pid())
        if go:
            line += "touch \"$D/go\" && "
        if background:
            line += "{ (%s) & } && " % background
        return line + "build/pyhang watch --pid $P --json %s; kill $P" % " ".join(
            str(a) for a in watch_args)


_WATCHES = []


def stop_all():
    """Kills every pyhang watch still running (and what it started)."""
    for watch in list(_WATCHES):
        if watch.proc.poll() is None:
            try:
                os.killpg(watch.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            watch.proc.wait()


atexit.register(stop_all)


class Watch:
    """`pyhang watch --pid PID --json ARGS...`, read line by line as it runs."""

    def __init__(self, pid, args):
        self.args = [str(a) for a in args]
        self.argv = [lib.pyhang_binary(), "watch", "--pid", str(pid), "--json"] + self.args
        self.start_time = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        _WATCHES.append(self)
        self.events = []      # (monotonic time read, event dict), in order
        self.wall_read = {}   # id(event) -> time.time() when read
        self.bad_lines = []   # lines that are not JSON objects
        self.stderr = b""
        self.exit_time = None
        self.hung = False
        self.stop_sent = None
        self._changed = threading.Condition()
        self._eof = False
        self._readers = [threading.Thread(target=self._read_stdout, daemon=True),
                         threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self):
        for line in iter(self.proc.stdout.readline, b""):
            now = time.monotonic()
            wall = time.time()
            try:
                event = json.loads(line.decode("utf-8"))
                if not isinstance(event, dict):
                    raise ValueError("not an object")
            except ValueError:
                with self._changed:
                    self.bad_lines.append(line[:500])
                continue
            with self._changed:
                self.events.append((now, event))
                self.wall_read[id(event)] = wall
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def _read_stderr(self):
        self.stderr = self.proc.stderr.read()

    # --- events -------------------------------------------------------------

    def of(self, kind):
        with self._changed:
            return [e for _, e in self.events if e.get("event") == kind]

    def hangs(self):
        return self.of("hang")

    def ends(self):
        return self.of("hang_end")

    def summaries(self):
        return self.of("summary")

    def read_time(self, event):
        with self._changed:
            for when, seen in self.events:
                if seen is event:
                    return when
        return None

    def wait_for(self, predicate, timeout):
        """Waits until predicate(watch) is true or the output ends; its last value."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(self)
                remaining = deadline - time.monotonic()
                if value or self._eof or remaining <= 0:
                    return value
                self._changed.wait(min(remaining, 0.2))

    # --- the process --------------------------------------------------------

    def wait_exit(self, timeout):
        """Waits for pyhang to exit by itself; kills it (hung) after timeout."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.hung = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self.exit_time is None:
            self.exit_time = time.monotonic()
        for reader in self._readers:
            reader.join(timeout=10)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        if self in _WATCHES:
            _WATCHES.remove(self)
        return self.proc.returncode

    def stop(self, timeout=10):
        """Ctrl-C, like a user ending the watch; then waits for the exit."""
        if self.proc.poll() is None:
            self.stop_sent = time.monotonic()
            try:
                os.killpg(self.proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
        return self.wait_exit(timeout)

    def stderr_text(self):
        return self.stderr.decode("utf-8", "replace")

    def describe(self):
        code = self.proc.poll()
        return "`%s` -> exit %s%s; stderr %r; %d events, %d non-JSON lines%s" % (
            " ".join(self.argv), code, " (HUNG, killed)" if self.hung else "",
            self.stderr_text()[-1500:], len(self.events), len(self.bad_lines),
            (": %r" % self.bad_lines[:3]) if self.bad_lines else "")


def short(event):
    """One line for a hang/hang_end event in a failure message."""
    text = "%s #%s %s tids=%s duration_s=%s" % (event.get("event"), event.get("id"),
                                                event.get("kind"), event.get("tids"),
                                                event.get("duration_s"))
    if event.get("event") == "hang":
        names = [t.get("name") for t in event.get("threads") or []]
        text += " names=%s summary=%r" % (names, (event.get("summary") or "")[:300])
    else:
        text += " reason=%r" % event.get("reason")
    return text
