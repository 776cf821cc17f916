// What the BPF programs report, decoded into C++: on-CPU samples, off-CPU
// intervals and thread exits, each with the thread's Python frame chain
// as raw python::FrameFields (interpret them with FrameWalker::Interpret,
// or InterpretStack in stack_frames.h).
#ifndef PYHANG_USERSPACE_SAMPLER_EVENTS_H_
#define PYHANG_USERSPACE_SAMPLER_EVENTS_H_

#include <array>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "userspace/python/stack.h"
#include "userspace/sampler/abi.h"
#include "userspace/target/stack_copies.h"

namespace pyhang::sampler {

// A thread's Python frames as copied in BPF, innermost first, uninterpreted
// (shim and entry frames included).
struct PythonStack {
  uint64_t tstate = 0;           // PyThreadState*, 0 if not found
  uint32_t error = PYHANG_OK;    // enum pyhang_error that prevented or cut the walk
  bool truncated = false;        // longer than PYHANG_MAX_FRAMES
  std::vector<python::FrameFields> frames;
};

struct Sample {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint32_t cpu = 0;
  uint64_t ktime_ns = 0;         // CLOCK_MONOTONIC
  uint64_t user_ip = 0;          // user-mode leaf instruction pointer
  uint64_t user_sp = 0;
  bool in_kernel = false;        // the timer interrupted kernel code
  int32_t kernel_stack_id = -1;  // BpfSampler::KernelStack(); < 0: none
  PythonStack stack;
};

struct OffCpuEvent {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint32_t cpu = 0;              // CPU it came back on
  uint64_t start_ns = 0;         // went off CPU (CLOCK_MONOTONIC)
  uint64_t end_ns = 0;           // came back; 0 while still off CPU
  uint32_t prev_state = 0;       // task state at switch-out; 0 = preempted
  int32_t kernel_stack_id = -1;  // kernel stack at switch-out; < 0: none
  int64_t syscall_nr = -1;       // syscall it blocked in; -1: none
  std::array<uint64_t, 6> syscall_args{};
  uint64_t user_ip = 0;
  uint64_t user_sp = 0;
  PythonStack stack;             // Python frames at switch-out

  bool still_off_cpu() const { return end_ns == 0; }
  // Length of the interval; for a thread still off CPU, up to `now_ns`.
  uint64_t DurationNs(uint64_t now_ns = 0) const {
    uint64_t end = still_off_cpu() ? now_ns : end_ns;
    return end > start_ns ? end - start_ns : 0;
  }
  bool preempted() const { return prev_state == 0; }
};

struct ThreadExit {
  uint32_t pid = 0;
  uint32_t tid = 0;
  bool process_exited = false;   // the last thread: BPF already dropped the target
  uint64_t ktime_ns = 0;
  bool exec = false;  // with process_exited: the process exec'd another program
};

// record --native: the registers and stack top of the thread sampled at
// ktime_ns (it comes just before that Sample).
struct NativeStack {
  uint32_t pid = 0;
  uint64_t ktime_ns = 0;
  target::StackCopy copy;  // copy.tid: the sampled thread
};

using Event = std::variant<Sample, OffCpuEvent, ThreadExit, NativeStack>;

// Decodes one ring-buffer record; an error if it is malformed.
absl::StatusOr<Event> DecodeEvent(absl::Span<const uint8_t> record);
// The same for a whole struct (e.g. a pyhang_offcpu map value).
OffCpuEvent DecodeOffCpu(const pyhang_offcpu_event& raw);
PythonStack DecodeStack(const pyhang_stack& raw, size_t frame_count);

// "no_tstate", "frame_read", ...; "unknown_error" for codes out of range.
absl::string_view ErrorName(uint32_t code);
absl::string_view StatName(uint32_t stat);

// Per-code totals over all CPUs.
struct ErrorCounts {
  std::array<uint64_t, PYHANG_ERROR_COUNT> counts{};
  uint64_t Total() const;
  std::string ToString() const;  // "no_tstate=3 frame_read=1", "none"
};

struct StatCounts {
  std::array<uint64_t, PYHANG_STAT_COUNT> counts{};
  uint64_t operator[](pyhang_stat stat) const { return counts[stat]; }
  std::string ToString() const;
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_EVENTS_H_
