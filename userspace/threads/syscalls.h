// The x86_64 system calls pyhang reasons about when classifying a blocked
// thread (arch/x86/entry/syscalls/syscall_64.tbl).
#ifndef PYHANG_USERSPACE_THREADS_SYSCALLS_H_
#define PYHANG_USERSPACE_THREADS_SYSCALLS_H_

#include "absl/strings/string_view.h"
#include <cstdint>

namespace pyhang::threads {

enum Syscall : int64_t {
  kRead = 0,
  kWrite = 1,
  kPoll = 7,
  kPread64 = 17,
  kPwrite64 = 18,
  kReadv = 19,
  kWritev = 20,
  kSelect = 23,
  kPause = 34,
  kNanosleep = 35,
  kConnect = 42,
  kAccept = 43,
  kSendto = 44,
  kRecvfrom = 45,
  kSendmsg = 46,
  kRecvmsg = 47,
  kWait4 = 61,
  kFlock = 73,
  kFsync = 74,
  kFdatasync = 75,
  kRtSigtimedwait = 128,
  kRtSigsuspend = 130,
  kFutex = 202,
  kEpollWait = 232,
  kClockNanosleep = 230,
  kWaitid = 247,
  kPselect6 = 270,
  kPpoll = 271,
  kEpollPwait = 281,
  kAccept4 = 288,
  kRecvmmsg = 299,
  kSendmmsg = 307,
  kEpollPwait2 = 441,
  kFutexWaitv = 449,
};

// Name of a syscall in the list above, or "" if it is not listed.
absl::string_view KnownSyscallName(int64_t number);

}  // namespace pyhang::threads

#endif  // PYHANG_USERSPACE_THREADS_SYSCALLS_H_
