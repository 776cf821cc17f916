// One look at a Python process (live, or a core) for `pyhang dump`: every Python
// thread's stack, its state (from the kernel, refined by the analysis:
// idle, deadlock), the lock it waits for and who holds it, and any
// deadlock cycle among the threads.
#ifndef PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
#define PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/analysis/finding.h"
#include "userspace/analysis/observation.h"
#include "userspace/python/objects.h"
#include "userspace/python/python_target.h"
#include "userspace/python/python_version.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::snapshot {

struct ThreadSnapshot {
  analysis::ThreadObservation thread;
  threads::ThreadState state = threads::ThreadState::kUnknown;  // refined
};

// What a core file adds to a dump (the "core" object of the JSON).
struct CoreSummary {
  std::string file;                 // as given ("-": standard input)
  std::string compression;          // "none", "zstd", "lz4", "xz"
  int signal = 0;                   // the signal that ended the process; 0 for gcore
  std::optional<uint64_t> fault_address;
  int64_t crashing_tid = 0;         // 0 if no thread crashed (gcore)
  std::string crashed_in;           // "strlen (libc.so.6)": the crashing thread's innermost function
  bool truncated = false;           // the file is shorter than its segments
  size_t threads = 0;               // every thread in the core
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
  // OS threads past the Python thread list's cap: with or without Python
  // code, not read (native_only_threads is 0 then: it would be a guess).
  size_t threads_not_read = 0;
  std::vector<analysis::Finding> deadlocks;
  std::vector<std::string> warnings;
  // Where source lines are read from (output::SourceLines): the target's
  // root (/proc/PID/root for a live process, a core's --sysroot) and its
  // working directory inside that root, for relative co_filenames.
  std::string source_root;
  std::string source_cwd;
  std::optional<CoreSummary> core;
};

struct SnapshotOptions {
  size_t max_depth = 4096;
  bool locals = false;
  bool globals = false;
  python::ReprLimits repr;
};

// Attaches (reading only) and takes the snapshot. Errors carry a message
// for the user (see python::AttachToPython); a target that exits midway
// gives kUnavailable.
absl::StatusOr<ProcessSnapshot> TakeSnapshot(pid_t pid, const SnapshotOptions& options);
// The same over a target already attached (a live process or a core).
absl::StatusOr<ProcessSnapshot> TakeSnapshot(std::unique_ptr<python::PythonTarget> target,
                                             const SnapshotOptions& options);

}  // namespace pyhang::snapshot

#endif  // PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
