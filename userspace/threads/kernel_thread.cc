#include "absl/strings/string_view.h"
#include "userspace/threads/kernel_thread.h"

#include <sched.h>
#include <time.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/clock.h"
#include "userspace/common/file_util.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::threads {

bool ParseStat(absl::string_view text, KernelThread* thread) {
  // "tid (comm) S ppid ..."; comm may itself contain spaces and ')'.
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == absl::string_view::npos || close == absl::string_view::npos || close < open) {
    return false;
  }
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text.substr(0, open)), &thread->tid)) {
    return false;
  }
  thread->comm = std::string(text.substr(open + 1, close - open - 1));
  std::vector<absl::string_view> fields =
      absl::StrSplit(text.substr(close + 1), ' ', absl::SkipEmpty());
  // fields[0] is field 3 of proc(5) (state); utime is field 14, stime 15,
  // processor 39.
  if (fields.empty() || fields[0].empty()) return false;
  thread->state = fields[0][0];
  auto field = [&](size_t number) -> absl::string_view {
    return number - 3 < fields.size() ? fields[number - 3] : absl::string_view();
  };
  (void)absl::SimpleAtoi(field(14), &thread->user_ticks);
  (void)absl::SimpleAtoi(field(15), &thread->system_ticks);
  (void)absl::SimpleAtoi(field(39), &thread->processor);
  return true;
}

bool ParseSyscall(absl::string_view text, KernelThread* thread) {
  text = absl::StripAsciiWhitespace(text);
  if (text == "running") {
    thread->syscall_status = SyscallStatus::kRunning;
    return true;
  }
  std::vector<absl::string_view> fields = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (fields.empty() || !absl::SimpleAtoi(fields[0], &thread->syscall)) return false;
  auto hex = [](absl::string_view field, uint64_t* value) {
    absl::ConsumePrefix(&field, "0x");
    return absl::SimpleHexAtoi(field, value);
  };
  if (thread->syscall < 0) {
    // "-1 sp pc": blocked outside a system call.
    thread->syscall_status = SyscallStatus::kNotInSyscall;
    if (fields.size() >= 3) {
      hex(fields[1], &thread->stack_pointer);
      hex(fields[2], &thread->instruction_pointer);
    }
    return true;
  }
  if (fields.size() < 9) return false;
  for (size_t i = 0; i < 6; ++i) {
    if (!hex(fields[1 + i], &thread->args[i])) return false;
  }
  hex(fields[7], &thread->stack_pointer);
  hex(fields[8], &thread->instruction_pointer);
  thread->syscall_status = SyscallStatus::kInSyscall;
  return true;
}

namespace {

// "1234.567890" (milliseconds with 6 decimals, SPLIT_NS) -> nanoseconds.
bool ParseSplitNs(absl::string_view text, uint64_t* ns) {
  std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, '.');
  uint64_t ms = 0;
  uint64_t frac = 0;
  if (!absl::SimpleAtoi(parts.first, &ms)) return false;
  if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &frac)) return false;
  *ns = ms * 1'000'000 + frac;
  return true;
}

}  // namespace

namespace {

// The value of the "key   :   value" line of /proc/.../sched, if any.
std::optional<absl::string_view> SchedValue(absl::string_view text, absl::string_view key) {
  for (size_t at = text.find(key); at != absl::string_view::npos; at = text.find(key, at + 1)) {
    if (at != 0 && text[at - 1] != '\n') continue;
    absl::string_view rest = text.substr(at + key.size());
    size_t colon = rest.find(':');
    size_t end = rest.find('\n');
    if (colon == absl::string_view::npos || (end != absl::string_view::npos && colon > end)) continue;
    // Only spaces may stand between the key and the colon.
    if (!absl::StripAsciiWhitespace(rest.substr(0, colon)).empty()) continue;
    return absl::StripAsciiWhitespace(rest.substr(colon + 1, end == absl::string_view::npos
                                                                 ? absl::string_view::npos
                                                                 : end - colon - 1));
  }
  return std::nullopt;
}

}  // namespace

bool ParseSched(absl::string_view text, KernelThread* thread) {
  bool found = false;
  if (std::optional<absl::string_view> value = SchedValue(text, "se.exec_start")) {
    found |= ParseSplitNs(*value, &thread->last_ran_sched_ns);
  }
  if (std::optional<absl::string_view> value = SchedValue(text, "se.sum_exec_runtime")) {
    found |= ParseSplitNs(*value, &thread->cpu_time_ns);
  }
  return found;
}

namespace {

// CLOCK_MONOTONIC minus this CPU's task clock, measured on the calling
// thread: it is running, so its exec_start is at most a tick old, and the
// smallest of a few differences is the best estimate.
std::optional<int64_t> OffsetHere() {
  std::optional<int64_t> best;
  for (int i = 0; i < 3; ++i) {
    uint64_t now = MonotonicNowNs();
    absl::StatusOr<std::string> text = ReadFileToString("/proc/thread-self/sched", 8192);
    KernelThread self;
    if (!text.ok() || !ParseSched(*text, &self) || self.last_ran_sched_ns == 0) return std::nullopt;
    int64_t offset = static_cast<int64_t>(now) - static_cast<int64_t>(self.last_ran_sched_ns);
    if (!best || offset < *best) best = offset;
  }
  return best;
}

}  // namespace

std::optional<SchedClock> SchedClock::Measure(const std::vector<int>& cpus) {
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return std::nullopt;
  std::vector<int> wanted = cpus;
  if (wanted.empty()) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) wanted.push_back(cpu);
  }
  std::vector<std::optional<int64_t>> offsets;
  bool any = false;
  for (int cpu : wanted) {
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) continue;
    if (static_cast<size_t>(cpu) < offsets.size() && offsets[cpu]) continue;  // listed twice
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    // Moving to the CPU switches this thread in there: exec_start is fresh.
    if (::sched_setaffinity(0, sizeof(one), &one) != 0) continue;
    std::optional<int64_t> offset = OffsetHere();
    if (!offset) continue;
    if (offsets.size() <= static_cast<size_t>(cpu)) offsets.resize(cpu + 1);
    offsets[cpu] = offset;
    any = true;
  }
  ::sched_setaffinity(0, sizeof(allowed), &allowed);
  if (!any) return std::nullopt;
  return SchedClock(std::move(offsets));
}

std::optional<uint64_t> SchedClock::ToMonotonic(uint64_t sched_ns, int cpu) const {
  if (cpu < 0 || static_cast<size_t>(cpu) >= offset_by_cpu_.size() || !offset_by_cpu_[cpu]) return std::nullopt;
  return static_cast<uint64_t>(static_cast<int64_t>(sched_ns) + *offset_by_cpu_[cpu]);
}

absl::StatusOr<KernelThread> ReadKernelThread(pid_t pid, int64_t tid,
                                              const KernelReadOptions& options) {
  std::string base = absl::StrCat("/proc/", pid, "/task/", tid, "/");
  KernelThread thread;
  absl::StatusOr<std::string> stat = ReadFileToString(base + "stat", 4096);
  if (!stat.ok()) return stat.status();
  if (!ParseStat(*stat, &thread)) return absl::DataLossError(absl::StrCat("cannot parse ", base, "stat"));
  // syscall needs ptrace rights; without them the state stays approximate
  // and wchan is the only hint left.
  absl::StatusOr<std::string> syscall = ReadFileToString(base + "syscall", 4096);
  if (syscall.ok()) ParseSyscall(*syscall, &thread);
  if (options.scheduler_times) {
    if (absl::StatusOr<std::string> sched = ReadFileToString(base + "sched", 8192); sched.ok()) {
      ParseSched(*sched, &thread);
    }
  }
  if (thread.syscall_status == SyscallStatus::kUnknown) {
    if (absl::StatusOr<std::string> wchan = ReadFileToString(base + "wchan", 256); wchan.ok()) {
      thread.wchan = std::string(absl::StripAsciiWhitespace(*wchan));
      if (thread.wchan == "0") thread.wchan.clear();
    }
  }
  return thread;
}

std::vector<std::string> ParseKernelStack(absl::string_view text) {
  constexpr size_t kMaxFrames = 256;
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (names.size() >= kMaxFrames) break;
    size_t space = line.find("] ");
    absl::string_view name = space == absl::string_view::npos ? line : line.substr(space + 2);
    name = name.substr(0, name.find('+'));
    if (!name.empty()) names.emplace_back(name);
  }
  return names;
}

std::vector<std::string> ReadKernelStack(pid_t pid, int64_t tid) {
  absl::StatusOr<std::string> text =
      ReadFileToString(absl::StrCat("/proc/", pid, "/task/", tid, "/stack"), 64 << 10);
  return text.ok() ? ParseKernelStack(*text) : std::vector<std::string>();
}

std::string SyscallName(int64_t number) {
  absl::string_view name = KnownSyscallName(number);
  return name.empty() ? absl::StrCat("syscall_", number) : std::string(name);
}

}  // namespace pyhang::threads
