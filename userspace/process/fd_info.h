// What a file descriptor of a process is, for people: "TCP 127.0.0.1:40000
// -> 127.0.0.1:8080 (ESTABLISHED)", "pipe", "/var/log/app.log".
#ifndef PYHANG_USERSPACE_PROCESS_FD_INFO_H_
#define PYHANG_USERSPACE_PROCESS_FD_INFO_H_

#include <sys/types.h>

#include <string>

#include "absl/strings/string_view.h"

namespace pyhang::process {

// "" if the descriptor cannot be inspected (closed, no permission).
std::string DescribeFd(pid_t pid, int fd);

// For tests: the description of socket `inode` found in the text of
// /proc/PID/net/{tcp,tcp6,udp,udp6} ("TCP" or "UDP" given by `protocol`).
std::string DescribeInetSocket(absl::string_view table, absl::string_view protocol, uint64_t inode);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_FD_INFO_H_
