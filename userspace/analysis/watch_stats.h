// What `watch` shows each second, like `py-spy top`: per thread its state,
// CPU and GIL share; per function its own and total share of the samples.
#ifndef PYHANG_USERSPACE_ANALYSIS_WATCH_STATS_H_
#define PYHANG_USERSPACE_ANALYSIS_WATCH_STATS_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "userspace/analysis/observation.h"
#include "userspace/sampler/stack_sample.h"

namespace pyhang::analysis {

struct FunctionShare {
  std::string function;  // qualname
  std::string file;
  int line = 0;          // of the innermost sample seen (py-spy shows the line too)
  double own = 0;        // share of samples with this function as the leaf
  double total = 0;      // share of samples with this function anywhere
};

struct ThreadShare {
  int64_t tid = 0;
  int64_t ns_tid = 0;  // in the target's pid namespace
  std::string name;
  threads::ThreadState state = threads::ThreadState::kUnknown;
  double cpu = 0;  // fraction of one CPU over the window
  double gil = 0;  // fraction of looks that found it holding the GIL
};

struct WatchSummary {
  uint64_t samples = 0;
  double window_s = 0;
  std::vector<ThreadShare> threads;
  std::vector<FunctionShare> top;  // by own share, then total
};

class WatchStats {
 public:
  void AddSample(const sampler::StackSample& sample);
  void AddObservation(const ProcessObservation& observation);
  // The summary of everything added since the last call, then resets.
  // `state_of` gives each thread's (refined) state.
  template <typename StateOf>
  WatchSummary TakeSummary(double window_s, size_t top_n, StateOf state_of);

 private:
  WatchSummary Build(double window_s, size_t top_n);

  using FunctionKey = std::tuple<std::string, std::string>;  // qualname, file
  struct FunctionCounts {
    uint64_t own = 0;
    uint64_t total = 0;
    int line = 0;
  };
  struct ThreadCounts {
    std::string name;
    int64_t ns_tid = 0;
    uint64_t cpu_ns = 0;
    uint64_t looks = 0;
    uint64_t gil_looks = 0;
  };
  uint64_t samples_ = 0;
  absl::flat_hash_map<FunctionKey, FunctionCounts> functions_;
  absl::flat_hash_map<int64_t, ThreadCounts> threads_;  // alive at the last observation
  std::vector<int64_t> order_;                          // thread order of the last observation
};

template <typename StateOf>
WatchSummary WatchStats::TakeSummary(double window_s, size_t top_n, StateOf state_of) {
  WatchSummary summary = Build(window_s, top_n);
  for (ThreadShare& thread : summary.threads) thread.state = state_of(thread.tid);
  return summary;
}

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_WATCH_STATS_H_
