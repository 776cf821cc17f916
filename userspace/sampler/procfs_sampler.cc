#include "userspace/sampler/procfs_sampler.h"

#include <time.h>

#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"
#include "userspace/sampler/perf_events.h"
#include "userspace/analysis/monitor.h"
#include "userspace/threads/kernel_thread.h"

namespace pyhang::sampler {
namespace {

constexpr size_t kCachePages = 4096;
constexpr uint64_t kNamesRefreshNs = 1'000'000'000;

void SleepUntil(uint64_t deadline_ns) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ProcfsSampler>> ProcfsSampler::Create(
    pid_t pid, const ProcfsSamplerOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<python::PythonTarget> target, python::PythonTarget::AttachLive(pid, kCachePages));
  auto sampler = std::unique_ptr<ProcfsSampler>(new ProcfsSampler(options, std::move(target)));
  sampler->gil_ = analysis::GilRangeOf(sampler->target_->decoder());
  return sampler;
}

std::string ProcfsSampler::description() const {
  return absl::StrCat("/proc sampler at ", options_.rate_hz, " Hz (no BPF)");
}

void ProcfsSampler::RefreshNames(uint64_t now_ns) {
  names_refreshed_ns_ = now_ns;
  absl::flat_hash_map<uint64_t, std::string> by_thread_id = target_->decoder().ReadThreadNames();
  // Live threads only; one whose name cannot be read now keeps the old one.
  absl::flat_hash_map<int64_t, std::string> names;
  for (const auto& [tid, thread_id] : thread_ids_by_tid_) {
    if (auto it = by_thread_id.find(thread_id); it != by_thread_id.end()) {
      names[tid] = it->second;
    } else if (auto old = names_by_tid_.find(tid); old != names_by_tid_.end()) {
      names[tid] = std::move(old->second);
    }
  }
  names_by_tid_ = std::move(names);
}

std::string ProcfsSampler::ThreadName(int64_t tid) {
  auto it = names_by_tid_.find(tid);
  return it == names_by_tid_.end() ? "" : it->second;
}

absl::Status ProcfsSampler::SampleRound(uint64_t now_ns, const SampleSink& sink) {
  target_->Refresh();
  absl::StatusOr<python::PythonTarget::Threads> listed = target_->ListThreads();
  if (!listed.ok()) {
    if (absl::IsUnavailable(listed.status())) return listed.status();  // the process is gone
    // The runtime is between states (finalizing, a list changing under
    // us): skip this round, counted, like a torn walk.
    ++stats_.errors;
    return absl::OkStatus();
  }
  python::PythonTarget::Threads& threads = *listed;
  const pid_t pid = target_->pid();
  bool unknown_thread = false;
  const uint64_t period_ns = SamplingPeriodNs(static_cast<uint32_t>(options_.rate_hz));
  // New threads get their names before their first sample is delivered.
  for (const python::PyThread& thread : threads.python) {
    unknown_thread |= thread.tid != 0 && !thread_ids_by_tid_.contains(thread.tid);
  }
  if (unknown_thread || now_ns - names_refreshed_ns_ > kNamesRefreshNs) {
    // Only the threads alive now: a pool that keeps replacing its threads
    // must not grow these maps over a long watch.
    thread_ids_by_tid_.clear();
    for (const python::PyThread& thread : threads.python) {
      if (thread.tid != 0) thread_ids_by_tid_[thread.tid] = thread.thread_id;
    }
    RefreshNames(now_ns);
  }
  python::DecodeOptions decode;
  decode.walk.max_depth = options_.max_depth;
  for (python::PyThread& thread : threads.python) {
    if (thread.tid == 0) continue;
    absl::StatusOr<threads::KernelThread> kernel = threads::ReadKernelThread(pid, thread.tid);
    if (!kernel.ok()) continue;  // the thread just ended
    threads::StateVerdict verdict = threads::ClassifyKernelThread(*kernel, gil_);
    bool on_cpu = verdict.state == threads::ThreadState::kRunning;
    if (!on_cpu && !options_.off_cpu) continue;
    absl::Status walked = target_->decoder().ReadStack(thread.tstate_address, decode, &thread);
    if (memory::IsTargetGone(walked)) return python::ExitedError(pid);
    if (!thread.walk_error.empty()) ++stats_.errors;
    StackSample sample;
    sample.pid = pid;
    sample.tid = thread.tid;
    sample.time_ns = now_ns;
    sample.on_cpu = on_cpu;
    sample.weight_ns = period_ns;
    sample.state = verdict.state;
    sample.holds_gil = thread.holds_gil;
    sample.frames = std::move(thread.frames);
    ++stats_.samples;
    sink(std::move(sample));
  }
  return absl::OkStatus();
}

absl::Status ProcfsSampler::Run(absl::Duration duration, const SampleSink& sink) {
  const uint64_t period_ns = SamplingPeriodNs(static_cast<uint32_t>(options_.rate_hz));
  const uint64_t end_ns = MonotonicNowNs() + static_cast<uint64_t>(absl::ToInt64Nanoseconds(duration));
  // The schedule carries over from one call to the next: callers run us in
  // slices shorter than a period at low rates, and a restart at each slice
  // would sample too often.
  if (next_round_ns_ == 0) next_round_ns_ = MonotonicNowNs();
  while (next_round_ns_ < end_ns) {
    SleepUntil(next_round_ns_);
    uint64_t now_ns = MonotonicNowNs();
    ++stats_.rounds;
    if (now_ns > next_round_ns_ + period_ns) ++stats_.late_rounds;
    RETURN_IF_ERROR(SampleRound(now_ns, sink));
    next_round_ns_ += JitteredPeriodNs(static_cast<uint32_t>(options_.rate_hz), random_());  // no aliasing
    if (next_round_ns_ < now_ns) next_round_ns_ = now_ns;  // running behind: don't burst to catch up
  }
  SleepUntil(end_ns);  // the whole slice, as asked
  return absl::OkStatus();
}

}  // namespace pyhang::sampler
