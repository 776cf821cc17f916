#include "userspace/analysis/aggregator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace pyhang::analysis {

bool IsIdleState(threads::ThreadState state) {
  return state == threads::ThreadState::kIdle || state == threads::ThreadState::kSleep;
}

Aggregator::Aggregator(profile::Profile& profile, const AggregatorOptions& options)
    : profile_(profile), options_(options) {
  profile_.sample_period_ns = options.sample_period_ns;
  profile_.wall_mode = options.mode == ProfileMode::kWall;
}

bool Aggregator::Wanted(const sampler::StackSample& sample) const {
  if (sample.on_cpu) return true;
  if (options_.mode == ProfileMode::kCpu) return options_.idle;
  return options_.idle || !IsIdleState(sample.state);
}

uint32_t Aggregator::FrameId(const python::PyFrame& frame) {
  if (frame.kind == python::FrameKind::kKernel) {
    return profile_.InternFrame(profile::Frame{profile::FrameKind::kKernel, frame.function, "", 0});
  }
  if (frame.kind == python::FrameKind::kNative) {
    // A native frame is its function in its object file; one without a
    // symbol is "[unknown]" in that file (its addresses would make every
    // sample a different stack).
    return profile_.InternFrame(profile::Frame{profile::FrameKind::kNative,
                                               frame.function.empty() ? "[unknown]" : frame.function,
                                               frame.module, 0});
  }
  auto key = std::make_tuple(frame.qualname, frame.file, frame.line);
  if (auto it = frame_ids_.find(key); it != frame_ids_.end()) return it->second;
  uint32_t id = profile_.InternFrame(
      profile::Frame{profile::FrameKind::kPython, frame.qualname, frame.file, frame.line});
  frame_ids_.emplace(std::move(key), id);
  return id;
}

bool Aggregator::Add(const sampler::StackSample& sample, const std::string& thread_name) {
  if (!Wanted(sample)) {
    ++filtered_;
    return false;
  }
  std::vector<uint32_t> stack;
  stack.reserve(sample.frames.size() + 2);
  for (auto it = sample.frames.rbegin(); it != sample.frames.rend(); ++it) stack.push_back(FrameId(*it));
  // Off CPU but runnable (preempted) is time spent on the stack, like on-CPU
  // time; blocked time gets its reason as the leaf: [lock_wait], [io_wait].
  if (!sample.on_cpu && sample.state != threads::ThreadState::kRunning) {
    std::string state = absl::StrCat("[", threads::StateName(sample.state), "]");
    stack.push_back(profile_.InternFrame(profile::Frame{profile::FrameKind::kState, state, "", 0}));
  } else if (sample.frames.empty()) {
    // On CPU without Python frames: native code or a thread not running Python.
    stack.push_back(sample.native_leaf
                        ? FrameId(*sample.native_leaf)
                        : profile_.InternFrame(profile::Frame{profile::FrameKind::kNative, "[native]", "", 0}));
  }
  // Thread roots, when wanted, are added by the writers from the profile's
  // threads, whose names may only become known after the first samples.
  uint32_t thread = profile_.InternThread(sample.tid, thread_name);
  profile_.AddSample(profile_.InternStack(stack), thread, sample.on_cpu ? 1 : 0, sample.weight_ns);
  ++added_;
  return true;
}

void Aggregator::Finish() {
  const bool measured_time = options_.mode == ProfileMode::kWall || options_.idle;
  if (measured_time) profile_.CountsFromTime(options_.sample_period_ns);
}

}  // namespace pyhang::analysis
