#include "userspace/analysis/monitor.h"

#include <time.h>

#include <algorithm>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/clock.h"
#include "userspace/common/status_macros.h"
#include "userspace/process/tasks.h"
#include "userspace/threads/kernel_thread.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::analysis {
namespace {

constexpr size_t kCachePages = 8192;
constexpr uint64_t kNamesRefreshNs = 2'000'000'000;
constexpr size_t kMaxFingerprintSlots = 64;
constexpr uint64_t kClockTickNs = 10'000'000;  // USER_HZ = 100: utime/stime units

}  // namespace

threads::GilRange GilRangeOf(python::Decoder& decoder) {
  absl::StatusOr<std::vector<uint64_t>> interpreters = decoder.thread_list().ListInterpreters();
  if (!interpreters.ok() || interpreters->empty()) return {};
  absl::StatusOr<python::GilState> gil = decoder.thread_list().ReadGil(interpreters->front());
  if (!gil.ok()) return {};
  return threads::GilRange{gil->address, static_cast<uint64_t>(decoder.runtime().offsets.gil_size)};
}

absl::StatusOr<std::unique_ptr<Monitor>> Monitor::Create(pid_t pid, const MonitorOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<python::PythonTarget> target, python::PythonTarget::AttachLive(pid, kCachePages));
  return Create(std::move(target), options);
}

absl::StatusOr<std::unique_ptr<Monitor>> Monitor::Create(std::unique_ptr<python::PythonTarget> target,
                                                         const MonitorOptions& options) {
  auto monitor = std::unique_ptr<Monitor>(new Monitor(options, std::move(target)));
  monitor->locks_ = std::make_unique<LockInspector>(monitor->decoder());
  monitor->gil_ = GilRangeOf(monitor->decoder());
  return monitor;
}

uint64_t Monitor::ProgressFingerprint(const python::PyThread& py) {
  if (py.frames.empty()) return 0;
  const python::PyFrame& top = py.frames.front();
  uint64_t hash = absl::HashOf(top.frame_address, top.code_address, top.instruction);
  absl::StatusOr<const python::CodeInfo*> code = decoder().codes().Get(top.code_address);
  if (!code.ok()) return hash;
  // The identities of the innermost frame's locals: any assignment, any
  // loop iteration that rebinds a name, changes them.
  size_t count = std::min<size_t>(std::max((*code)->nlocals, 0), kMaxFingerprintSlots);
  std::vector<uint64_t> slots(count);
  const uint64_t locals = top.frame_address + decoder().runtime().offsets.frame_localsplus;
  if (count > 0 && target_->reader().Read(locals, absl::MakeSpan(reinterpret_cast<std::byte*>(slots.data()), count * 8)).ok()) {
    for (uint64_t slot : slots) hash = absl::HashOf(hash, slot);
  }
  return hash;
}

std::optional<IoTarget> Monitor::DescribeIo(const threads::KernelThread& kernel,
                                            const threads::StateVerdict& verdict) {
  if (verdict.state != threads::ThreadState::kIoWait) return std::nullopt;
  int fd = verdict.fd;
  if (fd < 0 && (kernel.syscall == threads::kPoll || kernel.syscall == threads::kPpoll) && kernel.args[1] >= 1) {
    // poll(fds, nfds, timeout): the first pollfd {int fd; short events; short revents}.
    fd = memory::ReadValue<int32_t>(target_->reader(), kernel.args[0]).value_or(-1);
  }
  if (fd < 0) return std::nullopt;
  return IoTarget{fd, target_->target().DescribeFd(fd)};
}

void Monitor::ObserveThread(python::PyThread& py, ThreadObservation* out, std::optional<LastRan>* last_ran) {
  out->tid = py.tid;
  out->ns_tid = py.ns_tid;
  out->thread_id = py.thread_id;
  out->holds_gil = py.holds_gil;
  if (auto it = names_.find(py.thread_id); it != names_.end()) out->name = it->second;
  threads::KernelReadOptions read;
  read.scheduler_times = options_.timings;
  absl::StatusOr<threads::KernelThread> kernel = target_->target().KernelThread(py.tid, read);
  if (kernel.ok()) {
    out->verdict = threads::ClassifyKernelThread(*kernel, gil_);
    uint64_t cpu = kernel->cpu_time_ns != 0 ? kernel->cpu_time_ns
                                            : (kernel->user_ticks + kernel->system_ticks) * kClockTickNs;
    if (auto it = cpu_time_ns_.find(py.tid); it != cpu_time_ns_.end() && cpu >= it->second) {
      out->cpu_ns = cpu - it->second;
    }
    cpu_time_ns_[py.tid] = cpu;
    if (out->verdict.state != threads::ThreadState::kRunning && kernel->last_ran_sched_ns) {
      *last_ran = LastRan{kernel->last_ran_sched_ns, kernel->processor};
    }
    out->io = DescribeIo(*kernel, out->verdict);
  }
  if (options_.timings) out->progress_fingerprint = ProgressFingerprint(py);
  out->handling = std::move(py.handling);
  out->frames = std::move(py.frames);
  out->truncated = py.truncated;
  out->walk_error = std::move(py.walk_error);
  out->interpreter_id = py.interpreter_id;
}

void Monitor::SetBlockedSince(const std::vector<std::optional<LastRan>>& last_ran,
                              ProcessObservation* observation) {
  std::vector<int> cpus;
  for (const std::optional<LastRan>& ran : last_ran) {
    if (ran) cpus.push_back(ran->cpu);
  }
  if (cpus.empty()) return;
  // Measured now, after the exec_starts were read (see SchedClock), on the
  // CPUs they were read from.
  std::optional<threads::SchedClock> clock = threads::SchedClock::Measure(cpus);
  if (!clock) return;
  for (size_t i = 0; i < last_ran.size(); ++i) {
    if (!last_ran[i]) continue;
    std::optional<uint64_t> since = clock->ToMonotonic(last_ran[i]->sched_ns, last_ran[i]->cpu);
    if (since) observation->threads[i].blocked_since_ns = *since;
  }
}

void Monitor::RefreshNames(const std::vector<python::PyThread>& threads) {
  bool unknown = false;
  for (const python::PyThread& thread : threads) unknown |= !names_.contains(thread.thread_id);
  uint64_t now = MonotonicNowNs();
  if (!unknown && now - names_time_ns_ < kNamesRefreshNs) return;
  names_time_ns_ = now;
  names_ = decoder().ReadThreadNames();
}

absl::StatusOr<ProcessObservation> Monitor::Observe() {
  ProcessObservation observation;
  observation.pid = pid();
  observation.ns_pid = target_->process().ns_pid;
  observation.time_ns = MonotonicNowNs();
  observation.interval_ns = last_time_ns_ ? observation.time_ns - last_time_ns_ : 0;
  last_time_ns_ = observation.time_ns;
  target_->Refresh();
  ASSIGN_OR_RETURN(python::PythonTarget::Threads threads, target_->ListThreads());
  observation.os_threads = threads.tasks.size();
  observation.python_threads_cut = threads.python_cut;
  python::DecodeOptions decode;
  decode.walk.max_depth = options_.max_depth;
  decode.locals = options_.locals;
  decode.globals = options_.globals;
  decode.repr = options_.repr;
  decode.exceptions = true;
  for (python::PyThread& thread : threads.python) {
    absl::Status status = decoder().ReadStack(thread.tstate_address, decode, &thread);
    if (memory::IsTargetGone(status)) return python::ExitedError(pid());
  }
  RefreshNames(threads.python);
  std::vector<std::optional<LastRan>> last_ran;  // parallel to observation.threads
  for (python::PyThread& thread : threads.python) {
    // No id at all: this build's tid lookup failed. An id that is not a
    // live OS thread is a thread that just ended.
    if (thread.tid == 0 && thread.ns_tid == 0) ++observation.python_threads_without_tid;
    if (thread.tid == 0 || !threads.tasks.contains(thread.tid)) continue;
    ThreadObservation out;
    std::optional<LastRan> ran;
    ObserveThread(thread, &out, &ran);
    if (out.holds_gil) observation.gil_holder_tid = out.tid;
    observation.threads.push_back(std::move(out));
    last_ran.push_back(ran);
  }
  SetBlockedSince(last_ran, &observation);
  // Forget CPU times of threads that ended, so the map stays bounded.
  for (auto it = cpu_time_ns_.begin(); it != cpu_time_ns_.end();) {
    if (threads.tasks.contains(it->first)) ++it; else cpu_time_ns_.erase(it++);
  }
  if (options_.locks) locks_->Inspect(observation.threads);
  if (target_->target().Gone()) return python::ExitedError(pid());
  return observation;
}

}  // namespace pyhang::analysis
