#include "userspace/sampler/events.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/sampler/native_snapshot.h"

namespace pyhang::sampler {
namespace {

// A zero-filled struct with the record's bytes copied over its start
// (records carrying a stack are shorter than the struct).
template <typename T>
std::unique_ptr<T> LoadRecord(absl::Span<const uint8_t> record) {
  auto value = std::make_unique<T>();
  std::memcpy(value.get(), record.data(), std::min(record.size(), sizeof(T)));
  return value;
}

// Checks that a record holding a stack at `stack_offset` is as long as its
// frame_count says, and returns that count.
absl::StatusOr<size_t> CheckedFrameCount(absl::Span<const uint8_t> record, size_t stack_offset,
                                         const pyhang_stack& stack, absl::string_view what) {
  size_t count = stack.frame_count;
  size_t frames_offset = stack_offset + offsetof(pyhang_stack, frames);
  if (count > PYHANG_MAX_FRAMES || record.size() < frames_offset + count * sizeof(pyhang_frame)) {
    return absl::DataLossError(absl::StrFormat("%s record of %d bytes claims %d frames", what,
                                               record.size(), count));
  }
  return count;
}

Event DecodeSample(const pyhang_sample_event& raw, size_t frame_count) {
  Sample sample;
  sample.pid = raw.pid;
  sample.tid = raw.tid;
  sample.cpu = raw.cpu;
  sample.ktime_ns = raw.ktime_ns;
  sample.user_ip = raw.user_ip;
  sample.user_sp = raw.user_sp;
  sample.in_kernel = (raw.flags & PYHANG_SAMPLE_IN_KERNEL) != 0;
  sample.kernel_stack_id = raw.kernel_stack_id;
  sample.stack = DecodeStack(raw.stack, frame_count);
  return sample;
}

constexpr absl::string_view kErrorNames[PYHANG_ERROR_COUNT] = {
    "ok",           "no_tstate",      "tss_key",         "tss_read",         "tstate_read",
    "tstate_thread_id", "tstate_native_id", "top_frame_read", "frame_read",  "truncated",
    "bad_config",   "ringbuf_full",   "kernel_stack",    "thread_map_full",  "scratch",
    "user_regs",    "fsbase",         "tls_read",
};

constexpr absl::string_view kStatNames[PYHANG_STAT_COUNT] = {
    "samples",       "non_target",  "switch_out",   "offcpu_events", "offcpu_short",
    "offcpu_no_start", "thread_exits", "walks",     "frames",
};

}  // namespace

PythonStack DecodeStack(const pyhang_stack& raw, size_t frame_count) {
  PythonStack stack;
  stack.tstate = raw.tstate;
  stack.error = raw.error;
  stack.truncated = (raw.flags & PYHANG_STACK_TRUNCATED) != 0;
  frame_count = std::min<size_t>(frame_count, PYHANG_MAX_FRAMES);
  stack.frames.reserve(frame_count);
  for (size_t i = 0; i < frame_count; ++i) {
    const pyhang_frame& frame = raw.frames[i];
    stack.frames.push_back(python::FrameFields{frame.frame_address, frame.code, frame.instr,
                                               frame.owner});
  }
  return stack;
}

OffCpuEvent DecodeOffCpu(const pyhang_offcpu_event& raw) {
  OffCpuEvent event;
  event.pid = raw.pid;
  event.tid = raw.tid;
  event.cpu = raw.cpu;
  event.start_ns = raw.start_ns;
  event.end_ns = raw.end_ns;
  event.prev_state = raw.prev_state;
  event.kernel_stack_id = raw.kernel_stack_id;
  event.syscall_nr = raw.syscall_nr;
  std::copy(std::begin(raw.syscall_args), std::end(raw.syscall_args), event.syscall_args.begin());
  event.user_ip = raw.user_ip;
  event.user_sp = raw.user_sp;
  event.stack = DecodeStack(raw.stack, raw.stack.frame_count);
  return event;
}

absl::StatusOr<Event> DecodeEvent(absl::Span<const uint8_t> record) {
  if (record.size() < sizeof(uint32_t)) return absl::DataLossError("empty BPF event");
  uint32_t type;
  std::memcpy(&type, record.data(), sizeof(type));
  switch (type) {
    case PYHANG_EVENT_SAMPLE: {
      if (record.size() < offsetof(pyhang_sample_event, stack.frames)) break;
      auto raw = LoadRecord<pyhang_sample_event>(record);
      absl::StatusOr<size_t> count =
          CheckedFrameCount(record, offsetof(pyhang_sample_event, stack), raw->stack, "sample");
      if (!count.ok()) return count.status();
      return DecodeSample(*raw, *count);
    }
    case PYHANG_EVENT_OFFCPU: {
      if (record.size() < offsetof(pyhang_offcpu_event, stack.frames)) break;
      auto raw = LoadRecord<pyhang_offcpu_event>(record);
      absl::StatusOr<size_t> count =
          CheckedFrameCount(record, offsetof(pyhang_offcpu_event, stack), raw->stack, "off-CPU");
      if (!count.ok()) return count.status();
      return DecodeOffCpu(*raw);
    }
    case PYHANG_EVENT_THREAD_EXIT: {
      if (record.size() < sizeof(pyhang_exit_event)) break;
      auto raw = LoadRecord<pyhang_exit_event>(record);
      return ThreadExit{raw->pid, raw->tid, (raw->flags & PYHANG_EXIT_PROCESS) != 0, raw->ktime_ns,
                        (raw->flags & PYHANG_EXIT_EXEC) != 0};
    }
    case PYHANG_EVENT_NATIVE_STACK: {
      constexpr size_t kHeader = offsetof(pyhang_native_stack_event, record);
      if (record.size() < sizeof(pyhang_native_stack_event)) break;
      auto raw = LoadRecord<pyhang_native_stack_event>(record);
      std::vector<target::StackCopy> copies = ParseNativeRecords(absl::string_view(
          reinterpret_cast<const char*>(record.data()) + kHeader, record.size() - kHeader));
      if (copies.size() != 1) return absl::DataLossError("malformed native stack record");
      return NativeStack{raw->pid, raw->ktime_ns, std::move(copies.front())};
    }
    default:
      return absl::DataLossError(absl::StrCat("unknown BPF event type ", type));
  }
  return absl::DataLossError(
      absl::StrCat("BPF event of type ", type, " is too short (", record.size(), " bytes)"));
}

absl::string_view ErrorName(uint32_t code) {
  if (code < PYHANG_ERROR_COUNT) return kErrorNames[code];
  return "unknown_error";
}

absl::string_view StatName(uint32_t stat) {
  if (stat < PYHANG_STAT_COUNT) return kStatNames[stat];
  return "unknown_stat";
}

uint64_t ErrorCounts::Total() const {
  uint64_t total = 0;
  for (uint64_t count : counts) total += count;
  return total;
}

std::string ErrorCounts::ToString() const {
  std::string text;
  for (uint32_t code = 0; code < counts.size(); ++code) {
    if (counts[code] == 0) continue;
    absl::StrAppend(&text, text.empty() ? "" : " ", ErrorName(code), "=", counts[code]);
  }
  return text.empty() ? "none" : text;
}

std::string StatCounts::ToString() const {
  std::string text;
  for (uint32_t stat = 0; stat < counts.size(); ++stat) {
    absl::StrAppend(&text, text.empty() ? "" : " ", StatName(stat), "=", counts[stat]);
  }
  return text;
}

}  // namespace pyhang::sampler
