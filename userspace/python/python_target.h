// A Target known to run Python, attached for repeated looks: the Target,
// its memory through a page cache, what AttachToPython found, and the
// decoder over it. The samplers, the monitor and snapshots each hold one.
#ifndef PYHANG_USERSPACE_PYTHON_PYTHON_TARGET_H_
#define PYHANG_USERSPACE_PYTHON_PYTHON_TARGET_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "userspace/memory/cached_reader.h"
#include "userspace/python/decoder.h"
#include "userspace/python/python_process.h"
#include "userspace/target/target.h"

namespace pyhang::python {

class PythonTarget {
 public:
  // Errors as AttachToPython's: each with a message for the user.
  static absl::StatusOr<std::unique_ptr<PythonTarget>> Attach(
      std::unique_ptr<target::Target> target, size_t cache_pages = 4096);
  // The live process `pid` (target::LiveProcess).
  static absl::StatusOr<std::unique_ptr<PythonTarget>> AttachLive(pid_t pid,
                                                                 size_t cache_pages = 4096);

  pid_t pid() const { return process_->pid; }
  const PythonProcess& process() const { return *process_; }
  target::Target& target() { return *target_; }
  Decoder& decoder() { return *decoder_; }
  memory::MemoryReader& reader() { return reader_; }

  // Starts a fresh look: drops cached memory, and cached code objects are
  // re-checked once (they may have been freed and their address reused).
  void Refresh();

  struct Threads {
    absl::flat_hash_set<int64_t> tasks;  // every OS thread, host tids
    // Python threads: ids, host and namespace tids, GIL; no frames.
    std::vector<PyThread> python;
    bool python_cut = false;  // more than ThreadList::kMaxThreads: the rest is not read
  };
  // kUnavailable once the process is gone.
  absl::StatusOr<Threads> ListThreads();

 private:
  PythonTarget(std::unique_ptr<target::Target> target, size_t cache_pages)
      : target_(std::move(target)), reader_(target_->memory(), cache_pages) {}

  std::unique_ptr<target::Target> target_;
  memory::CachedReader reader_;
  std::unique_ptr<PythonProcess> process_;
  std::unique_ptr<Decoder> decoder_;
};

// "process PID exited" as kUnavailable, the code every reader treats as
// "stop, the target is gone".
absl::Status ExitedError(pid_t pid);
// "process PID exec'd another program (COMM)", kUnavailable too: to a
// reader of its Python runtime, a process that exec'd has ended.
absl::Status ExecedError(pid_t pid);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_PYTHON_TARGET_H_
