// The profile's samples as weighted stacks of frames, the common input of the
// collapsed and flamegraph writers, with the checks every writer relies on
// (a Profile is filled by the sampler; indices are validated once here, not
// trusted in each writer).
#ifndef PYHANG_USERSPACE_OUTPUT_PROFILE_STACKS_H_
#define PYHANG_USERSPACE_OUTPUT_PROFILE_STACKS_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "userspace/profile/profile.h"

namespace pyhang::output {

// What a stack's value counts.
enum class Weight {
  kSamples,  // number of samples
  kTime,     // nanoseconds (CPU or wall, per Profile::wall_mode)
};

// InvalidArgument if a sample names a stack or thread that does not exist, or
// a stack names a frame that does not exist.
absl::Status ValidateProfile(const profile::Profile& profile);

uint64_t SampleValue(const profile::SampleTotal& sample, Weight weight);

struct WeightedStack {
  std::vector<uint32_t> frames;  // root first; indices for ProfileStacks::frame()
  uint64_t value = 0;
  uint32_t thread = 0;  // index into Profile::threads()
};

class ProfileStacks {
 public:
  struct Options {
    // Start each stack with a `thread TID "name"` frame, unless the sampler
    // already put a thread frame there.
    bool thread_roots = false;
    Weight weight = Weight::kSamples;
  };

  static absl::StatusOr<ProfileStacks> Create(const profile::Profile& profile, const Options& options);

  // Frame `index`: the profile's frames, then one root frame per thread.
  const profile::Frame& frame(uint32_t index) const;
  uint32_t frame_count() const;
  // One per Profile::samples() entry, in the same order.
  const std::vector<WeightedStack>& stacks() const { return stacks_; }
  uint64_t total() const { return total_; }

 private:
  explicit ProfileStacks(const profile::Profile& profile) : profile_(&profile) {}

  const profile::Profile* profile_;
  std::vector<profile::Frame> thread_frames_;
  std::vector<WeightedStack> stacks_;
  uint64_t total_ = 0;
};

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_PROFILE_STACKS_H_
