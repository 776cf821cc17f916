#include "userspace/output/collapsed.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"
#include "userspace/output/frame_style.h"

namespace pyhang::output {
namespace {

std::string FoldedLabel(const profile::Frame& frame, bool short_filenames) {
  std::string label = short_filenames ? ShortLabel(frame) : frame.Label();
  for (char& c : label) {
    if (c == ';') c = ':';
    if (c == '\n' || c == '\r') c = ' ';
  }
  return label;
}

std::string FoldedStack(const ProfileStacks& stacks, const WeightedStack& stack, bool short_filenames) {
  std::string line;
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    if (i > 0) line += ';';
    line += FoldedLabel(stacks.frame(stack.frames[i]), short_filenames);
  }
  return line;
}

}  // namespace

absl::StatusOr<std::string> RenderCollapsed(const profile::Profile& profile,
                                            const CollapsedOptions& options) {
  if (options.weight == Weight::kTime && options.time_unit_ns == 0) {
    return absl::InvalidArgumentError("collapsed output: time unit must be at least 1 ns");
  }
  ASSIGN_OR_RETURN(const ProfileStacks stacks,
                   ProfileStacks::Create(profile, {options.thread_roots, options.weight}));
  // Different stacks can fold to one line (e.g. one stack in two threads).
  std::map<std::string, uint64_t> lines;
  for (const WeightedStack& stack : stacks.stacks()) {
    if (stack.frames.empty()) continue;  // flamegraph.pl cannot show an empty stack
    lines[FoldedStack(stacks, stack, options.short_filenames)] += stack.value;
  }
  std::string out;
  for (const auto& [line, value] : lines) {
    const uint64_t shown =
        options.weight == Weight::kTime ? (value + options.time_unit_ns / 2) / options.time_unit_ns : value;
    if (shown > 0) absl::StrAppend(&out, line, " ", shown, "\n");
  }
  return out;
}

}  // namespace pyhang::output
