#include "absl/strings/string_view.h"
#include "userspace/threads/thread_state.h"

#include "absl/strings/str_format.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::threads {
namespace {

StateVerdict Verdict(ThreadState state, std::string detail, uint64_t wait_address = 0) {
  return StateVerdict{state, std::move(detail), wait_address};
}

StateVerdict ClassifySyscall(const KernelThread& thread, const GilRange& gil) {
  const int64_t nr = thread.syscall;
  const std::string name = SyscallName(nr);
  switch (nr) {
    case kFutex:
    case kFutexWaitv: {
      uint64_t address = thread.args[0];
      if (gil.Contains(address)) {
        return Verdict(ThreadState::kGilWait, absl::StrFormat("futex wait on the GIL at 0x%x", address),
                       address);
      }
      return Verdict(ThreadState::kLockWait, absl::StrFormat("futex wait on 0x%x", address), address);
    }
    case kNanosleep:
    case kClockNanosleep:
    case kPause:
    case kRtSigsuspend:
    case kRtSigtimedwait:
      return Verdict(ThreadState::kSleep, name);
    case kSelect:
    case kPselect6:
      // time.sleep() on 3.8-3.10 is select(0, NULL, NULL, NULL, &timeout).
      if (thread.args[0] == 0) return Verdict(ThreadState::kSleep, name + " with no fds");
      return Verdict(ThreadState::kIoWait, name);
    case kPoll:
    case kPpoll:
      if (thread.args[1] == 0) return Verdict(ThreadState::kSleep, name + " with no fds");
      return Verdict(ThreadState::kIoWait, name);
    case kRead: case kWrite: case kPread64: case kPwrite64: case kReadv: case kWritev:
    case kConnect: case kAccept: case kAccept4: case kSendto: case kRecvfrom: case kSendmsg:
    case kRecvmsg: case kRecvmmsg: case kSendmmsg: case kEpollWait: case kEpollPwait:
    case kEpollPwait2: case kWait4: case kWaitid: case kFlock: case kFsync: case kFdatasync:
      return Verdict(ThreadState::kIoWait,
                     absl::StrFormat("%s on fd %d", name, static_cast<int64_t>(thread.args[0])));
    default:
      return Verdict(ThreadState::kUnknown, "blocked in " + name);
  }
}

}  // namespace

absl::string_view StateName(ThreadState state) {
  switch (state) {
    case ThreadState::kRunning: return "running";
    case ThreadState::kBusyLoop: return "busy_loop";
    case ThreadState::kNativeLoop: return "native_loop";
    case ThreadState::kLockWait: return "lock_wait";
    case ThreadState::kGilWait: return "gil_wait";
    case ThreadState::kIoWait: return "io_wait";
    case ThreadState::kSleep: return "sleep";
    case ThreadState::kDeadlock: return "deadlock";
    case ThreadState::kIdle: return "idle";
    case ThreadState::kUnknown: return "unknown";
  }
  return "unknown";
}

StateVerdict ClassifyKernelThread(const KernelThread& thread, const GilRange& gil) {
  if (thread.state == 'R') return Verdict(ThreadState::kRunning, "on CPU or runnable");
  if (thread.state == 'D') return Verdict(ThreadState::kIoWait, "uninterruptible wait (disk or device)");
  if (thread.state == 'Z' || thread.state == 'X') return Verdict(ThreadState::kUnknown, "exiting");
  switch (thread.syscall_status) {
    case SyscallStatus::kRunning:
      return Verdict(ThreadState::kRunning, "on CPU");
    case SyscallStatus::kInSyscall:
      return ClassifySyscall(thread, gil);
    case SyscallStatus::kNotInSyscall:
      return Verdict(ThreadState::kUnknown, "blocked outside a system call");
    case SyscallStatus::kUnknown:
      break;
  }
  return Verdict(ThreadState::kUnknown, thread.wchan.empty() ? "no syscall information" : thread.wchan);
}

}  // namespace pyhang::threads
