// Native stacks of a running process's samples (record --native), one
// copied stack at a time: the registers and stack top BPF copied at the
// sample. The libdwfl session (modules, CFI, names, tail-call sites) lives
// as long as the process, so a sample costs an unwind, not a setup; it is
// built again when a sample runs code in a file mapped since (dlopen), at
// most once a second (code outside every file, the vDSO's or a JIT's, is
// not a reason).
#ifndef PYHANG_USERSPACE_NATIVE_SAMPLE_UNWINDER_H_
#define PYHANG_USERSPACE_NATIVE_SAMPLE_UNWINDER_H_

#include <sys/types.h>

#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "userspace/native/unwinder.h"
#include "userspace/target/live_process.h"
#include "userspace/target/stack_copies.h"

namespace pyhang::native {

class SampleUnwinder {
 public:
  // Errors as LiveProcess::Open's and Unwinder::Create's.
  static absl::StatusOr<std::unique_ptr<SampleUnwinder>> Create(pid_t pid, const UnwindOptions& options);

  // The sampled thread's native frames, innermost first (see
  // Unwinder::Unwind); reads outside the copy go to the live process.
  std::vector<python::PyFrame> Unwind(target::StackCopy copy);

  struct Stats {
    uint64_t unwinds = 0;
    uint64_t to_root = 0;    // reached the thread's first frame
    uint64_t rebuilds = 0;   // sessions built after the first
  };
  const Stats& stats() const { return stats_; }

 private:
  SampleUnwinder(std::unique_ptr<target::LiveProcess> live, const UnwindOptions& options);
  absl::Status Rebuild();
  // Whether `pc` lies in a file mapped after the session was built.
  bool InNewFile(uint64_t pc);

  std::unique_ptr<target::LiveProcess> live_;
  target::WithStackCopies copied_;
  UnwindOptions options_;
  std::unique_ptr<Unwinder> unwinder_;
  uint64_t checked_ns_ = 0;                      // last InNewFile look at the maps
  absl::flat_hash_set<std::string> known_files_;  // mapped when built
  Stats stats_;
};

}  // namespace pyhang::native

#endif  // PYHANG_USERSPACE_NATIVE_SAMPLE_UNWINDER_H_
