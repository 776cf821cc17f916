// Per-CPU software clock events that drive the on-CPU sampler.
#ifndef PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_
#define PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::sampler {

// Parses a kernel CPU list such as "0-3,8,10-11".
absl::StatusOr<std::vector<int>> ParseCpuList(absl::string_view text);
// CPUs in /sys/devices/system/cpu/online.
absl::StatusOr<std::vector<int>> OnlineCpus();

// A PERF_TYPE_SOFTWARE/PERF_COUNT_SW_CPU_CLOCK event on `cpu` (all tasks)
// that overflows every 1/frequency_hz seconds of CPU time. The period is
// given in nanoseconds rather than as a frequency so that the kernel's
// perf_event_max_sample_rate throttling heuristics do not apply.
absl::StatusOr<UniqueFd> OpenCpuClockEvent(int cpu, uint32_t frequency_hz);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_
