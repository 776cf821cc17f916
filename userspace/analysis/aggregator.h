// Turns stack samples into a profile::Profile: interned frames and stacks,
// per thread, in cpu mode (on-CPU samples) or wall mode (on-CPU plus
// off-CPU time with the blocking state as the leaf, e.g. "[lock_wait]").
#ifndef PYHANG_USERSPACE_ANALYSIS_AGGREGATOR_H_
#define PYHANG_USERSPACE_ANALYSIS_AGGREGATOR_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "userspace/profile/profile.h"
#include "userspace/sampler/stack_sample.h"

namespace pyhang::analysis {

enum class ProfileMode { kCpu, kWall };

struct AggregatorOptions {
  ProfileMode mode = ProfileMode::kCpu;
  // Include time when threads wait idly (sleep, idle; in cpu mode: all
  // off-CPU time), like py-spy's --idle.
  bool idle = false;
  uint64_t sample_period_ns = 10'000'000;
};

class Aggregator {
 public:
  Aggregator(profile::Profile& profile, const AggregatorOptions& options);

  // Adds a sample; returns false if the options filter it out.
  bool Add(const sampler::StackSample& sample, const std::string& thread_name);
  // Call once all samples are in. With off-CPU time included, sample
  // counts become time in sampling periods: blocked intervals are measured,
  // not sampled, and a 200 us wait must not count as a whole period.
  void Finish();

  uint64_t added() const { return added_; }
  uint64_t filtered() const { return filtered_; }

 private:
  bool Wanted(const sampler::StackSample& sample) const;
  uint32_t FrameId(const python::PyFrame& frame);

  profile::Profile& profile_;
  AggregatorOptions options_;
  // PyFrame -> interned id, keyed by what identifies a frame in a profile.
  absl::flat_hash_map<std::tuple<std::string, std::string, int>, uint32_t> frame_ids_;
  uint64_t added_ = 0;
  uint64_t filtered_ = 0;
};

// True for states that are waiting for nothing in particular.
bool IsIdleState(threads::ThreadState state);

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_AGGREGATOR_H_
