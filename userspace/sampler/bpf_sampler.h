// The BPF side of pyhang as one C++ object: loads bpf/pyhang.bpf.c, attaches
// the on-CPU sampler (one cpu-clock perf event per CPU) and the off-CPU
// hooks (sched_switch, sched_process_exit), and delivers decoded events.
//
//   ASSIGN_OR_RETURN(auto sampler, BpfSampler::Create({.frequency_hz = 1000}));
//   ASSIGN_OR_RETURN(ProcessConfig config, ComputeProcessConfig(decoder));
//   RETURN_IF_ERROR(sampler->AddTarget(pid, config.record));
//   while (...) sampler->Poll(absl::Milliseconds(100), [&](const Event& e) { ... });
//
// Not thread-safe: use it from one thread.
#ifndef PYHANG_USERSPACE_SAMPLER_BPF_SAMPLER_H_
#define PYHANG_USERSPACE_SAMPLER_BPF_SAMPLER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "userspace/common/unique_fd.h"
#include "userspace/sampler/abi.h"
#include "userspace/sampler/events.h"
#include "userspace/sampler/features.h"
#include "userspace/sampler/libbpf_util.h"

struct pyhang_bpf;  // the generated skeleton (bpf/pyhang.skel.h)

namespace pyhang::sampler {

struct SamplerOptions {
  uint32_t frequency_hz = 100;       // on-CPU samples per CPU-second, 1..10000
  bool on_cpu = true;                // perf_event sampler
  bool off_cpu = true;               // sched_switch accounting
  bool kernel_stacks = true;         // kernel stack ids on samples and switch-outs
  bool offcpu_python_stacks = true;  // walk Python frames at every switch-out
  uint64_t offcpu_min_ns = 0;        // shorter off-CPU intervals are only counted
  // record --native: user stack bytes copied with each on-CPU sample (a
  // NativeStack event before it); 0: none. At most PYHANG_NATIVE_STACK_MAX.
  uint32_t native_stack_bytes = 0;
  uint32_t max_processes = 64;       // targets at once
  uint32_t max_threads = 1024;       // target threads with off-CPU state at once
  uint32_t kernel_stack_entries = 8192;
  uint32_t ring_buffer_bytes = 4u << 20;  // power of two, >= page size
  bool collect_run_stats = false;    // enable kernel BPF run-time stats (ProgramStats)
  // Use the fallbacks even where the kernel has better (for tests).
  bool force_raw_tracepoints = false;
  bool force_bounded_loop = false;
};

struct ProgramRunStats {
  std::string name;
  uint64_t run_count = 0;
  uint64_t run_time_ns = 0;  // total; needs collect_run_stats
};

class BpfSampler {
 public:
  // Loads and attaches everything. When BPF cannot be used here (not root,
  // no BTF, old kernel, perf events denied) the error's message is one line
  // for the user starting "BPF unavailable: ".
  static absl::StatusOr<std::unique_ptr<BpfSampler>> Create(const SamplerOptions& options);
  ~BpfSampler();
  BpfSampler(const BpfSampler&) = delete;
  BpfSampler& operator=(const BpfSampler&) = delete;

  // Starts sampling process `pid` with `config` (see proc_config.h).
  // Replaces the config of a pid already added.
  absl::Status AddTarget(pid_t pid, const pyhang_proc_config& config);
  // Stops sampling `pid` and drops its threads' off-CPU state. Not an error
  // if BPF already dropped it because the process exited.
  absl::Status RemoveTarget(pid_t pid);
  bool HasTarget(pid_t pid) const { return targets_.contains(pid); }

  // Waits `timeout` (less if the ring buffer is filling up), then hands
  // every queued event to `callback`. Events are delivered in batches: BPF
  // does not wake the poller per event. Returns how many were delivered. A ThreadExit with process_exited also
  // removes the target here.
  absl::StatusOr<size_t> Poll(absl::Duration timeout,
                              absl::FunctionRef<void(const Event&)> callback);

  // Target threads off CPU right now, with what was recorded when they left
  // (still_off_cpu() is true, end_ns is 0). Threads already blocked when
  // sampling started are missing until they run once.
  absl::StatusOr<std::vector<OffCpuEvent>> BlockedThreads();

  // Threads with off-CPU state in BPF (bounded by max_threads; entries go
  // when threads exit or their process is removed).
  absl::StatusOr<size_t> TrackedThreads();

  // Kernel return addresses of a stack id from an event, innermost first.
  absl::StatusOr<std::vector<uint64_t>> KernelStack(int32_t stack_id);

  // Totals over all CPUs since Create().
  absl::StatusOr<ErrorCounts> ReadErrorCounts();
  absl::StatusOr<StatCounts> ReadStats();
  // Per loaded program: how often it ran and for how long.
  absl::StatusOr<std::vector<ProgramRunStats>> ProgramStats();
  // Records the ring buffer delivered that could not be decoded.
  uint64_t malformed_events() const { return malformed_events_; }

  const BpfFeatures& features() const { return features_; }
  const SamplerOptions& options() const { return options_; }
  size_t perf_event_count() const { return perf_fds_.size(); }

 private:
  struct SkeletonDeleter {
    void operator()(pyhang_bpf* skeleton) const;
  };

  BpfSampler(const SamplerOptions& options, const BpfFeatures& features)
      : options_(options), features_(features) {}

  absl::Status Load();
  absl::Status AttachTracepoints();
  absl::Status AttachPerfEvents();
  absl::Status OpenRingBuffer();
  absl::StatusOr<std::vector<uint64_t>> SumPerCpu(int map_fd, uint32_t entries);
  // Gives every perf event a new random period (see JitteredPeriodNs).
  void JitterPeriods();
  static int OnRecord(void* context, void* data, size_t size);

  SamplerOptions options_;
  BpfFeatures features_;
  // Destroyed in reverse order: stats, ring buffer, links, perf events,
  // then the skeleton whose programs and maps they use.
  std::unique_ptr<pyhang_bpf, SkeletonDeleter> skeleton_;
  std::vector<UniqueFd> perf_fds_;
  std::vector<UniqueBpfLink> links_;
  UniqueRingBuffer ring_;
  UniqueFd stats_fd_;
  absl::flat_hash_set<pid_t> targets_;
  absl::FunctionRef<void(const Event&)>* callback_ = nullptr;  // set during Poll
  size_t delivered_ = 0;
  uint64_t malformed_events_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
  bool jitter_failed_ = false;
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_BPF_SAMPLER_H_
