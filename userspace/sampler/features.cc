#include "userspace/sampler/features.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "userspace/common/privileges.h"
#include "userspace/sampler/libbpf_util.h"

namespace pyhang::sampler {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

// "r0 = 0; exit"
const bpf_insn kReturnZero[] = {
    {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
    {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
};

// Loads a trivial program; 0 or the errno of the failure.
int TryLoad(bpf_prog_type type, const bpf_prog_load_opts* opts) {
  int fd = bpf_prog_load(type, "pyhang_probe", "GPL", kReturnZero, 2, opts);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

bool HasHelper(bpf_prog_type type, bpf_func_id helper) {
  return libbpf_probe_bpf_helper(type, helper, nullptr) == 1;
}

bool BtfTracepointsLoad() {
  int btf_id = libbpf_find_vmlinux_btf_id("sched_switch", BPF_TRACE_RAW_TP);
  if (btf_id <= 0) return false;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
              .attach_btf_id = static_cast<__u32>(btf_id));
  return TryLoad(BPF_PROG_TYPE_TRACING, &opts) == 0;
}

}  // namespace

std::string BpfFeatures::ToString() const {
  return absl::StrCat(btf_tracepoints ? "tp_btf" : "raw_tp", " tracepoints, ",
                      bpf_loop ? "bpf_loop" : "bounded loop", " frame walk");
}

absl::Status BpfUnavailable(const absl::Status& cause) {
  return absl::Status(cause.code(), absl::StrCat("BPF unavailable: ", cause.message()));
}

absl::StatusOr<BpfFeatures> ProbeBpfFeatures() {
  InstallLibbpfLogger();
  LibbpfLogCapture quiet;  // probes are expected to fail on older kernels
  std::vector<privileges::Capability> missing = privileges::Missing({privileges::kBpf, privileges::kPerfmon});
  if (!missing.empty()) {
    return absl::PermissionDeniedError(absl::StrCat("BPF unavailable: pyhang lacks ", privileges::Names(missing),
                                                    " (run it as root, or grant CAP_BPF, CAP_PERFMON "
                                                    "and CAP_SYS_PTRACE)"));
  }
  if (int error = TryLoad(BPF_PROG_TYPE_PERF_EVENT, nullptr); error != 0) {
    if (error == EPERM || error == EACCES) {
      return absl::PermissionDeniedError(
          "BPF unavailable: permission denied (run as root, or grant CAP_BPF, CAP_PERFMON "
          "and CAP_SYS_PTRACE)");
    }
    return BpfUnavailable(ErrnoStatus(error, "cannot load a BPF perf_event program"));
  }
  std::error_code ignored;
  if (!std::filesystem::exists(kVmlinuxBtf, ignored)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "BPF unavailable: the kernel has no BTF (", kVmlinuxBtf,
        " is missing; CONFIG_DEBUG_INFO_BTF=y is needed)"));
  }
  if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 1) {
    return absl::FailedPreconditionError(
        "BPF unavailable: the kernel has no BPF ring buffer (Linux 5.8 or newer is needed)");
  }
  if (!HasHelper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_task_pt_regs)) {
    return absl::FailedPreconditionError(
        "BPF unavailable: the kernel lacks bpf_task_pt_regs (Linux 5.15 or newer is needed)");
  }
  BpfFeatures features;
  features.bpf_loop = HasHelper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop);
  features.btf_tracepoints = BtfTracepointsLoad();
  return features;
}

}  // namespace pyhang::sampler
