#include "userspace/memory/process_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"
#include "userspace/common/privileges.h"

namespace pyhang::memory {
namespace {

absl::Status NoPermission(pid_t pid) {
  std::string why = privileges::Has(privileges::kSysPtrace)
                        ? "the process holds privileges pyhang lacks, or a security policy "
                          "forbids ptrace access to it"
                        : "pyhang lacks CAP_SYS_PTRACE: run it as root, grant it CAP_SYS_PTRACE, or "
                          "run it as the same user with kernel.yama.ptrace_scope=0";
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

// Whether process_vm_readv may read `pid` (a ptrace access check, like
// /proc/PID/mem's open, which a mode of 0600 can refuse where this allows).
bool CanReadWithSyscall(pid_t pid) {
  // The kernel checks access before it touches memory: reading address 0
  // fails with EFAULT when access is allowed, EPERM when it is not. (Reading
  // a real mapping would let a target that starts with a PROT_NONE page pass
  // for one pyhang may not read.)
  std::byte byte;
  struct iovec local = {&byte, 1};
  struct iovec remote = {nullptr, 1};
  if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) == 1) return true;
  return errno != EPERM && errno != EACCES && errno != ESRCH && errno != ENOSYS;
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
    if (error != EACCES && error != EPERM) {
      return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(error)));
    }
    // /proc/PID/mem is its owner's file (mode 0600): a non-root pyhang with
    // CAP_SYS_PTRACE cannot open it, but process_vm_readv lets it read.
    if (!CanReadWithSyscall(pid)) return NoPermission(pid);
  }
  return std::unique_ptr<ProcessReader>(new ProcessReader(pid, std::move(fd)));
}

absl::Status ProcessReader::Read(uint64_t address, absl::Span<std::byte> out) {
  if (out.empty()) return absl::OkStatus();
  if (!use_proc_mem_) {
    absl::Status status = ReadWithSyscall(address, out);
    if (status.code() != absl::StatusCode::kUnimplemented) return status;
    if (!mem_fd_.valid()) return NoPermission(pid_);
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
