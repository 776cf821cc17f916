#include "userspace/sampler/bpf_source.h"

#include "absl/strings/str_cat.h"
#include "userspace/analysis/monitor.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/native/merge.h"
#include "userspace/sampler/perf_events.h"
#include "userspace/sampler/proc_config.h"
#include "userspace/sampler/procfs_sampler.h"
#include "userspace/sampler/stack_frames.h"
#include "userspace/process/tasks.h"
#include "userspace/threads/kernel_thread.h"

namespace pyhang::sampler {
namespace {

constexpr size_t kCachePages = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<BpfSource>> BpfSource::Create(pid_t pid, const BpfSourceOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<python::PythonTarget> target, python::PythonTarget::AttachLive(pid, kCachePages));
  auto source = std::unique_ptr<BpfSource>(new BpfSource(options, std::move(target)));
  python::Decoder& decoder = source->target_->decoder();
  source->gil_ = analysis::GilRangeOf(decoder);
  ASSIGN_OR_RETURN(ProcessConfig config, ComputeProcessConfig(decoder, source->target_->target()));
  for (const std::string& warning : config.warnings) LOG_WARNING(warning);
  SamplerOptions sampler_options;
  sampler_options.frequency_hz = static_cast<uint32_t>(options.rate_hz);
  sampler_options.off_cpu = options.off_cpu;
  sampler_options.offcpu_python_stacks = options.off_cpu;
  // Kernel stacks only for --native (where kernel frames are shown): they
  // cost map space.
  sampler_options.kernel_stacks = false;
  sampler_options.native_stack_bytes = options.native_stack_bytes;
  if (options.native_stack_bytes > 0) {
    // Each native stack is up to 28 KiB, and the first samples of a library
    // are slow to name (its debug file is read then): room for ~1 s of them.
    sampler_options.ring_buffer_bytes = 32u << 20;
    native::UnwindOptions unwind;
    unwind.debug_roots = {absl::StrCat("/proc/", pid, "/root/usr/lib/debug")};
    absl::StatusOr<std::unique_ptr<native::SampleUnwinder>> unwinder = native::SampleUnwinder::Create(pid, unwind);
    if (!unwinder.ok()) {
      return absl::Status(unwinder.status().code(),
                          absl::StrCat("native stacks: ", unwinder.status().message()));
    }
    source->native_ = *std::move(unwinder);
    absl::StatusOr<process::KernelSymbols> kernel = process::KernelSymbols::Load();
    if (kernel.ok()) {
      source->kernel_symbols_ = *std::move(kernel);
      sampler_options.kernel_stacks = true;
    } else {
      LOG_WARNING("no kernel frames: ", kernel.status().message());
    }
  }
  ASSIGN_OR_RETURN(source->sampler_, BpfSampler::Create(sampler_options));
  RETURN_IF_ERROR(source->sampler_->AddTarget(pid, config.record));
  source->start_ns_ = MonotonicNowNs();
  source->RefreshNames();
  return source;
}

std::string BpfSource::description() const {
  return absl::StrCat("BPF at ", options_.rate_hz, " Hz", options_.off_cpu ? " with off-CPU time" : "",
                      native_ ? ", native stacks" : "");
}

SourceStats BpfSource::stats() const {
  SourceStats stats = stats_;
  if (absl::StatusOr<ErrorCounts> errors = sampler_->ReadErrorCounts(); errors.ok()) {
    stats.lost += errors->counts[PYHANG_ERR_RINGBUF_FULL];
    // Not failures: a thread without Python (native threads, a thread
    // before its PyThreadState exists) is a sample with native frames only,
    // and a stack deeper than the BPF depth cap keeps its innermost frames.
    stats.errors += errors->Total() - errors->counts[PYHANG_ERR_RINGBUF_FULL] -
                    errors->counts[PYHANG_ERR_NO_TSTATE] - errors->counts[PYHANG_ERR_TRUNCATED];
  }
  return stats;
}

void BpfSource::RefreshNames() {
  names_time_ns_ = MonotonicNowNs();
  target_->Refresh();
  absl::StatusOr<python::PythonTarget::Threads> threads = target_->ListThreads();
  if (!threads.ok()) return;
  absl::flat_hash_map<uint64_t, std::string> by_thread_id = target_->decoder().ReadThreadNames();
  for (const python::PyThread& thread : threads->python) {
    if (auto it = by_thread_id.find(thread.thread_id); it != by_thread_id.end() && thread.tid != 0) {
      names_[thread.tid] = it->second;
    }
  }
  // Forget threads that ended: a pool that keeps replacing its threads must
  // not grow these sets over a long watch.
  absl::erase_if(names_, [&](const auto& entry) { return !threads->tasks.contains(entry.first); });
  absl::erase_if(seen_, [&](int64_t tid) { return !threads->tasks.contains(tid); });
  absl::erase_if(pending_native_, [&](const auto& entry) { return !threads->tasks.contains(entry.first); });
}

std::string BpfSource::ThreadName(int64_t tid) {
  // Unknown tids (threads without Python, brand-new threads) trigger a
  // re-read, at most once a second.
  if (!names_.contains(tid) && !exited_ && MonotonicNowNs() - names_time_ns_ > 1'000'000'000) RefreshNames();
  auto it = names_.find(tid);
  return it == names_.end() ? "" : it->second;
}

bool BpfSource::Symbolize(const PythonStack& stack, StackSample* sample) {
  absl::StatusOr<SymbolizedStack> symbolized = SymbolizeStack(target_->decoder().walker(), stack);
  if (!symbolized.ok()) {
    ++stats_.errors;
    return false;
  }
  // A chain that broke part-way was read while the code objects changed
  // under us (or BPF could not walk): count it, keep what is consistent.
  if (!symbolized->error.empty() && stack.error == PYHANG_OK) ++stats_.torn;
  sample->frames = std::move(symbolized->frames);
  sample->python_known = stack.tstate != 0;
  return true;
}

threads::ThreadState BpfSource::OffCpuState(const OffCpuEvent& event) {
  if (event.preempted()) return threads::ThreadState::kRunning;
  threads::KernelThread kernel;
  kernel.state = 'S';
  kernel.syscall_status = event.syscall_nr >= 0 ? threads::SyscallStatus::kInSyscall
                                                : threads::SyscallStatus::kNotInSyscall;
  kernel.syscall = event.syscall_nr;
  kernel.args = event.syscall_args;
  return threads::ClassifyKernelThread(kernel, gil_).state;
}

void BpfSource::AddNativeFrames(const Sample& on_cpu, StackSample* sample) {
  auto it = pending_native_.find(on_cpu.tid);
  if (it == pending_native_.end()) return;
  NativeStack native = std::move(it->second);
  pending_native_.erase(it);
  if (native.ktime_ns != on_cpu.ktime_ns) return;  // that sample was lost
  std::vector<python::PyFrame> frames = native_->Unwind(std::move(native.copy));
  if (frames.empty()) return;
  ++stats_.native_stacks;
  if (native::ReachesThreadRoot(frames)) ++stats_.native_to_root;
  sample->frames = native::MergeStacks(frames, sample->frames).frames;
  AddKernelFrames(on_cpu, sample);
}

void BpfSource::AddKernelFrames(const Sample& on_cpu, StackSample* sample) {
  if (!kernel_symbols_ || !on_cpu.in_kernel) return;
  absl::StatusOr<std::vector<uint64_t>> stack = sampler_->KernelStack(on_cpu.kernel_stack_id);
  if (!stack.ok()) return;
  std::vector<python::PyFrame> kernel;
  for (uint64_t address : *stack) {
    python::PyFrame frame;
    frame.kind = python::FrameKind::kKernel;
    frame.function = kernel_symbols_->Name(address);
    if (frame.function.empty()) frame.function = "[unknown]";
    frame.pc = address;
    kernel.push_back(std::move(frame));
  }
  sample->frames.insert(sample->frames.begin(), kernel.begin(), kernel.end());
}

void BpfSource::Deliver(const Event& event, const SampleSink& sink) {
  StackSample sample;
  sample.pid = pid_;
  if (const Sample* on = std::get_if<Sample>(&event)) {
    sample.tid = on->tid;
    sample.time_ns = on->ktime_ns;
    sample.on_cpu = true;
    sample.weight_ns = SamplingPeriodNs(static_cast<uint32_t>(options_.rate_hz));
    if (!Symbolize(on->stack, &sample)) return;
    if (native_) AddNativeFrames(*on, &sample);
    const bool native_stack = !sample.frames.empty() && sample.frames.front().kind != python::FrameKind::kPython;
    if (!on->in_kernel && !native_stack && (options_.native_symbols || sample.frames.empty())) {
      if (std::optional<process::Symbolizer::Symbol> symbol = symbolizer_.Lookup(on->user_ip)) {
        python::PyFrame leaf;
        leaf.kind = python::FrameKind::kNative;
        leaf.function = std::move(symbol->function);
        leaf.module = std::move(symbol->object);
        leaf.pc = on->user_ip;
        sample.native_leaf = std::move(leaf);
      }
    }
  } else if (const OffCpuEvent* off = std::get_if<OffCpuEvent>(&event)) {
    sample.tid = off->tid;
    sample.time_ns = off->start_ns;
    sample.on_cpu = false;
    // Only the part of the interval inside the recording counts.
    uint64_t begin = std::max(off->start_ns, start_ns_);
    uint64_t end = off->still_off_cpu() ? MonotonicNowNs() : off->end_ns;
    sample.weight_ns = end > begin ? end - begin : 0;
    sample.state = OffCpuState(*off);
    if (!Symbolize(off->stack, &sample)) return;
  } else if (const ThreadExit* exit = std::get_if<ThreadExit>(&event)) {
    if (exit->process_exited) exited_ = true;
    if (exit->process_exited && exit->exec) execed_ = true;
    return;
  } else if (const NativeStack* native = std::get_if<NativeStack>(&event)) {
    if (native_) pending_native_[native->copy.tid] = *native;
    return;
  }
  seen_.insert(sample.tid);
  ++stats_.samples;
  sink(std::move(sample));
}

absl::Status BpfSource::Run(absl::Duration duration, const SampleSink& sink) {
  const absl::Time end = absl::Now() + duration;
  while (!exited_) {
    absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    target_->Refresh();
    absl::StatusOr<size_t> delivered =
        sampler_->Poll(std::min(left, absl::Milliseconds(100)), [&](const Event& event) { Deliver(event, sink); });
    if (!delivered.ok()) return delivered.status();
    if (process::ProcessGone(pid_)) exited_ = true;
  }
  if (!exited_) return absl::OkStatus();
  return execed_ ? python::ExecedError(pid_) : python::ExitedError(pid_);
}

absl::Status BpfSource::Finish(const SampleSink& sink) {
  if (!options_.off_cpu || exited_) return absl::OkStatus();
  const uint64_t now_ns = MonotonicNowNs();
  // Threads off CPU right now: their interval has no end event yet.
  if (absl::StatusOr<std::vector<OffCpuEvent>> blocked = sampler_->BlockedThreads(); blocked.ok()) {
    for (const OffCpuEvent& event : *blocked) {
      if (event.pid == static_cast<uint32_t>(pid_)) Deliver(event, sink);
    }
  }
  // Threads that never switched while we watched were blocked throughout:
  // BPF saw nothing, so read their stacks now (exact: they are blocked).
  target_->Refresh();
  absl::StatusOr<python::PythonTarget::Threads> threads = target_->ListThreads();
  if (!threads.ok()) return absl::OkStatus();
  for (python::PyThread& thread : threads->python) {
    if (thread.tid == 0 || seen_.contains(thread.tid)) continue;
    absl::StatusOr<threads::KernelThread> kernel = threads::ReadKernelThread(pid_, thread.tid);
    if (!kernel.ok() || kernel->state == 'R') continue;
    if (!target_->decoder().ReadStack(thread.tstate_address, {}, &thread).ok()) continue;
    StackSample sample;
    sample.pid = pid_;
    sample.tid = thread.tid;
    sample.time_ns = start_ns_;
    sample.on_cpu = false;
    sample.weight_ns = now_ns - start_ns_;
    sample.state = threads::ClassifyKernelThread(*kernel, gil_).state;
    sample.frames = std::move(thread.frames);
    ++stats_.samples;
    sink(std::move(sample));
  }
  return absl::OkStatus();
}

}  // namespace pyhang::sampler
