// One consistent-enough look at a live Python process: every Python
// thread's stack and what the kernel says each thread is doing. This is
// what `pyhang dump` prints and what later stages classify further.
#ifndef PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
#define PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/python/decoder.h"
#include "userspace/python/python_process.h"
#include "userspace/threads/kernel_thread.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::snapshot {

struct ThreadSnapshot {
  python::PyThread python;
  std::optional<threads::KernelThread> kernel;  // absent if the OS thread is gone
  threads::StateVerdict verdict;
};

struct ProcessSnapshot {
  pid_t pid = 0;
  std::string comm;
  std::string command_line;
  std::string executable;
  std::string python_binary;  // the file holding the runtime
  python::PythonVersion version;
  std::vector<ThreadSnapshot> threads;
  size_t native_only_threads = 0;  // OS threads with no Python thread state
  std::vector<std::string> warnings;
};

struct SnapshotOptions {
  python::DecodeOptions decode;
};

// Attaches (reading only) and takes the snapshot. Errors carry a message
// for the user (see python::AttachToPython); a target that exits midway
// gives kUnavailable.
absl::StatusOr<ProcessSnapshot> TakeSnapshot(pid_t pid, const SnapshotOptions& options);

// The GIL address range of the first interpreter (where its futex waits
// happen), for classification.
threads::GilRange GilRangeOf(python::Decoder& decoder);

}  // namespace pyhang::snapshot

#endif  // PYHANG_USERSPACE_SNAPSHOT_SNAPSHOT_H_
