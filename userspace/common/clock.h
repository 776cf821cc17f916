// The one clock pyhang compares times on: CLOCK_MONOTONIC in nanoseconds,
// the clock BPF's bpf_ktime_get_ns() and Python's time.monotonic() use too.
#ifndef PYHANG_USERSPACE_COMMON_CLOCK_H_
#define PYHANG_USERSPACE_COMMON_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace pyhang {

inline uint64_t MonotonicNowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace pyhang

#endif  // PYHANG_USERSPACE_COMMON_CLOCK_H_
