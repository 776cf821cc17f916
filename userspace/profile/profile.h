// An aggregated profile: interned frames, interned stacks, and per-thread
// sample counts and times. The sampler fills it; every output format
// (flamegraph SVG, collapsed, speedscope, pprof) reads only this.
#ifndef PYHANG_USERSPACE_PROFILE_PROFILE_H_
#define PYHANG_USERSPACE_PROFILE_PROFILE_H_

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/types/span.h"

namespace pyhang::profile {

enum class FrameKind : uint8_t {
  kPython,   // a Python function: name, file, line
  kNative,   // a native symbol (file = the ELF object)
  kKernel,   // a kernel function (record --native, samples in system calls)
  kState,    // a pseudo-leaf naming what the thread waits on: "[lock_wait]"
  kThread,   // a pseudo-root per thread (with --threads): "thread 123 \"name\""
  kProcess,  // a pseudo-root per process
};

struct Frame {
  FrameKind kind = FrameKind::kPython;
  std::string name;  // qualified name for Python frames
  std::string file;  // source file (Python) or object file (native); may be empty
  int line = 0;      // 0 if unknown or not applicable

  // Label in the flamegraph.pl / py-spy tradition: "name (file.py:line)".
  std::string Label() const;

  friend bool operator==(const Frame& a, const Frame& b) {
    return std::tie(a.kind, a.name, a.file, a.line) == std::tie(b.kind, b.name, b.file, b.line);
  }
  template <typename H>
  friend H AbslHashValue(H h, const Frame& f) {
    return H::combine(std::move(h), f.kind, f.name, f.file, f.line);
  }
};

struct ThreadInfo {
  int64_t tid = 0;
  std::string name;
};

// One distinct (stack, thread) with its totals.
struct SampleTotal {
  uint32_t stack = 0;    // index into Profile::stacks()
  uint32_t thread = 0;   // index into Profile::threads()
  uint64_t count = 0;    // number of samples
  uint64_t time_ns = 0;  // on-CPU time (cpu mode) or wall time (wall mode)
};

class Profile {
 public:
  uint32_t InternFrame(const Frame& frame);
  // `frames` root first, leaf last.
  uint32_t InternStack(absl::Span<const uint32_t> frames);
  uint32_t InternThread(int64_t tid, const std::string& name);
  void AddSample(uint32_t stack, uint32_t thread, uint64_t count, uint64_t time_ns);
  // Sets every sample's count to its time in whole sampling periods
  // (rounded). For profiles where part of the time is measured (off-CPU
  // intervals) rather than sampled: counts then add up to wall time.
  void CountsFromTime(uint64_t period_ns);

  const std::vector<Frame>& frames() const { return frames_; }
  const std::vector<std::vector<uint32_t>>& stacks() const { return stacks_; }
  const std::vector<ThreadInfo>& threads() const { return threads_; }
  // Stable order: first time each (stack, thread) was seen.
  const std::vector<SampleTotal>& samples() const { return samples_; }

  uint64_t total_count() const { return total_count_; }
  uint64_t total_time_ns() const { return total_time_ns_; }

  // Metadata for writers.
  std::string title = "pyhang";
  std::string subtitle;            // e.g. "pid 123, 10 s at 100 Hz, cpu mode"
  uint64_t sample_period_ns = 0;   // 1e9 / rate
  uint64_t start_time_ns = 0;      // wall clock (CLOCK_REALTIME) of the first sample
  uint64_t duration_ns = 0;
  bool wall_mode = false;          // time_ns is wall time rather than CPU time

 private:
  std::vector<Frame> frames_;
  absl::flat_hash_map<Frame, uint32_t> frame_index_;
  std::vector<std::vector<uint32_t>> stacks_;
  absl::flat_hash_map<std::vector<uint32_t>, uint32_t> stack_index_;
  std::vector<ThreadInfo> threads_;
  absl::flat_hash_map<int64_t, uint32_t> thread_index_;
  std::vector<SampleTotal> samples_;
  absl::flat_hash_map<std::pair<uint32_t, uint32_t>, uint32_t> sample_index_;
  uint64_t total_count_ = 0;
  uint64_t total_time_ns_ = 0;
};

}  // namespace pyhang::profile

#endif  // PYHANG_USERSPACE_PROFILE_PROFILE_H_
