#include "userspace/cli/attached.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/common/privileges.h"

namespace pyhang::cli {

void DropUnneededPrivileges(StillNeeded needed, bool binds_low_port) {
  using namespace privileges;  // NOLINT: the capability names
  const Capability kNone = kSysPtrace;  // a repeat: keeps nothing more
  const Capability bpf = needed == StillNeeded::kReadingAndBpf ? kBpf : kNone;
  const Capability perfmon = needed == StillNeeded::kReadingAndBpf ? kPerfmon : kNone;
  const Capability bind = binds_low_port ? kNetBindService : kNone;
  absl::Status dropped = privileges::KeepOnly(
      {kSysPtrace, kDacReadSearch, kCheckpointRestore, kSyslog, kDacOverride, bpf, perfmon, bind});
  if (!dropped.ok()) log::Write(log::Level::kWarning, std::string(dropped.message()));
}

}  // namespace pyhang::cli
