#include "userspace/analysis/wait_graph.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"

namespace pyhang::analysis {
namespace {

// Two references to the same lock: same object, or the same futex.
bool SameLock(const LockRef& a, const LockRef& b) {
  if (a.address != 0 && b.address != 0) return a.address == b.address;
  return a.futex != 0 && a.futex == b.futex;
}

// Certain evidence wins over inference.
int Strength(OwnershipEvidence evidence) {
  switch (evidence) {
    case OwnershipEvidence::kRLockOwner: return 3;
    case OwnershipEvidence::kThreadStarted: return 3;
    case OwnershipEvidence::kWithBlock: return 2;
    case OwnershipEvidence::kAcquireInCode: return 1;
  }
  return 0;
}

}  // namespace

absl::flat_hash_map<int64_t, CycleEdge> BuildWaitEdges(const std::vector<ThreadObservation>& threads) {
  absl::flat_hash_map<int64_t, CycleEdge> edges;
  for (const ThreadObservation& waiter : threads) {
    if (!waiter.waiting_for || waiter.waits_for_notification) continue;
    std::optional<CycleEdge> best;
    int inferred_holders = 0;
    for (const ThreadObservation& holder : threads) {
      if (holder.tid == waiter.tid) continue;  // a thread never waits on a lock it holds here
      for (const HeldLock& held : holder.holds) {
        if (!SameLock(held.lock, *waiter.waiting_for)) continue;
        if (held.evidence == OwnershipEvidence::kAcquireInCode) ++inferred_holders;
        CycleEdge edge{waiter.tid, *waiter.waiting_for, holder.tid, held.evidence, held.where};
        if (!best || Strength(edge.how) > Strength(best->how)) best = edge;
      }
    }
    // An inference is only usable if it names exactly one thread.
    if (best && best->how == OwnershipEvidence::kAcquireInCode && inferred_holders != 1) continue;
    if (best) edges[waiter.tid] = *best;
  }
  return edges;
}

std::vector<std::vector<CycleEdge>> FindCycles(const absl::flat_hash_map<int64_t, CycleEdge>& edges) {
  std::vector<std::vector<CycleEdge>> cycles;
  absl::flat_hash_set<int64_t> done;
  std::vector<int64_t> starts;
  for (const auto& [tid, edge] : edges) starts.push_back(tid);
  std::sort(starts.begin(), starts.end());
  for (int64_t start : starts) {
    if (done.contains(start)) continue;
    // Follow the single outgoing edge until it ends or repeats.
    std::vector<int64_t> path;
    absl::flat_hash_map<int64_t, size_t> position;
    int64_t node = start;
    while (edges.contains(node) && !position.contains(node) && !done.contains(node)) {
      position[node] = path.size();
      path.push_back(node);
      node = edges.at(node).held_by;
    }
    if (position.contains(node)) {
      std::vector<CycleEdge> cycle;
      for (size_t i = position[node]; i < path.size(); ++i) cycle.push_back(edges.at(path[i]));
      auto smallest = std::min_element(cycle.begin(), cycle.end(),
                                       [](const CycleEdge& a, const CycleEdge& b) { return a.tid < b.tid; });
      std::rotate(cycle.begin(), smallest, cycle.end());
      cycles.push_back(std::move(cycle));
    }
    done.insert(path.begin(), path.end());
  }
  return cycles;
}

}  // namespace pyhang::analysis
