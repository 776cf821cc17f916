// Reads a live process's memory without stopping it: process_vm_readv,
// falling back to pread() on /proc/PID/mem where the syscall is refused
// (seccomp, old kernels).
#ifndef PYHANG_USERSPACE_MEMORY_PROCESS_READER_H_
#define PYHANG_USERSPACE_MEMORY_PROCESS_READER_H_

#include <sys/types.h>

#include <memory>

#include "absl/status/statusor.h"
#include "userspace/common/unique_fd.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::memory {

class ProcessReader : public MemoryReader {
 public:
  // Fails with kNotFound (no such process) or kPermissionDenied (no ptrace
  // rights over it) before any read is attempted.
  static absl::StatusOr<std::unique_ptr<ProcessReader>> Create(pid_t pid);

  absl::Status Read(uint64_t address, absl::Span<std::byte> out) override;

  pid_t pid() const { return pid_; }

 private:
  ProcessReader(pid_t pid, UniqueFd mem_fd) : pid_(pid), mem_fd_(std::move(mem_fd)) {}

  absl::Status ReadWithSyscall(uint64_t address, absl::Span<std::byte> out);
  absl::Status ReadWithProcMem(uint64_t address, absl::Span<std::byte> out);
  // Turns a failed or short read into the right error kind.
  absl::Status ReadFailure(uint64_t address, size_t size, int error);

  pid_t pid_;
  UniqueFd mem_fd_;  // invalid when only process_vm_readv may read (no DAC access to /proc/PID/mem)
  bool use_proc_mem_ = false;
};

}  // namespace pyhang::memory

#endif  // PYHANG_USERSPACE_MEMORY_PROCESS_READER_H_
