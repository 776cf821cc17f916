#include "userspace/output/flame_tree.h"

#include <algorithm>

namespace pyhang::output {

FlameTree FlameTree::Build(const ProfileStacks& stacks, bool reverse) {
  FlameTree tree;
  for (const WeightedStack& stack : stacks.stacks()) {
    if (stack.value == 0) continue;
    tree.nodes_[0].value += stack.value;
    uint32_t node = 0;
    const auto add = [&](uint32_t frame) {
      node = tree.Child(node, frame);
      tree.nodes_[node].value += stack.value;
    };
    if (reverse) {
      std::for_each(stack.frames.rbegin(), stack.frames.rend(), add);
    } else {
      std::for_each(stack.frames.begin(), stack.frames.end(), add);
    }
  }
  return tree;
}

uint32_t FlameTree::Child(uint32_t parent, uint32_t frame) {
  auto [it, inserted] = nodes_[parent].by_frame.try_emplace(frame, static_cast<uint32_t>(nodes_.size()));
  const uint32_t child = it->second;  // read now: push_back below moves the map
  if (inserted) {
    nodes_[parent].children.push_back(child);
    Node node;
    node.frame = frame;
    nodes_.push_back(std::move(node));
  }
  return child;
}

std::vector<uint32_t> FlameTree::SortedChildren(uint32_t node, absl::Span<const uint32_t> rank) const {
  std::vector<uint32_t> children = nodes_[node].children;
  std::sort(children.begin(), children.end(),
            [&](uint32_t a, uint32_t b) { return rank[nodes_[a].frame] < rank[nodes_[b].frame]; });
  return children;
}

std::vector<FlameRect> FlameTree::Layout(absl::Span<const uint32_t> rank, double min_value) const {
  std::vector<FlameRect> rects;
  // Iterative pre-order walk: Python stacks can be deep enough that recursion
  // per frame is a risk we need not take.
  struct Pending {
    uint32_t node;
    uint64_t offset;
    uint32_t depth;
  };
  std::vector<Pending> pending = {{0, 0, 0}};
  while (!pending.empty()) {
    const Pending at = pending.back();
    pending.pop_back();
    const Node& node = nodes_[at.node];
    if (at.node != 0 && static_cast<double>(node.value) < min_value) continue;
    rects.push_back(FlameRect{node.frame, at.offset, node.value, at.depth});
    const std::vector<uint32_t> children = SortedChildren(at.node, rank);
    uint64_t offset = at.offset;
    std::vector<Pending> next;
    for (uint32_t child : children) {
      next.push_back({child, offset, at.depth + 1});
      offset += nodes_[child].value;
    }
    pending.insert(pending.end(), next.rbegin(), next.rend());
  }
  return rects;
}

}  // namespace pyhang::output
