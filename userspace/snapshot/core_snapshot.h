// `pyhang dump --core`: the snapshot of a process as a core file keeps it,
// through the same decoder and analysis as a live dump.
#ifndef PYHANG_USERSPACE_SNAPSHOT_CORE_SNAPSHOT_H_
#define PYHANG_USERSPACE_SNAPSHOT_CORE_SNAPSHOT_H_

#include <string>

#include "absl/status/statusor.h"
#include "userspace/snapshot/snapshot.h"
#include "userspace/target/core_target.h"

namespace pyhang::snapshot {

struct CoreSnapshotOptions {
  SnapshotOptions snapshot;
  target::CoreOptions core;  // --sysroot, --exe
  bool native = false;       // --native: every thread's native frames, merged
  bool allow_truncated = false;  // dump what a truncated core holds
};

// Errors are one line for the user: the core cannot be read, is not a
// core, is not of a Python process, or its interpreter cannot be found.
absl::StatusOr<ProcessSnapshot> TakeCoreSnapshot(const std::string& path,
                                                 const CoreSnapshotOptions& options);

}  // namespace pyhang::snapshot

#endif  // PYHANG_USERSPACE_SNAPSHOT_CORE_SNAPSHOT_H_
