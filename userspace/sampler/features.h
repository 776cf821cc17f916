// What the running kernel lets pyhang's BPF programs use, found by loading
// tiny programs (bpftool's feature table under-reports on these kernels).
#ifndef PYHANG_USERSPACE_SAMPLER_FEATURES_H_
#define PYHANG_USERSPACE_SAMPLER_FEATURES_H_

#include <string>

#include "absl/status/statusor.h"

namespace pyhang::sampler {

struct BpfFeatures {
  bool btf_tracepoints = false;  // tp_btf programs load (else raw_tp is used)
  bool bpf_loop = false;         // bpf_loop helper (5.17+; else a bounded loop)
  std::string ToString() const;
};

// The features, or kUnavailable / kPermissionDenied / kFailedPrecondition
// with a one-line message for the user that starts "BPF unavailable: ".
absl::StatusOr<BpfFeatures> ProbeBpfFeatures();

// Prefixes "BPF unavailable: " to a status message, keeping its code.
absl::Status BpfUnavailable(const absl::Status& cause);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_FEATURES_H_
