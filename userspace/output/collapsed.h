// The "collapsed" (folded, py-spy's "raw") format: one `root;...;leaf N` line
// per distinct stack, the input of flamegraph.pl, inferno and speedscope.
#ifndef PYHANG_USERSPACE_OUTPUT_COLLAPSED_H_
#define PYHANG_USERSPACE_OUTPUT_COLLAPSED_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/output/profile_stacks.h"
#include "userspace/profile/profile.h"

namespace pyhang::output {

struct CollapsedOptions {
  bool thread_roots = false;     // a `thread TID "name"` root frame per thread
  bool short_filenames = false;  // py-spy style short paths instead of full ones
  Weight weight = Weight::kSamples;
  // With Weight::kTime, N is the time in this unit, rounded to nearest; lines
  // that round to 0 are left out (they would have no width anyway).
  uint64_t time_unit_ns = 1000;
};

// Lines sorted (as `stackcollapse | sort` would), identical stacks merged.
// Frame labels are Frame::Label(); since ';' separates frames and a newline
// ends a line, those characters in names become ':' and ' '.
absl::StatusOr<std::string> RenderCollapsed(const profile::Profile& profile,
                                            const CollapsedOptions& options);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_COLLAPSED_H_
