// The wait-for graph between threads: an edge t -> u when t waits for a
// lock that u holds. Its cycles are deadlocks.
#ifndef PYHANG_USERSPACE_ANALYSIS_WAIT_GRAPH_H_
#define PYHANG_USERSPACE_ANALYSIS_WAIT_GRAPH_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/analysis/finding.h"

namespace pyhang::analysis {

// Each thread waits for at most one lock, so every node has at most one
// outgoing edge and each cycle is found by following edges. Returns each
// cycle once, starting at its smallest tid.
std::vector<std::vector<CycleEdge>> FindCycles(const absl::flat_hash_map<int64_t, CycleEdge>& edges);

// Builds the edges from observations: for each thread waiting on an
// identified lock, the thread known (or inferred) to hold it.
absl::flat_hash_map<int64_t, CycleEdge> BuildWaitEdges(const std::vector<ThreadObservation>& threads);

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_WAIT_GRAPH_H_
