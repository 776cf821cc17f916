// What the kernel says about a thread, from /proc/PID/task/TID/{stat,
// syscall,wchan}. Reading these never stops the thread.
#ifndef PYHANG_USERSPACE_THREADS_KERNEL_THREAD_H_
#define PYHANG_USERSPACE_THREADS_KERNEL_THREAD_H_

#include "absl/strings/string_view.h"
#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pyhang::threads {

enum class SyscallStatus {
  kUnknown,        // could not be read
  kRunning,        // "running": on a CPU right now
  kNotInSyscall,   // blocked, but not in a system call (e.g. a page fault)
  kInSyscall,
};

struct KernelThread {
  int64_t tid = 0;
  char state = '?';  // R S D T t Z X I (proc(5))
  std::string comm;
  uint64_t user_ticks = 0;    // utime, clock ticks
  uint64_t system_ticks = 0;  // stime, clock ticks
  int processor = -1;

  SyscallStatus syscall_status = SyscallStatus::kUnknown;
  int64_t syscall = -1;
  std::array<uint64_t, 6> args{};
  uint64_t stack_pointer = 0;
  uint64_t instruction_pointer = 0;

  std::string wchan;  // kernel function the thread sleeps in; may be empty

  // From /proc/PID/task/TID/sched (CONFIG_SCHED_DEBUG kernels), in the
  // scheduler's clock: when the thread last ran (for a sleeping thread:
  // when it went to sleep) and its exact CPU time. 0 if unavailable.
  uint64_t last_ran_sched_ns = 0;
  uint64_t cpu_time_ns = 0;
};

// The scheduler's clock, as /proc/.../sched shows it (se.exec_start: when a
// thread last ran, on the task clock of the CPU it ran on), turned into
// CLOCK_MONOTONIC. Each CPU's task clock leaves out that CPU's own IRQ and
// steal time, so it falls behind CLOCK_MONOTONIC, each CPU at its own pace:
// here a second after 12 idle hours, and 10% of the time under a churning
// load. One offset per CPU, then, measured by running the calling thread on
// each CPU in turn (its affinity restored after), and measured right after
// the exec_starts it converts were read: the offset only grows, so a time
// converted with a later offset is late, never early. A wait's age comes
// out short by the IRQ and steal time in it, never long.
class SchedClock {
 public:
  // nullopt without /proc/thread-self/sched. `cpus`: the CPUs to measure,
  // each once however often listed (all this thread may run on, if empty);
  // CPUs outside this thread's
  // affinity (a cpuset) stay unmeasured.
  static std::optional<SchedClock> Measure(const std::vector<int>& cpus = {});

  // The CLOCK_MONOTONIC time of `sched_ns` on `cpu`; nullopt for a CPU
  // without an offset.
  std::optional<uint64_t> ToMonotonic(uint64_t sched_ns, int cpu) const;

  // For tests: offsets by CPU.
  explicit SchedClock(std::vector<std::optional<int64_t>> offset_by_cpu)
      : offset_by_cpu_(std::move(offset_by_cpu)) {}

 private:
  std::vector<std::optional<int64_t>> offset_by_cpu_;
};

struct KernelReadOptions {
  // /proc/.../sched: exact CPU time and when the thread last ran (how long
  // a blocked thread has been blocked). Watching needs them; a dump not.
  bool scheduler_times = true;
};

// kNotFound if the thread has exited.
absl::StatusOr<KernelThread> ReadKernelThread(pid_t pid, int64_t tid,
                                              const KernelReadOptions& options = {});

// The kernel functions a blocked thread is in, innermost first, from
// /proc/PID/task/TID/stack (needs CAP_SYS_ADMIN; empty for a running thread, or when
// the file cannot be read).
std::vector<std::string> ReadKernelStack(pid_t pid, int64_t tid);
// Its text: "[<0>] futex_wait+0x1a2/0x2c0" per line -> "futex_wait".
std::vector<std::string> ParseKernelStack(absl::string_view text);

// Parsers, exposed for tests. Return false on malformed text.
bool ParseStat(absl::string_view text, KernelThread* thread);
bool ParseSyscall(absl::string_view text, KernelThread* thread);
bool ParseSched(absl::string_view text, KernelThread* thread);

// x86_64 system call name ("futex"), or "syscall_N" for unnamed numbers.
std::string SyscallName(int64_t number);

}  // namespace pyhang::threads

#endif  // PYHANG_USERSPACE_THREADS_KERNEL_THREAD_H_
