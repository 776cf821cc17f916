// A live Python process attached for repeated looks: its memory (through a
// page cache), what AttachToPython found, and the decoder over it. The
// samplers and the monitor each hold one.
#ifndef PYHANG_USERSPACE_PYTHON_LIVE_TARGET_H_
#define PYHANG_USERSPACE_PYTHON_LIVE_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/memory/cached_reader.h"
#include "userspace/memory/process_reader.h"
#include "userspace/python/decoder.h"
#include "userspace/python/python_process.h"

namespace pyhang::python {

class LiveTarget {
 public:
  // Errors as AttachToPython's: each with a message for the user.
  static absl::StatusOr<std::unique_ptr<LiveTarget>> Attach(pid_t pid, size_t cache_pages = 4096);

  pid_t pid() const { return process_->pid; }
  const PythonProcess& process() const { return *process_; }
  Decoder& decoder() { return *decoder_; }
  memory::MemoryReader& reader() { return reader_; }

  // Starts a fresh look: drops cached memory, and cached code objects are
  // re-checked once (they may have been freed and their address reused).
  void Refresh();

  struct Threads {
    absl::flat_hash_set<int64_t> tasks;  // every OS thread
    std::vector<PyThread> python;        // Python threads: ids, tids, GIL; no frames
  };
  // kUnavailable once the process is gone.
  absl::StatusOr<Threads> ListThreads();

 private:
  explicit LiveTarget(std::unique_ptr<memory::ProcessReader> live, size_t cache_pages)
      : live_(std::move(live)), reader_(*live_, cache_pages) {}

  std::unique_ptr<memory::ProcessReader> live_;
  memory::CachedReader reader_;
  std::unique_ptr<PythonProcess> process_;
  std::unique_ptr<Decoder> decoder_;
};

// "process PID exited" as kUnavailable, the code every reader treats as
// "stop, the target is gone".
absl::Status ExitedError(pid_t pid);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_LIVE_TARGET_H_
