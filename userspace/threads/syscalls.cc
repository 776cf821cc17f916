#include "absl/strings/string_view.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::threads {

absl::string_view KnownSyscallName(int64_t number) {
  switch (number) {
    case kRead: return "read";
    case kWrite: return "write";
    case kPoll: return "poll";
    case kPread64: return "pread64";
    case kPwrite64: return "pwrite64";
    case kReadv: return "readv";
    case kWritev: return "writev";
    case kSelect: return "select";
    case kPause: return "pause";
    case kNanosleep: return "nanosleep";
    case kConnect: return "connect";
    case kAccept: return "accept";
    case kSendto: return "sendto";
    case kRecvfrom: return "recvfrom";
    case kSendmsg: return "sendmsg";
    case kRecvmsg: return "recvmsg";
    case kWait4: return "wait4";
    case kFlock: return "flock";
    case kFsync: return "fsync";
    case kFdatasync: return "fdatasync";
    case kRtSigtimedwait: return "rt_sigtimedwait";
    case kRtSigsuspend: return "rt_sigsuspend";
    case kFutex: return "futex";
    case kEpollWait: return "epoll_wait";
    case kClockNanosleep: return "clock_nanosleep";
    case kWaitid: return "waitid";
    case kPselect6: return "pselect6";
    case kPpoll: return "ppoll";
    case kEpollPwait: return "epoll_pwait";
    case kAccept4: return "accept4";
    case kRecvmmsg: return "recvmmsg";
    case kSendmmsg: return "sendmmsg";
    case kEpollPwait2: return "epoll_pwait2";
    case kFutexWaitv: return "futex_waitv";
    default: return "";
  }
}

}  // namespace pyhang::threads
