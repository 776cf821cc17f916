// The sampler that needs no BPF: at each tick it reads which threads are on
// a CPU (/proc/PID/task/TID/stat) and walks their Python frames through the
// shared decoder, without ever stopping the target. The walk happens a few
// microseconds after the tick, so a busy thread may have moved on: stacks
// are approximate, which is why BPF is preferred when available.
#ifndef PYHANG_USERSPACE_SAMPLER_PROCFS_SAMPLER_H_
#define PYHANG_USERSPACE_SAMPLER_PROCFS_SAMPLER_H_

#include <sys/types.h>

#include <memory>
#include <random>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/common/clock.h"
#include "userspace/python/python_target.h"
#include "userspace/sampler/sample_source.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::sampler {

struct ProcfsSamplerOptions {
  int rate_hz = 100;
  bool off_cpu = false;  // also walk blocked threads (wall mode, --idle)
  size_t max_depth = 4096;
};

class ProcfsSampler : public SampleSource {
 public:
  static absl::StatusOr<std::unique_ptr<ProcfsSampler>> Create(pid_t pid,
                                                               const ProcfsSamplerOptions& options);

  absl::Status Run(absl::Duration duration, const SampleSink& sink) override;
  std::string ThreadName(int64_t tid) override;
  SourceStats stats() const override { return stats_; }
  std::string description() const override;

  const python::PythonProcess& process() const { return target_->process(); }

 private:
  ProcfsSampler(const ProcfsSamplerOptions& options, std::unique_ptr<python::PythonTarget> target)
      : options_(options), target_(std::move(target)) {}

  // One tick: every Python thread once. kUnavailable if the target is gone.
  absl::Status SampleRound(uint64_t now_ns, const SampleSink& sink);
  void RefreshNames(uint64_t now_ns);

  ProcfsSamplerOptions options_;
  std::unique_ptr<python::PythonTarget> target_;
  threads::GilRange gil_;
  absl::flat_hash_map<int64_t, std::string> names_by_tid_;
  absl::flat_hash_map<int64_t, uint64_t> thread_ids_by_tid_;
  uint64_t names_refreshed_ns_ = 0;
  uint64_t next_round_ns_ = 0;  // when the next round is due (0: not started)
  std::mt19937_64 random_{std::random_device{}()};
  SourceStats stats_;
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_PROCFS_SAMPLER_H_
