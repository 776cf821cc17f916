#include "userspace/memory/process_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"

namespace pyhang::memory {
namespace {

absl::Status NoPermission(pid_t pid) {
  std::string why = ::geteuid() == 0
                        ? "the process holds privileges pyhang lacks, or a security policy "
                          "forbids ptrace access to it"
                        : "run pyhang as root, with CAP_SYS_PTRACE, or as the same user with "
                          "kernel.yama.ptrace_scope=0";
  return absl::PermissionDeniedError(
      absl::StrCat("no permission to read the memory of process ", pid, " (", why, ")"));
}

std::string Comm(pid_t pid) {
  absl::StatusOr<std::string> comm = ReadFileToString(absl::StrCat("/proc/", pid, "/comm"), 256);
  if (!comm.ok()) return "?";
  return std::string(absl::StripAsciiWhitespace(*comm));
}

bool ProcessExists(pid_t pid) {
  struct stat st;
  return ::stat(absl::StrCat("/proc/", pid).c_str(), &st) == 0;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProcessReader>> ProcessReader::Create(pid_t pid) {
  if (pid <= 0 || !ProcessExists(pid)) {
    return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
  }
  std::string path = absl::StrCat("/proc/", pid, "/mem");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    int error = errno;
    if (error == ENOENT || error == ESRCH) {
      if (!ProcessExists(pid)) return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
      // The pid exists but has no memory: a kernel thread (or a zombie).
      return absl::FailedPreconditionError(
          absl::StrCat("process ", pid, " (", Comm(pid), ") has no user memory: not a Python process"));
    }
    if (error == EACCES || error == EPERM) return NoPermission(pid);
    return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(error)));
  }
  return std::unique_ptr<ProcessReader>(new ProcessReader(pid, std::move(fd)));
}

absl::Status ProcessReader::Read(uint64_t address, absl::Span<std::byte> out) {
  if (out.empty()) return absl::OkStatus();
  if (!use_proc_mem_) {
    absl::Status status = ReadWithSyscall(address, out);
    if (status.code() != absl::StatusCode::kUnimplemented) return status;
    use_proc_mem_ = true;  // the syscall is not available here: stop trying
  }
  return ReadWithProcMem(address, out);
}

absl::Status ProcessReader::ReadWithSyscall(uint64_t address, absl::Span<std::byte> out) {
  struct iovec local = {out.data(), out.size()};
  struct iovec remote = {reinterpret_cast<void*>(address), out.size()};
  ssize_t n = ::process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(out.size())) return absl::OkStatus();
  if (n < 0 && errno == ENOSYS) return absl::UnimplementedError("process_vm_readv");
  return ReadFailure(address, out.size(), n < 0 ? errno : EFAULT);
}

absl::Status ProcessReader::ReadWithProcMem(uint64_t address, absl::Span<std::byte> out) {
  ssize_t n = ::pread(mem_fd_.get(), out.data(), out.size(), static_cast<off_t>(address));
  if (n == static_cast<ssize_t>(out.size())) return absl::OkStatus();
  // /proc/PID/mem reads 0 bytes once the process has exited.
  return ReadFailure(address, out.size(), n < 0 ? errno : (n == 0 ? ESRCH : EFAULT));
}

absl::Status ProcessReader::ReadFailure(uint64_t address, size_t size, int error) {
  if (error == ESRCH || !ProcessExists(pid_)) {
    return TargetGoneError(absl::StrCat("process ", pid_, " exited"));
  }
  if (error == EPERM || error == EACCES) return NoPermission(pid_);
  return UnreadableError(address, size);
}

}  // namespace pyhang::memory
