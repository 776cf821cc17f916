#include "userspace/target/live_process.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"
#include "userspace/common/status_macros.h"
#include "userspace/process/fd_info.h"
#include "userspace/process/tasks.h"

namespace pyhang::target {
namespace {

constexpr size_t kStatusBytes = 8192;

std::string ProcText(pid_t pid, absl::string_view file) {
  absl::StatusOr<std::string> text =
      ReadFileToString(absl::StrCat("/proc/", pid, "/", file), 1 << 16);
  if (!text.ok()) return "";
  std::string result = absl::StrReplaceAll(*text, {{absl::string_view("\0", 1), " "}});
  return std::string(absl::StripAsciiWhitespace(result));
}

std::optional<int64_t> NamespaceIdFromStatus(const std::string& path) {
  absl::StatusOr<std::string> status = ReadFileToString(path, kStatusBytes);
  if (!status.ok()) return std::nullopt;
  return InnermostNamespaceId(*status);
}

absl::Status GoneError(pid_t pid) {
  return memory::TargetGoneError(absl::StrCat("process ", pid, " exited"));
}

// /proc shows paths relative to the reader's root. A target chrooted (a
// container) into `root` sees "/usr/bin/python3.15" where pyhang sees
// "<root>/usr/bin/python3.15": give back the target's view.
std::string AsTargetSees(const std::string& root, const std::string& path) {
  if (root.empty() || root == "/" || !absl::StartsWith(path, root)) return path;
  if (path.size() == root.size()) return "/";
  if (path[root.size()] != '/') return path;
  return path.substr(root.size());
}

// The target's working directory inside its root; empty where it lies
// outside that root (a chroot's process may have a cwd outside) or is gone.
std::string WorkingDirectory(pid_t pid, const std::string& root) {
  absl::StatusOr<std::string> cwd = ReadLink(absl::StrCat("/proc/", pid, "/cwd"));
  if (!cwd.ok() || cwd->empty() || (*cwd)[0] != '/' || absl::EndsWith(*cwd, " (deleted)")) return "";
  std::string seen = AsTargetSees(root, *cwd);
  if (root != "/" && seen == *cwd && *cwd != root) return "";
  return seen;
}

}  // namespace

std::optional<int64_t> InnermostNamespaceId(absl::string_view status_text) {
  for (absl::string_view line : absl::StrSplit(status_text, '\n')) {
    if (!absl::ConsumePrefix(&line, "NSpid:")) continue;
    std::vector<absl::string_view> ids =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    int64_t id = 0;
    if (ids.empty() || !absl::SimpleAtoi(ids.back(), &id)) return std::nullopt;
    return id;
  }
  return std::nullopt;
}

absl::StatusOr<std::unique_ptr<LiveProcess>> LiveProcess::Open(pid_t pid) {
  ASSIGN_OR_RETURN(std::unique_ptr<memory::ProcessReader> memory,
                   memory::ProcessReader::Create(pid));
  ProcessInfo info;
  info.pid = pid;
  info.ns_pid = static_cast<pid_t>(
      NamespaceIdFromStatus(absl::StrCat("/proc/", pid, "/status")).value_or(pid));
  info.comm = ProcText(pid, "comm");
  info.command_line = ProcText(pid, "cmdline");
  std::string root = ReadLink(absl::StrCat("/proc/", pid, "/root")).value_or("/");
  info.executable = ReadLink(absl::StrCat("/proc/", pid, "/exe")).value_or("");
  if (absl::EndsWith(info.executable, " (deleted)")) {
    info.executable.resize(info.executable.size() - std::string(" (deleted)").size());
  }
  info.executable = AsTargetSees(root, info.executable);
  info.working_directory = WorkingDirectory(pid, root);
  auto process = std::unique_ptr<LiveProcess>(new LiveProcess(std::move(info), std::move(memory)));
  process->root_ = std::move(root);
  return process;
}

absl::StatusOr<std::vector<process::MemoryMap>> LiveProcess::Maps() {
  absl::StatusOr<std::vector<process::MemoryMap>> maps = process::ReadMaps(pid());
  if (!maps.ok() && maps.status().code() == absl::StatusCode::kNotFound) return GoneError(pid());
  if (!maps.ok()) return maps.status();
  for (process::MemoryMap& map : *maps) {
    if (map.IsFile()) map.path = AsTargetSees(root_, map.path);
  }
  return maps;
}

absl::StatusOr<process::MappedFile> LiveProcess::OpenMappedFile(
    const std::vector<process::MemoryMap>& maps, const process::MemoryMap& map) {
  return process::OpenMappedFile(pid(), maps, map);
}

int64_t LiveProcess::NamespaceTid(int64_t tid) {
  if (auto it = ns_tids_.find(tid); it != ns_tids_.end()) return it->second;
  std::optional<int64_t> ns_tid =
      NamespaceIdFromStatus(absl::StrCat("/proc/", pid(), "/task/", tid, "/status"));
  if (!ns_tid) return 0;  // exiting: not remembered, asked again next time
  ns_tids_[tid] = *ns_tid;
  return *ns_tid;
}

absl::StatusOr<std::vector<ThreadIds>> LiveProcess::Threads() {
  absl::StatusOr<std::vector<int64_t>> tasks = process::ListTasks(pid());
  if (!tasks.ok()) return GoneError(pid());
  std::vector<ThreadIds> threads;
  threads.reserve(tasks->size());
  if (!in_pid_namespace()) {
    for (int64_t tid : *tasks) threads.push_back(ThreadIds{tid, tid});
    return threads;
  }
  // Forget threads that ended, so a reused tid is looked up again and the
  // map stays as small as the process.
  absl::flat_hash_map<int64_t, int64_t> alive;
  for (int64_t tid : *tasks) {
    int64_t ns_tid = NamespaceTid(tid);
    if (ns_tid == 0) continue;
    alive[tid] = ns_tid;
    threads.push_back(ThreadIds{tid, ns_tid});
  }
  ns_tids_ = std::move(alive);
  return threads;
}

bool LiveProcess::Gone() { return process::ProcessGone(pid()); }

absl::StatusOr<std::string> LiveProcess::ReadFile(absl::string_view path, size_t max_bytes) {
  if (path.empty()) return absl::InvalidArgumentError("empty path");
  // Inside the target's root, from its working directory, so a container's
  // files are the container's (and none of its symlinks leads out).
  std::string in_root(path);
  if (in_root[0] != '/') {
    if (info_.working_directory.empty()) return absl::NotFoundError("the target's working directory is unknown");
    in_root = absl::StrCat(info_.working_directory, "/", path);
  }
  return ReadRegularFileInRoot(absl::StrCat("/proc/", pid(), "/root"), in_root, max_bytes);
}

absl::StatusOr<threads::KernelThread> LiveProcess::KernelThread(
    int64_t tid, const threads::KernelReadOptions& options) {
  return threads::ReadKernelThread(info_.pid, tid, options);
}

std::string LiveProcess::DescribeFd(int fd) { return process::DescribeFd(info_.pid, fd); }

}  // namespace pyhang::target
