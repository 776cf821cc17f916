// speedscope's file format (https://www.speedscope.app/file-format-schema.json):
// shared frames and one "sampled" profile per thread, as py-spy writes it.
#ifndef PYHANG_USERSPACE_OUTPUT_SPEEDSCOPE_H_
#define PYHANG_USERSPACE_OUTPUT_SPEEDSCOPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "userspace/output/profile_stacks.h"
#include "userspace/profile/profile.h"

namespace pyhang::output {

struct SpeedscopeOptions {
  // kSamples: weights are sample counts, unit "none"; kTime: nanoseconds.
  Weight weight = Weight::kSamples;
};

// JSON text. Samples are the profile's aggregated stacks (one entry per
// distinct stack and thread, weighted), so speedscope's "time order" view
// shows them in first-seen order rather than as a timeline.
absl::StatusOr<std::string> RenderSpeedscope(const profile::Profile& profile,
                                             const SpeedscopeOptions& options);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_SPEEDSCOPE_H_
