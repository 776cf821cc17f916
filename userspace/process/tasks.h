// The OS threads of a process, from /proc/PID/task.
#ifndef PYHANG_USERSPACE_PROCESS_TASKS_H_
#define PYHANG_USERSPACE_PROCESS_TASKS_H_

#include <sys/types.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace pyhang::process {

// Sorted thread ids. kNotFound if the process does not exist.
absl::StatusOr<std::vector<int64_t>> ListTasks(pid_t pid);

// True once /proc/PID is gone (the process exited and was reaped).
bool ProcessGone(pid_t pid);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_TASKS_H_
