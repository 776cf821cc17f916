// Interactive flame graph SVG in the flamegraph.pl tradition: one <g> per
// frame with a <title> tooltip, click to zoom, regex search, state in the URL,
// colours by kind of code (your code, stdlib, site-packages, native, waits).
#ifndef PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_H_
#define PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_H_

#include <string>

#include "absl/status/statusor.h"
#include "userspace/output/profile_stacks.h"
#include "userspace/profile/profile.h"

namespace pyhang::output {

struct FlamegraphOptions {
  std::string title;     // empty: Profile::title
  std::string subtitle;  // empty: Profile::subtitle
  int width = 1200;      // pixels
  double minwidth = 0.1;  // pixels; narrower frames are left out
  bool inverted = false;  // icicle graph: root at the top
  bool reverse = false;   // merge stacks leaf first
  bool thread_roots = false;
  bool full_filenames = false;  // in frame labels; tooltips always have full paths
  Weight weight = Weight::kSamples;
  std::string countname = "samples";  // with Weight::kSamples
};

// A self-contained SVG document. Every name from the profile is escaped; the
// embedded script takes them from the DOM as text, never as code.
absl::StatusOr<std::string> RenderFlamegraphSvg(const profile::Profile& profile,
                                                const FlamegraphOptions& options);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_H_
