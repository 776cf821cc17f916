// The Python interpreters the C++ test families run, found at test time, and
// how to launch them. The versions come from pyhang's one list
// (pyhang::python::kSupportedVersions), never from a range of our own:
//  - pyenv's builds ($PYENV_ROOT, else `pyenv root`, else ~/.pyenv) and
//    Debian's /usr/bin/python3;
//  - as root: the sid root's /usr/bin/python3.X (tools/sid-root.sh;
//    $PYHANG_SID_ROOT, else /var/cache/pyhang/sid-root), run chrooted: the
//    shape of a container's files;
//  - as root, by WithPidNamespaceTwins(): the same interpreters in a new pid
//    namespace, the shape of a container's pids.
// It mirrors tests/integration/pyhang_testlib.py's discovery, including
// PYHANG_REQUIRE_PYTHONS (CheckRequiredPythons).
#ifndef PYHANG_TESTS_COMMON_INTERPRETERS_H_
#define PYHANG_TESTS_COMMON_INTERPRETERS_H_

#include <sys/types.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pyhang::testing {

struct Interpreter {
  std::string label;  // unique: "pyenv-3.12.1", "system-python3", "sid-3.15", "sid-3.15-pidns"
  std::string path;   // the executable as the interpreter sees it (inside `root`)
  std::string root;   // "": the host's root; else the directory it runs chrooted in
  bool pidns = false; // in a new pid namespace, where the Python is the launcher's child
  int minor = 0;      // 3.<minor>
  // argv before `path`: empty for a host interpreter run as it is, else
  // unshare (and the chroot script); see Argv().
  std::vector<std::string> launcher;

  // The executable as the host sees it.
  std::string HostPath() const;
  // The command that runs this interpreter with `args`. Without a pid
  // namespace every launcher execs in place, so the spawned pid is the
  // Python's; with one, the Python is the spawned process's child
  // (FindPythonPid() finds it).
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  // Argv() as one /bin/sh command line.
  std::string ShellCommand(const std::vector<std::string>& args) const;
  // `label` with every character but [A-Za-z0-9] replaced by '_' (GoogleTest names).
  std::string TestName() const;
};

// For GoogleTest's parameter names: the label.
void PrintTo(const Interpreter& interpreter, std::ostream* out);

// pyenv's builds of supported versions, /usr/bin/python3 if supported and,
// as root with unshare, the sid root's supported python3.X. Only the file
// system is looked at (besides asking /usr/bin/python3 its version), so
// this is cheap enough for GoogleTest's test listing; Probe() launches.
std::vector<Interpreter> FindInterpreters();

// `interpreters` plus, as root with unshare, a pid-namespace twin (label
// "...-pidns") of the newest pyenv build, of /usr/bin/python3 and of each
// sid one: the twin of a chrooted one runs in a container's both shapes.
std::vector<Interpreter> WithPidNamespaceTwins(const std::vector<Interpreter>& interpreters);

// OK if `interpreter` starts and says it is 3.<minor>; else what went wrong.
absl::Status Probe(const Interpreter& interpreter);

// PYHANG_REQUIRE_PYTHONS="3.8,...,3.15,system,pidns" (set by CI; the
// Python tests read the same list): every listed supported minor version
// must be in `found` (pyenv's or the sid root's) and start; "system":
// /usr/bin/python3 on the host; "pidns": a pid-namespace variant. Listed
// versions pyhang does not support (2.7, 3.6, ...) are the business of
// the tests that check their refusal, not of these families; so is
// "pidns" for a family that runs no pid-namespace variants (kPlain).
enum class Variants { kPlain, kWithPidNamespaces };
absl::Status CheckRequiredPythons(const std::vector<Interpreter>& found, Variants variants);
// True if PYHANG_REQUIRE_PYTHONS is set: missing interpreters must fail, not skip.
bool PythonsRequired();

// The host pid of the Python that `launched` (spawned from Argv()) runs:
// `launched` itself once its launchers have exec'd it, or, in a pid
// namespace, the launcher's child. Identified by the file /proc/PID/exe
// is, so a shell or chroot on the way is never taken for it.
absl::StatusOr<pid_t> FindPythonPid(const Interpreter& interpreter, pid_t launched,
                                    absl::Duration timeout);

// {id in the process's own pid namespace: host id} for each thread of host
// process `pid`, from the NSpid: lines of /proc/PID/task/TID/status. Outside
// a pid namespace every id maps to itself.
absl::StatusOr<std::map<int64_t, int64_t>> HostTidsByNamespaceTid(pid_t pid);
// The pid `pid` has in its innermost pid namespace.
absl::StatusOr<int64_t> NamespacePid(pid_t pid);

// Runs `command` through /bin/sh and returns its stdout; sets *exit_code.
std::string RunCommand(const std::string& command, int* exit_code);

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_COMMON_INTERPRETERS_H_
