// The thread-state vocabulary of ARCHITECTURE.md and the classifier that
// needs no BPF: the kernel's view of a thread (run state, the system call
// it is blocked in and its arguments) plus where the GIL lives.
#ifndef PYHANG_USERSPACE_THREADS_THREAD_STATE_H_
#define PYHANG_USERSPACE_THREADS_THREAD_STATE_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <string>

#include "userspace/threads/kernel_thread.h"

namespace pyhang::threads {

enum class ThreadState {
  kRunning,
  kBusyLoop,
  kNativeLoop,
  kRetryLoop,
  kLockWait,
  kGilWait,
  kIoWait,
  kSleep,
  kDeadlock,
  kIdle,
  kUnknown,
};

// "running", "lock_wait", ... exactly as in the JSON contract.
absl::string_view StateName(ThreadState state);

// Address range of the target's GIL struct; a futex wait inside it is a
// wait for the GIL.
struct GilRange {
  uint64_t address = 0;
  uint64_t size = 0;
  bool Contains(uint64_t value) const {
    return address != 0 && value >= address && value < address + size;
  }
};

struct StateVerdict {
  ThreadState state = ThreadState::kUnknown;
  std::string detail;       // e.g. "futex wait on 0x7f..", "clock_nanosleep"
  uint64_t wait_address = 0;  // futex address for lock and GIL waits
  // The wait has a deadline (a timed futex, poll/select with a timeout,
  // a sleep): the thread will wake up by itself.
  bool timed = false;
  int fd = -1;  // the file descriptor of an io_wait on one fd
};

StateVerdict ClassifyKernelThread(const KernelThread& thread, const GilRange& gil);

}  // namespace pyhang::threads

#endif  // PYHANG_USERSPACE_THREADS_THREAD_STATE_H_
