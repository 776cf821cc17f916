#include "userspace/output/profile_stacks.h"

#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"
#include "userspace/output/frame_style.h"

namespace pyhang::output {
namespace {

using profile::FrameKind;
using profile::Profile;

absl::Status ValidateStacks(const Profile& profile) {
  const size_t frame_count = profile.frames().size();
  for (size_t s = 0; s < profile.stacks().size(); ++s) {
    for (uint32_t frame : profile.stacks()[s]) {
      if (frame >= frame_count) {
        return absl::InvalidArgumentError(absl::StrCat("profile stack ", s, " names frame ", frame,
                                                       " of only ", frame_count));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateProfile(const Profile& profile) {
  for (const profile::SampleTotal& sample : profile.samples()) {
    if (sample.stack >= profile.stacks().size() || sample.thread >= profile.threads().size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "profile sample names stack ", sample.stack, " of ", profile.stacks().size(), " and thread ",
          sample.thread, " of ", profile.threads().size()));
    }
  }
  return ValidateStacks(profile);
}

uint64_t SampleValue(const profile::SampleTotal& sample, Weight weight) {
  return weight == Weight::kTime ? sample.time_ns : sample.count;
}

absl::StatusOr<ProfileStacks> ProfileStacks::Create(const Profile& profile, const Options& options) {
  RETURN_IF_ERROR(ValidateProfile(profile));
  ProfileStacks result(profile);
  for (const profile::ThreadInfo& thread : profile.threads()) {
    result.thread_frames_.push_back(ThreadRootFrame(thread));
  }
  const auto first_thread_frame = static_cast<uint32_t>(profile.frames().size());
  for (const profile::SampleTotal& sample : profile.samples()) {
    const std::vector<uint32_t>& frames = profile.stacks()[sample.stack];
    WeightedStack stack{{}, SampleValue(sample, options.weight), sample.thread};
    const bool has_thread_root = !frames.empty() && profile.frames()[frames[0]].kind == FrameKind::kThread;
    if (options.thread_roots && !has_thread_root) stack.frames.push_back(first_thread_frame + sample.thread);
    stack.frames.insert(stack.frames.end(), frames.begin(), frames.end());
    result.total_ += stack.value;
    result.stacks_.push_back(std::move(stack));
  }
  return result;
}

const profile::Frame& ProfileStacks::frame(uint32_t index) const {
  const size_t own = profile_->frames().size();
  return index < own ? profile_->frames()[index] : thread_frames_[index - own];
}

uint32_t ProfileStacks::frame_count() const {
  return static_cast<uint32_t>(profile_->frames().size() + thread_frames_.size());
}

}  // namespace pyhang::output
