#include "absl/strings/string_view.h"
#include "userspace/threads/thread_state.h"

#include "absl/strings/str_format.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::threads {
namespace {

StateVerdict Verdict(ThreadState state, std::string detail, uint64_t wait_address = 0) {
  StateVerdict verdict;
  verdict.state = state;
  verdict.detail = std::move(detail);
  verdict.wait_address = wait_address;
  return verdict;
}

constexpr uint64_t kFutexWait = 0;         // FUTEX_WAIT
constexpr uint64_t kFutexWaitBitset = 9;   // FUTEX_WAIT_BITSET
constexpr uint64_t kFutexCommandMask = 0x7f;  // without PRIVATE (128) / CLOCK_REALTIME (256)

// futex(2) operations that block until woken (FUTEX_LOCK_PI and its kin
// block too: a PI mutex is a lock).
bool IsFutexWait(uint64_t op) {
  switch (op & kFutexCommandMask) {
    case 0:   // FUTEX_WAIT
    case 6:   // FUTEX_LOCK_PI
    case 9:   // FUTEX_WAIT_BITSET
    case 11:  // FUTEX_WAIT_REQUEUE_PI
    case 12:  // FUTEX_LOCK_PI2
      return true;
    default:
      return false;
  }
}

// Whether the blocking call has a deadline, from its arguments.
bool HasTimeout(const KernelThread& thread) {
  const auto& a = thread.args;
  switch (thread.syscall) {
    case kFutex: {
      uint64_t command = a[1] & kFutexCommandMask;
      return (command == kFutexWait || command == kFutexWaitBitset) && a[3] != 0;
    }
    case kPoll: return static_cast<int32_t>(a[2]) >= 0;
    case kEpollWait: case kEpollPwait: return static_cast<int32_t>(a[3]) >= 0;
    case kEpollPwait2: case kSelect: case kPselect6: return a[4] != 0;
    case kPpoll: return a[2] != 0;
    case kNanosleep: case kClockNanosleep: case kRtSigtimedwait: return true;
    default: return false;
  }
}

bool SingleFdCall(int64_t syscall) {
  switch (syscall) {
    case kRead: case kWrite: case kPread64: case kPwrite64: case kReadv: case kWritev:
    case kConnect: case kAccept: case kAccept4: case kSendto: case kRecvfrom: case kSendmsg:
    case kRecvmsg: case kRecvmmsg: case kSendmmsg: case kFlock: case kFsync: case kFdatasync:
      return true;
    default:
      return false;
  }
}

StateVerdict ClassifySyscall(const KernelThread& thread, const GilRange& gil) {
  const int64_t nr = thread.syscall;
  const std::string name = SyscallName(nr);
  switch (nr) {
    case kFutex:
      if (!IsFutexWait(thread.args[1])) {
        // Waking waiters (releasing a lock or the GIL) does not block.
        return Verdict(ThreadState::kRunning, "futex wake");
      }
      [[fallthrough]];
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
    case ThreadState::kRetryLoop: return "retry_loop";
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

StateVerdict ClassifyBlocked(const KernelThread& thread, const GilRange& gil) {
  StateVerdict verdict = ClassifySyscall(thread, gil);
  verdict.timed = HasTimeout(thread);
  if (SingleFdCall(thread.syscall)) verdict.fd = static_cast<int>(thread.args[0]);
  if (verdict.timed && verdict.state == ThreadState::kLockWait) verdict.detail += " (with timeout)";
  return verdict;
}

StateVerdict ClassifyKernelThread(const KernelThread& thread, const GilRange& gil) {
  if (thread.state == 'R') return Verdict(ThreadState::kRunning, "on CPU or runnable");
  if (thread.state == 'D') return Verdict(ThreadState::kIoWait, "uninterruptible wait (disk or device)");
  if (thread.state == 'Z' || thread.state == 'X') return Verdict(ThreadState::kUnknown, "exiting");
  switch (thread.syscall_status) {
    case SyscallStatus::kRunning:
      return Verdict(ThreadState::kRunning, "on CPU");
    case SyscallStatus::kInSyscall:
      return ClassifyBlocked(thread, gil);
    case SyscallStatus::kNotInSyscall:
      return Verdict(ThreadState::kUnknown, "blocked outside a system call");
    case SyscallStatus::kUnknown:
      break;
  }
  return Verdict(ThreadState::kUnknown, thread.wchan.empty() ? "no syscall information" : thread.wchan);
}

}  // namespace pyhang::threads
