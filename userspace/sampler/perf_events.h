// Per-CPU software clock events that drive the on-CPU sampler.
#ifndef PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_
#define PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_

#include <sys/types.h>

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

// The sampling period for `frequency_hz`, detuned by about 1% (to an odd
// number of nanoseconds) so that samples cannot phase-lock with the
// scheduler tick (250 Hz here, 100/300/1000 Hz elsewhere): with an exact
// 1 ms or 10 ms period, a thread that shares its CPU is always sampled at
// the same point after it is scheduled in, and the profile is biased
// towards whatever it runs at that point. py-spy's 100 Hz and Parca's 19 Hz
// avoid the same trap by other means.
uint64_t SamplingPeriodNs(uint32_t frequency_hz);

// A period for the next stretch of sampling: uniform in [0.75, 1.25] x
// SamplingPeriodNs(frequency_hz), picked by `random` (any 64-bit value),
// odd. A fixed period, detuned or not, aliases with periodic workloads:
// at 100 Hz two threads that trade the GIL every 5 ms (a 10 ms cycle) are
// sampled at a phase that drifts only ~0.1 ms a sample, and one of them
// gets up to a third of the other's samples. Changing the period every
// poll (~100 ms) scatters the phase; the mean period, which sample weights
// use, stays SamplingPeriodNs(frequency_hz).
uint64_t JitteredPeriodNs(uint32_t frequency_hz, uint64_t random);

// Sets the period of a sampling event (from its next overflow on).
absl::Status SetEventPeriod(int fd, uint64_t period_ns);

// A PERF_TYPE_SOFTWARE/PERF_COUNT_SW_CPU_CLOCK event on `cpu` (all tasks)
// that overflows every SamplingPeriodNs(frequency_hz) of CPU time. The period is
// given in nanoseconds rather than as a frequency so that the kernel's
// perf_event_max_sample_rate throttling heuristics do not apply.
absl::StatusOr<UniqueFd> OpenCpuClockEvent(int cpu, uint32_t frequency_hz);

// A CPU-clock event that follows one thread (any CPU) and overflows every
// `period_ns` of its CPU time.
absl::StatusOr<UniqueFd> OpenThreadClockEvent(pid_t tid, uint64_t period_ns);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_PERF_EVENTS_H_
