// Watches a target by looking at it repeatedly: every look produces a
// ProcessObservation (each thread's kernel state, CPU use, Python stack,
// lock evidence) for the hang detector. Reads only; never stops the target.
#ifndef PYHANG_USERSPACE_ANALYSIS_MONITOR_H_
#define PYHANG_USERSPACE_ANALYSIS_MONITOR_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/analysis/lock_inspector.h"
#include "userspace/analysis/observation.h"
#include "userspace/python/decoder.h"
#include "userspace/python/python_target.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::analysis {

struct MonitorOptions {
  size_t max_depth = 1024;
  bool locks = true;   // find lock owners (costs a value-stack scan per thread)
  bool locals = false; // read every frame's locals (dump --locals)
  bool globals = false; // and the globals its code reads (dump --globals)
  // CPU time, how long blocked threads have been blocked, and progress
  // fingerprints: what watching over time needs, not one look (dump).
  bool timings = true;
  python::ReprLimits repr;
};

// The GIL's address range in the first interpreter (futex waits inside it
// are GIL waits); empty if it cannot be read.
threads::GilRange GilRangeOf(python::Decoder& decoder);

class Monitor {
 public:
  // Over an attached target: a live process, or a core (whose threads'
  // states are what their registers show).
  static absl::StatusOr<std::unique_ptr<Monitor>> Create(std::unique_ptr<python::PythonTarget> target,
                                                         const MonitorOptions& options);
  // Attaches to the live process `pid` first.
  static absl::StatusOr<std::unique_ptr<Monitor>> Create(pid_t pid, const MonitorOptions& options);

  // One look. kUnavailable once the process has exited.
  absl::StatusOr<ProcessObservation> Observe();

  const python::PythonProcess& process() const { return target_->process(); }
  python::Decoder& decoder() { return target_->decoder(); }
  pid_t pid() const { return target_->pid(); }

 private:
  Monitor(const MonitorOptions& options, std::unique_ptr<python::PythonTarget> target)
      : options_(options), target_(std::move(target)) {}

  // When a blocked thread last ran, as the kernel keeps it: the task clock
  // of the CPU it ran on.
  struct LastRan {
    uint64_t sched_ns = 0;
    int cpu = -1;
  };
  void ObserveThread(python::PyThread& py, ThreadObservation* out, std::optional<LastRan>* last_ran);
  // Turns each thread's LastRan into its blocked_since_ns.
  void SetBlockedSince(const std::vector<std::optional<LastRan>>& last_ran, ProcessObservation* observation);
  uint64_t ProgressFingerprint(const python::PyThread& py);
  void RefreshNames(const std::vector<python::PyThread>& threads);
  std::optional<IoTarget> DescribeIo(const threads::KernelThread& kernel, const threads::StateVerdict& verdict);

  MonitorOptions options_;
  std::unique_ptr<python::PythonTarget> target_;
  std::unique_ptr<LockInspector> locks_;
  threads::GilRange gil_;
  absl::flat_hash_map<int64_t, uint64_t> cpu_time_ns_;       // per tid, at the last look
  absl::flat_hash_map<uint64_t, std::string> names_;          // per pthread id
  uint64_t last_time_ns_ = 0;
  uint64_t names_time_ns_ = 0;
};

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_MONITOR_H_
