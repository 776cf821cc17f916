// Samples from BPF: on-CPU samples whose Python stacks were copied in the
// kernel at the instant of the sample (exact, never torn by the thread
// moving on), and off-CPU intervals from sched_switch with the stack and
// system call the thread blocked in. Frames are interpreted and symbolized
// in userspace through the shared decoder (same rules as `pyhang dump`).
#ifndef PYHANG_USERSPACE_SAMPLER_BPF_SOURCE_H_
#define PYHANG_USERSPACE_SAMPLER_BPF_SOURCE_H_

#include <sys/types.h>

#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "userspace/native/sample_unwinder.h"
#include "userspace/process/kernel_symbols.h"
#include "userspace/process/symbolizer.h"
#include "userspace/python/python_target.h"
#include "userspace/sampler/bpf_sampler.h"
#include "userspace/sampler/sample_source.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::sampler {

struct BpfSourceOptions {
  int rate_hz = 100;
  bool off_cpu = false;  // wall mode / --idle: account blocked time too
  // Name the native function of every on-CPU sample (watch: evidence of
  // native loops). Otherwise only samples without Python frames get one.
  bool native_symbols = true;
  // record --native: copy this many bytes of user stack with each on-CPU
  // sample and unwind it (native frames merged with the Python ones);
  // 0: Python frames only.
  uint32_t native_stack_bytes = 0;
};

class BpfSource : public SampleSource {
 public:
  // kFailedPrecondition etc. from attaching; "BPF unavailable: ..." when the
  // programs cannot be loaded here.
  static absl::StatusOr<std::unique_ptr<BpfSource>> Create(pid_t pid, const BpfSourceOptions& options);

  absl::Status Run(absl::Duration duration, const SampleSink& sink) override;
  absl::Status Finish(const SampleSink& sink) override;
  std::string ThreadName(int64_t tid) override;
  SourceStats stats() const override;
  std::string description() const override;
  bool UsesBpf() const override { return true; }

  const python::PythonProcess& process() const { return target_->process(); }
  BpfSampler& sampler() { return *sampler_; }

 private:
  BpfSource(const BpfSourceOptions& options, std::unique_ptr<python::PythonTarget> target)
      : pid_(target->pid()), options_(options), target_(std::move(target)), symbolizer_(pid_) {}

  void Deliver(const Event& event, const SampleSink& sink);
  bool Symbolize(const PythonStack& stack, StackSample* sample);
  threads::ThreadState OffCpuState(const OffCpuEvent& event);
  void RefreshNames();
  void AddNativeFrames(const Sample& on_cpu, StackSample* sample);
  // The kernel's frames of a sample taken in a system call, innermost first.
  void AddKernelFrames(const Sample& on_cpu, StackSample* sample);

  pid_t pid_;
  BpfSourceOptions options_;
  std::unique_ptr<python::PythonTarget> target_;
  std::unique_ptr<BpfSampler> sampler_;
  process::Symbolizer symbolizer_;
  threads::GilRange gil_;
  absl::flat_hash_map<int64_t, std::string> names_;  // by tid
  absl::flat_hash_set<int64_t> seen_;                // tids with any event
  std::unique_ptr<native::SampleUnwinder> native_;   // with native_stack_bytes
  std::optional<process::KernelSymbols> kernel_symbols_;  // with native_, if readable
  // The native stack BPF copied just before each thread's next sample.
  absl::flat_hash_map<int64_t, NativeStack> pending_native_;  // by tid
  uint64_t start_ns_ = 0;
  uint64_t names_time_ns_ = 0;
  bool exited_ = false;
  bool execed_ = false;  // exited_ because it exec'd another program
  SourceStats stats_;
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_BPF_SOURCE_H_
