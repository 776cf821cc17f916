// One observation of one thread, whatever produced it (BPF or the /proc
// fallback): its Python stack at that instant and whether it was on CPU.
#ifndef PYHANG_USERSPACE_SAMPLER_STACK_SAMPLE_H_
#define PYHANG_USERSPACE_SAMPLER_STACK_SAMPLE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "userspace/python/stack.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::sampler {

struct StackSample {
  pid_t pid = 0;
  int64_t tid = 0;
  uint64_t time_ns = 0;            // CLOCK_MONOTONIC of the observation
  bool on_cpu = true;
  // On CPU: the sampling period. Off CPU: how long the thread was blocked.
  uint64_t weight_ns = 0;
  threads::ThreadState state = threads::ThreadState::kRunning;  // for off-CPU time
  std::vector<python::PyFrame> frames;  // innermost first
  bool holds_gil = false;
  bool python_known = true;  // false: no Python thread state for this OS thread
  // On CPU: the native function at the sampled user IP (kind kNative,
  // function "" without a symbol), when the sampler names it and no
  // native stack (record --native) already starts `frames`.
  std::optional<python::PyFrame> native_leaf;
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_STACK_SAMPLE_H_
