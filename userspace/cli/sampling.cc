#include "userspace/cli/sampling.h"

#include <csignal>

#include "absl/strings/match.h"
#include "userspace/common/log.h"
#include "userspace/sampler/bpf_source.h"
#include "userspace/sampler/procfs_sampler.h"

namespace pyhang::cli {

std::atomic<bool> g_stop_requested{false};

namespace {

void OnStopSignal(int) { g_stop_requested.store(true); }

bool IsBpfUnavailable(const absl::Status& status) {
  return absl::StartsWith(status.message(), "BPF unavailable");
}

}  // namespace

SamplerChoice ParseSampler(const std::string& name) {
  if (name == "bpf") return SamplerChoice::kBpf;
  if (name == "procfs") return SamplerChoice::kProcfs;
  return SamplerChoice::kAuto;
}

void InstallStopHandlers() {
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

absl::StatusOr<std::unique_ptr<sampler::SampleSource>> CreateSource(const SourceRequest& request) {
  if (request.choice != SamplerChoice::kProcfs) {
    sampler::BpfSourceOptions options;
    options.rate_hz = request.rate_hz;
    options.off_cpu = request.off_cpu;
    options.native_symbols = request.native_symbols;
    options.native_stack_bytes = request.native_stack_bytes;
    absl::StatusOr<std::unique_ptr<sampler::BpfSource>> bpf = sampler::BpfSource::Create(request.pid, options);
    if (bpf.ok()) return std::unique_ptr<sampler::SampleSource>(*std::move(bpf));
    // Native stacks are copied by BPF: without it there are none to show.
    if (!IsBpfUnavailable(bpf.status()) || request.choice == SamplerChoice::kBpf ||
        request.native_stack_bytes > 0) {
      return bpf.status();
    }
    log::Write(log::Level::kWarning, absl::StrCat(bpf.status().message(),
                                                  "; using the /proc sampler (stacks are approximate)"));
  }
  sampler::ProcfsSamplerOptions options;
  options.rate_hz = request.rate_hz;
  options.off_cpu = request.off_cpu;
  absl::StatusOr<std::unique_ptr<sampler::ProcfsSampler>> procfs = sampler::ProcfsSampler::Create(request.pid, options);
  if (!procfs.ok()) return procfs.status();
  return std::unique_ptr<sampler::SampleSource>(*std::move(procfs));
}

}  // namespace pyhang::cli
