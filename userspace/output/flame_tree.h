// Stacks merged into the call tree a flame graph draws: a node per distinct
// path from the root, as wide as the samples under it.
#ifndef PYHANG_USERSPACE_OUTPUT_FLAME_TREE_H_
#define PYHANG_USERSPACE_OUTPUT_FLAME_TREE_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "userspace/output/profile_stacks.h"

namespace pyhang::output {

// One rectangle of the graph, in value units (samples or nanoseconds).
struct FlameRect {
  static constexpr uint32_t kRootFrame = std::numeric_limits<uint32_t>::max();

  uint32_t frame = kRootFrame;  // ProfileStacks frame index; kRootFrame for "all"
  uint64_t offset = 0;          // from the left edge
  uint64_t value = 0;           // width
  uint32_t depth = 0;           // 0 for "all"
};

class FlameTree {
 public:
  // `reverse` merges stacks leaf first (flamegraph.pl --reverse).
  static FlameTree Build(const ProfileStacks& stacks, bool reverse);

  uint64_t total() const { return nodes_[0].value; }

  // Every node at least `min_value` wide, parents before children, siblings
  // ordered by `rank[frame]` (lower first) as flamegraph.pl sorts by name.
  std::vector<FlameRect> Layout(absl::Span<const uint32_t> rank, double min_value) const;

 private:
  struct Node {
    uint32_t frame = FlameRect::kRootFrame;
    uint64_t value = 0;
    std::vector<uint32_t> children;                    // node indices
    absl::flat_hash_map<uint32_t, uint32_t> by_frame;  // frame -> node index
  };

  FlameTree() : nodes_(1) {}
  uint32_t Child(uint32_t parent, uint32_t frame);
  std::vector<uint32_t> SortedChildren(uint32_t node, absl::Span<const uint32_t> rank) const;

  std::vector<Node> nodes_;  // nodes_[0] is the root
};

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_FLAME_TREE_H_
