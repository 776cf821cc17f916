// Where stack samples come from: the BPF sampler (exact, in-kernel walks) or
// the /proc fallback. Consumers (record, watch) see only this interface.
#ifndef PYHANG_USERSPACE_SAMPLER_SAMPLE_SOURCE_H_
#define PYHANG_USERSPACE_SAMPLER_SAMPLE_SOURCE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "userspace/sampler/stack_sample.h"

namespace pyhang::sampler {

struct SourceStats {
  uint64_t samples = 0;       // delivered
  uint64_t lost = 0;          // dropped before delivery (ring buffer full, ...)
  uint64_t torn = 0;          // walks that had to be discarded as inconsistent
  uint64_t errors = 0;        // other failures (unreadable tstate, ...)
  uint64_t rounds = 0;        // /proc fallback: sampling rounds
  uint64_t late_rounds = 0;   // /proc fallback: rounds that started late
  uint64_t native_stacks = 0;    // --native: samples with native frames unwound
  uint64_t native_to_root = 0;   // of those, unwound to the thread's first frame
};

using SampleSink = std::function<void(StackSample&& sample)>;

class SampleSource {
 public:
  virtual ~SampleSource() = default;

  // Delivers the samples gathered during the next `duration` to `sink`.
  // kUnavailable once the target has exited (samples up to then were
  // delivered).
  virtual absl::Status Run(absl::Duration duration, const SampleSink& sink) = 0;

  // Called once when sampling ends: delivers what is still pending, e.g.
  // the off-CPU time of threads that are blocked right now.
  virtual absl::Status Finish(const SampleSink& sink) { return absl::OkStatus(); }

  // threading's name of an OS thread ("" if unknown).
  virtual std::string ThreadName(int64_t tid) = 0;

  virtual SourceStats stats() const = 0;
  virtual std::string description() const = 0;  // e.g. "BPF perf_event at 100 Hz"
  // Whether its loop reads BPF maps (and so needs CAP_BPF and CAP_PERFMON).
  virtual bool UsesBpf() const { return false; }
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_SAMPLE_SOURCE_H_
