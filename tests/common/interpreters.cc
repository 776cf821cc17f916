#include "tests/common/interpreters.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/python/versions.h"

namespace pyhang::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kSystemPython[] = "/usr/bin/python3";
constexpr char kDefaultSidRoot[] = "/var/cache/pyhang/sid-root";

// Runs "$@" chrooted into $1 in the launcher's private mount namespace,
// where the host's /tmp and the repository ($2) are bind-mounted at the same
// paths, so every path a test hands a workload means the same inside and
// outside. A fresh /proc is mounted inside: the root's own may be gone, and
// in a new pid namespace only a proc mounted there shows its ids. sh and
// chroot exec in turn, so they keep the launcher's pid.
constexpr char kChrootScript[] =
    "R=$1 REPO=$2; shift 2; "
    "mount --bind /tmp \"$R/tmp\" && mkdir -p \"$R$REPO\" && "
    "mount --bind \"$REPO\" \"$R$REPO\" && mount -t proc proc \"$R/proc\" && "
    "exec chroot \"$R\" \"$@\"";

bool IsExecutable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

bool IsSupportedMinor(int minor) {
  for (const python::SupportedVersion& version : python::kSupportedVersions) {
    if (version.major == 3 && version.minor == minor) return true;
  }
  return false;
}

std::string Trimmed(const std::string& text) { return std::string(absl::StripAsciiWhitespace(text)); }

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir, "/", name);
    if (!dir.empty() && IsExecutable(candidate)) return candidate;
  }
  return "";
}

std::string PyenvRoot() {
  if (const char* root = std::getenv("PYENV_ROOT"); root != nullptr && *root) return root;
  int code = 0;
  std::string out = Trimmed(RunCommand("pyenv root 2>/dev/null", &code));
  if (code == 0 && !out.empty()) return out;
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : "/root", "/.pyenv");
}

std::string SidRoot() {
  const char* root = std::getenv("PYHANG_SID_ROOT");
  return root != nullptr && *root ? root : kDefaultSidRoot;
}

// Chroots and new namespaces need root and util-linux's unshare.
bool CanUseNamespaces() { return geteuid() == 0 && !FindInPath("unshare").empty(); }

// pyenv's CPython 3.X.Y builds of supported versions, oldest first
// (3.13.0t, dev builds and other implementations are left out).
std::vector<Interpreter> PyenvPythons() {
  std::vector<std::tuple<int, int, std::string>> versions;  // minor, micro, name
  const std::regex version_name(R"(3\.(\d+)\.(\d+))");
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(PyenvRoot() + "/versions", error)) {
    std::string name = entry.path().filename().string();
    std::smatch match;
    if (!std::regex_match(name, match, version_name)) continue;
    int minor = std::stoi(match[1]);
    if (IsSupportedMinor(minor)) versions.emplace_back(minor, std::stoi(match[2]), name);
  }
  std::sort(versions.begin(), versions.end());
  std::vector<Interpreter> found;
  for (const auto& [minor, micro, name] : versions) {
    std::string path = absl::StrCat(PyenvRoot(), "/versions/", name, "/bin/python3.", minor);
    if (IsExecutable(path)) found.push_back({absl::StrCat("pyenv-", name), path, "", false, minor, {}});
  }
  return found;
}

std::vector<Interpreter> SystemPython() {
  if (!IsExecutable(kSystemPython)) return {};
  int code = 0;
  std::string out = RunCommand(absl::StrCat(kSystemPython, " -c 'import sys; print(sys.version_info[1])'"), &code);
  int minor = 0;
  if (code != 0 || !absl::SimpleAtoi(Trimmed(out), &minor) || !IsSupportedMinor(minor)) return {};
  return {{"system-python3", kSystemPython, "", false, minor, {}}};
}

std::vector<std::string> ChrootLauncher(const std::string& root, bool pidns) {
  std::vector<std::string> argv = {FindInPath("unshare")};
  if (pidns) argv.insert(argv.end(), {"--pid", "--fork", "--kill-child"});
  argv.insert(argv.end(), {"--mount", "--propagation", "private", "sh", "-c", kChrootScript, "sh",
                           root, PYHANG_SOURCE_DIR});
  return argv;
}

// The sid root's /usr/bin/python3.X of each supported 3.X it has.
std::vector<Interpreter> SidPythons() {
  std::vector<Interpreter> found;
  std::string root = SidRoot();
  for (const python::SupportedVersion& version : python::kSupportedVersions) {
    std::string path = absl::StrCat("/usr/bin/python3.", version.minor);
    if (!IsExecutable(root + path)) continue;
    found.push_back({absl::StrCat("sid-3.", version.minor), path, root, false, version.minor,
                     ChrootLauncher(root, false)});
  }
  return found;
}

Interpreter PidNamespaceTwin(const Interpreter& base) {
  Interpreter twin = base;
  twin.label += "-pidns";
  twin.pidns = true;
  // --kill-child: killing unshare (what a test does at the end) takes the
  // namespace with it; --fork: the Python is pid 1 there, as in a container.
  twin.launcher = base.root.empty()
                      ? std::vector<std::string>{FindInPath("unshare"), "--pid", "--fork",
                                                 "--kill-child", "--mount-proc"}
                      : ChrootLauncher(base.root, true);
  return twin;
}

std::string ShellQuote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::vector<std::string> RequiredPythons() {
  const char* value = std::getenv("PYHANG_REQUIRE_PYTHONS");
  std::vector<std::string> wanted;
  for (absl::string_view word : absl::StrSplit(value ? value : "", ',')) {
    if (!absl::StripAsciiWhitespace(word).empty()) wanted.emplace_back(absl::StripAsciiWhitespace(word));
  }
  return wanted;
}

// Why the interpreter PYHANG_REQUIRE_PYTHONS calls `wanted` is not usable
// among `found`, or "" if it is.
std::string WhyMissing(const std::string& wanted, const std::vector<Interpreter>& found) {
  int major = 0, minor = 0;
  std::vector<std::string> parts = absl::StrSplit(wanted, '.');
  bool is_version = parts.size() == 2 && absl::SimpleAtoi(parts[0], &major) &&
                    absl::SimpleAtoi(parts[1], &minor);
  if (!is_version && wanted != "system" && wanted != "pidns") {
    return absl::StrCat("unknown entry \"", wanted, "\"");
  }
  // 2.7, 3.6, ...: the tests of pyhang's refusal need those, not these families.
  if (is_version && (major != 3 || !IsSupportedMinor(minor))) return "";
  std::vector<const Interpreter*> matching;
  for (const Interpreter& interpreter : found) {
    bool match = wanted == "system"  ? interpreter.path == kSystemPython && interpreter.root.empty() &&
                                          !interpreter.pidns
                 : wanted == "pidns" ? interpreter.pidns
                                     : interpreter.minor == minor && !interpreter.pidns;
    if (match) matching.push_back(&interpreter);
  }
  if (matching.empty()) {
    if (wanted == "pidns") return "no pid-namespace variant (they need root and unshare)";
    if (wanted == "system") return absl::StrCat(kSystemPython, " is missing or unsupported");
    return absl::StrCat("not under pyenv (", PyenvRoot(), ") nor in the sid root ", SidRoot(),
                        CanUseNamespaces() ? "" : " (which needs root and unshare)",
                        "; tools/sid-root.sh builds it");
  }
  for (const Interpreter* interpreter : matching) {
    if (Probe(*interpreter).ok()) return "";
  }
  return absl::StrCat(matching.front()->label, " does not start: ", Probe(*matching.front()).message());
}

struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const FileId&) const = default;
};

std::optional<FileId> FileIdentity(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/task/", pid, "/children"));
  std::vector<pid_t> children;
  for (pid_t child; file >> child;) children.push_back(child);
  return children;
}

bool Exited(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  size_t end = line.rfind(')');
  return line.empty() || (end != std::string::npos && end + 2 < line.size() && line[end + 2] == 'Z');
}

// The NSpid: ids of a task (the host's first, its innermost namespace's last).
absl::StatusOr<std::vector<int64_t>> NsPids(const std::string& status_path) {
  std::ifstream file(status_path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", status_path));
  for (std::string line; std::getline(file, line);) {
    if (!absl::StartsWith(line, "NSpid:")) continue;
    std::vector<int64_t> ids;
    for (absl::string_view word : absl::StrSplit(line.substr(6), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      int64_t id = 0;
      if (!absl::SimpleAtoi(word, &id)) return absl::InternalError(absl::StrCat("bad line ", line));
      ids.push_back(id);
    }
    if (!ids.empty()) return ids;
  }
  return absl::NotFoundError(absl::StrCat("no NSpid: line in ", status_path));
}

}  // namespace

std::string Interpreter::HostPath() const { return root + path; }

std::vector<std::string> Interpreter::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = launcher;
  argv.push_back(path);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string Interpreter::ShellCommand(const std::vector<std::string>& args) const {
  std::vector<std::string> words;
  for (const std::string& word : Argv(args)) words.push_back(ShellQuote(word));
  return absl::StrJoin(words, " ");
}

std::string Interpreter::TestName() const {
  std::string name = label;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

void PrintTo(const Interpreter& interpreter, std::ostream* out) { *out << interpreter.label; }

std::vector<Interpreter> FindInterpreters() {
  std::vector<Interpreter> found = PyenvPythons();
  for (Interpreter& system : SystemPython()) found.push_back(std::move(system));
  if (CanUseNamespaces()) {
    for (Interpreter& sid : SidPythons()) found.push_back(std::move(sid));
  }
  return found;
}

std::vector<Interpreter> WithPidNamespaceTwins(const std::vector<Interpreter>& interpreters) {
  std::vector<Interpreter> all = interpreters;
  if (!CanUseNamespaces()) return all;
  const Interpreter* newest_pyenv = nullptr;
  for (const Interpreter& interpreter : interpreters) {
    if (absl::StartsWith(interpreter.label, "pyenv-")) newest_pyenv = &interpreter;
  }
  for (const Interpreter& interpreter : interpreters) {
    bool twin = &interpreter == newest_pyenv || interpreter.path == kSystemPython ||
                !interpreter.root.empty();
    if (twin && !interpreter.pidns) all.push_back(PidNamespaceTwin(interpreter));
  }
  return all;
}

absl::Status Probe(const Interpreter& interpreter) {
  int code = 0;
  std::string command =
      interpreter.ShellCommand({"-c", "import sys; print('%d.%d' % sys.version_info[:2])"});
  std::string out = Trimmed(RunCommand(command + " 2>&1 </dev/null", &code));
  std::string want = absl::StrCat("3.", interpreter.minor);
  if (code != 0 || out != want) {
    return absl::FailedPreconditionError(absl::StrCat("`", command, "` exited ", code, " saying \"",
                                                      out.substr(0, 500), "\", expected ", want));
  }
  return absl::OkStatus();
}

bool PythonsRequired() { return !RequiredPythons().empty(); }

absl::Status CheckRequiredPythons(const std::vector<Interpreter>& found, Variants variants) {
  std::vector<std::string> missing;
  for (const std::string& wanted : RequiredPythons()) {
    if (wanted == "pidns" && variants == Variants::kPlain) continue;
    std::string why = WhyMissing(wanted, found);
    if (!why.empty()) missing.push_back(absl::StrCat(wanted, ": ", why));
  }
  if (missing.empty()) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("PYHANG_REQUIRE_PYTHONS: missing ", absl::StrJoin(missing, "; ")));
}

absl::StatusOr<pid_t> FindPythonPid(const Interpreter& interpreter, pid_t launched,
                                    absl::Duration timeout) {
  std::optional<FileId> want = FileIdentity(interpreter.HostPath());
  if (!want) return absl::NotFoundError(absl::StrCat(interpreter.HostPath(), " does not exist"));
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    std::vector<pid_t> candidates = interpreter.pidns ? ChildrenOf(launched) : std::vector<pid_t>{launched};
    for (pid_t pid : candidates) {
      if (FileIdentity(absl::StrCat("/proc/", pid, "/exe")) == want) return pid;
    }
    if (Exited(launched)) {
      return absl::FailedPreconditionError(
          absl::StrCat("process ", launched, " exited before it ran ", interpreter.HostPath()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no process running ", interpreter.HostPath(),
                                                      " from launched pid ", launched, " after ",
                                                      absl::FormatDuration(timeout)));
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

absl::StatusOr<std::map<int64_t, int64_t>> HostTidsByNamespaceTid(pid_t pid) {
  std::map<int64_t, int64_t> ids;
  std::error_code error;
  std::string task = absl::StrCat("/proc/", pid, "/task");
  for (const fs::directory_entry& entry : fs::directory_iterator(task, error)) {
    absl::StatusOr<std::vector<int64_t>> both = NsPids(entry.path().string() + "/status");
    if (both.ok()) ids[both->back()] = both->front();  // a thread that exited meanwhile is skipped
  }
  if (error || ids.empty()) return absl::NotFoundError(absl::StrCat("no threads in ", task));
  return ids;
}

absl::StatusOr<int64_t> NamespacePid(pid_t pid) {
  absl::StatusOr<std::vector<int64_t>> both = NsPids(absl::StrCat("/proc/", pid, "/status"));
  if (!both.ok()) return both.status();
  return both->back();
}

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return output;
  }
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

}  // namespace pyhang::testing
