#include "tests/bpf/workload_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

extern char** environ;

namespace pyhang::testing {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<WorkloadProcess>> WorkloadProcess::Start(
    const std::vector<std::string>& argv) {
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) return Errno("pipe");
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    close(to_child[0]);
    close(to_child[1]);
    return Errno("pipe");
  }
  UniqueFd child_in(to_child[0]), parent_out(to_child[1]);
  UniqueFd parent_in(from_child[0]), child_out(from_child[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_in.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_out.get(), STDOUT_FILENO);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int error = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("spawning ", argv[0], ": ", std::strerror(error)));
  }
  return std::unique_ptr<WorkloadProcess>(
      new WorkloadProcess(pid, std::move(parent_out), std::move(parent_in)));
}

WorkloadProcess::~WorkloadProcess() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
}

absl::StatusOr<std::string> WorkloadProcess::ReadLine(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) return absl::DeadlineExceededError("workload printed no line in time");
    pollfd fd{stdout_.get(), POLLIN, 0};
    int ready = poll(&fd, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return Errno("poll");
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = read(stdout_.get(), chunk, sizeof(chunk));
    if (n < 0 && errno != EINTR) return Errno("read");
    if (n == 0) return absl::UnavailableError("workload closed its stdout");
    if (n > 0) buffered_.append(chunk, static_cast<size_t>(n));
  }
}

absl::Status WorkloadProcess::WriteLine(const std::string& line) {
  std::string data = line + "\n";
  if (write(stdin_.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return Errno("write");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> WorkloadProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return status;
    }
    if (done < 0) return Errno("waitpid");
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError("workload did not exit in time");
}

}  // namespace pyhang::testing
