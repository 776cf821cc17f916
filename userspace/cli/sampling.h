// What `record` and `watch` share: choosing a sample source (BPF, or the
// /proc fallback when BPF cannot be loaded) and stopping on Ctrl-C.
#ifndef PYHANG_USERSPACE_CLI_SAMPLING_H_
#define PYHANG_USERSPACE_CLI_SAMPLING_H_

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "userspace/sampler/sample_source.h"

namespace pyhang::cli {

enum class SamplerChoice { kAuto, kBpf, kProcfs };

struct SourceRequest {
  pid_t pid = 0;
  int rate_hz = 100;
  bool off_cpu = false;
  SamplerChoice choice = SamplerChoice::kAuto;
  bool native_symbols = true;  // see sampler::BpfSourceOptions
  uint32_t native_stack_bytes = 0;  // record --native (BPF only)
};

// "auto", "bpf", "procfs" (validated by the CLI).
SamplerChoice ParseSampler(const std::string& name);

// kAuto tries BPF and, if it cannot be loaded, says so in one line on
// stderr and uses the /proc sampler; kBpf fails instead.
absl::StatusOr<std::unique_ptr<sampler::SampleSource>> CreateSource(const SourceRequest& request);

// Set by SIGINT/SIGTERM once InstallStopHandlers() ran.
extern std::atomic<bool> g_stop_requested;
void InstallStopHandlers();

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_SAMPLING_H_
