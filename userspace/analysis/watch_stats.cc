#include "userspace/analysis/watch_stats.h"

#include <algorithm>

namespace pyhang::analysis {

void WatchStats::AddSample(const sampler::StackSample& sample) {
  if (!sample.on_cpu) return;
  ++samples_;
  absl::flat_hash_set<FunctionKey> counted;  // recursion counts once per sample
  for (size_t i = 0; i < sample.frames.size(); ++i) {
    const python::PyFrame& frame = sample.frames[i];
    FunctionKey key{frame.qualname, frame.file};
    FunctionCounts& counts = functions_[key];
    if (i == 0) {
      ++counts.own;
      counts.line = frame.line;  // where it spends its own time
    } else if (counts.line == 0) {
      counts.line = frame.line;  // a caller: where it calls from
    }
    if (counted.insert(key).second) ++counts.total;
  }
}

void WatchStats::AddObservation(const ProcessObservation& observation) {
  absl::flat_hash_map<int64_t, ThreadCounts> alive;
  order_.clear();
  for (const ThreadObservation& thread : observation.threads) {
    ThreadCounts& counts = alive[thread.tid];
    if (auto it = threads_.find(thread.tid); it != threads_.end()) counts = it->second;
    counts.name = thread.name;
    counts.ns_tid = thread.ns_tid;
    counts.cpu_ns += thread.cpu_ns;
    ++counts.looks;
    counts.gil_looks += thread.holds_gil;
    order_.push_back(thread.tid);
  }
  threads_ = std::move(alive);
}

WatchSummary WatchStats::Build(double window_s, size_t top_n) {
  WatchSummary summary;
  summary.samples = samples_;
  summary.window_s = window_s;
  for (int64_t tid : order_) {
    const ThreadCounts& counts = threads_.at(tid);
    ThreadShare share;
    share.tid = tid;
    share.name = counts.name;
    share.ns_tid = counts.ns_tid;
    share.cpu = window_s > 0 ? std::min(1.0, counts.cpu_ns / (window_s * 1e9)) : 0;
    share.gil = counts.looks ? static_cast<double>(counts.gil_looks) / counts.looks : 0;
    summary.threads.push_back(std::move(share));
  }
  const double total = samples_ ? static_cast<double>(samples_) : 1.0;
  for (const auto& [key, counts] : functions_) {
    summary.top.push_back(FunctionShare{std::get<0>(key), std::get<1>(key), counts.line, counts.own / total,
                                        counts.total / total});
  }
  std::sort(summary.top.begin(), summary.top.end(), [](const FunctionShare& a, const FunctionShare& b) {
    return std::tie(a.own, a.total, a.function) > std::tie(b.own, b.total, b.function);
  });
  if (summary.top.size() > top_n) summary.top.resize(top_n);
  samples_ = 0;
  functions_.clear();
  for (auto& [tid, counts] : threads_) counts = ThreadCounts{counts.name, 0, 0, 0};
  return summary;
}

}  // namespace pyhang::analysis
