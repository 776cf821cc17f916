// One look at a live Python process for `pyhang dump`: every Python
// thread's stack, its state (from the kernel, refined by the analysis:
// idle, deadlock), the lock it waits for and who holds it, and any
// deadlock cycle among the threads.
#ifndef PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
#define PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/analysis/finding.h"
#include "userspace/analysis/observation.h"
#include "userspace/python/objects.h"
#include "userspace/python/python_version.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::snapshot {

struct ThreadSnapshot {
  analysis::ThreadObservation thread;
  threads::ThreadState state = threads::ThreadState::kUnknown;  // refined
};

struct ProcessSnapshot {
  pid_t pid = 0;
  pid_t ns_pid = 0;  // in the target's own pid namespace
  std::string comm;
  std::string command_line;
  std::string executable;
  std::string python_binary;  // the file holding the runtime
  python::PythonVersion version;
  std::vector<ThreadSnapshot> threads;
  size_t native_only_threads = 0;  // OS threads with no Python thread state
  std::vector<analysis::Finding> deadlocks;
  std::vector<std::string> warnings;
};

struct SnapshotOptions {
  size_t max_depth = 4096;
  bool locals = false;
  python::ReprLimits repr;
};

// Attaches (reading only) and takes the snapshot. Errors carry a message
// for the user (see python::AttachToPython); a target that exits midway
// gives kUnavailable.
absl::StatusOr<ProcessSnapshot> TakeSnapshot(pid_t pid, const SnapshotOptions& options);

}  // namespace pyhang::snapshot

#endif  // PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
