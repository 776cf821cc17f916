// Colours and number formats of the flamegraph SVG.
#ifndef PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_PALETTE_H_
#define PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_PALETTE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "userspace/output/frame_style.h"

namespace pyhang::output {

// "rgb(r,g,b)" for a frame: the category picks the hue family (so your code,
// stdlib, site-packages, native and waits are told apart at a glance) and a
// hash of `name` varies it, so neighbours differ and the same function keeps
// its colour from one profile to the next.
std::string FrameFill(FrameCategory category, absl::string_view name);

// The middle colour of a category, for the legend.
std::string CategoryFill(FrameCategory category);

// "1,234" (flamegraph.pl writes sample counts with separators).
std::string WithSeparators(uint64_t value);

// "12.34 ms": nanoseconds in the largest unit that keeps the number >= 1.
std::string FormatDuration(uint64_t ns);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_PALETTE_H_
