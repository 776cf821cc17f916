#include "userspace/sampler/perf_events.h"

#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"
#include "userspace/common/status_macros.h"
#include "userspace/sampler/libbpf_util.h"

namespace pyhang::sampler {

absl::StatusOr<std::vector<int>> ParseCpuList(absl::string_view text) {
  std::vector<int> cpus;
  for (absl::string_view part : absl::StrSplit(absl::StripAsciiWhitespace(text), ',',
                                               absl::SkipEmpty())) {
    std::vector<absl::string_view> range = absl::StrSplit(part, '-');
    int first = 0;
    int last = 0;
    if (range.size() > 2 || !absl::SimpleAtoi(range[0], &first) ||
        !absl::SimpleAtoi(range.back(), &last) || first < 0 || last < first) {
      return absl::InvalidArgumentError(absl::StrCat("bad CPU list \"", text, "\""));
    }
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  if (cpus.empty()) return absl::InvalidArgumentError(absl::StrCat("empty CPU list \"", text, "\""));
  return cpus;
}

absl::StatusOr<std::vector<int>> OnlineCpus() {
  ASSIGN_OR_RETURN(std::string text,
                   ReadFileToString("/sys/devices/system/cpu/online", 4096));
  return ParseCpuList(text);
}

uint64_t SamplingPeriodNs(uint32_t frequency_hz) {
  const uint64_t base = 1'000'000'000ull / (frequency_hz == 0 ? 1 : frequency_hz);
  return (base + base / 97) | 1;
}

uint64_t JitteredPeriodNs(uint32_t frequency_hz, uint64_t random) {
  const uint64_t mean = SamplingPeriodNs(frequency_hz);
  const uint64_t spread = mean / 2;  // [mean - spread/2, mean + spread/2]
  return (mean - spread / 2 + (spread == 0 ? 0 : random % (spread + 1))) | 1;
}

absl::Status SetEventPeriod(int fd, uint64_t period_ns) {
  if (ioctl(fd, PERF_EVENT_IOC_PERIOD, &period_ns) != 0) {
    return ErrnoStatus(errno, "changing the sampling period");
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> OpenCpuClockEvent(int cpu, uint32_t frequency_hz) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = SamplingPeriodNs(frequency_hz);
  attr.freq = 0;
  int fd = static_cast<int>(
      syscall(SYS_perf_event_open, &attr, /*pid=*/-1, cpu, /*group_fd=*/-1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) {
    return ErrnoStatus(errno, absl::StrCat("perf_event_open(cpu-clock, cpu ", cpu, ")"));
  }
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenThreadClockEvent(pid_t tid, uint64_t period_ns) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.sample_period = period_ns;
  int fd = static_cast<int>(
      syscall(SYS_perf_event_open, &attr, tid, /*cpu=*/-1, /*group_fd=*/-1, PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("perf_event_open(cpu-clock, thread ", tid, ")"));
  return UniqueFd(fd);
}

}  // namespace pyhang::sampler
