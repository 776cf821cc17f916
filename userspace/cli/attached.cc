#include "userspace/cli/attached.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/common/privileges.h"

namespace pyhang::cli {

void KeepOnly(StillNeeded needed) {
  using namespace privileges;  // NOLINT: the capability names
  absl::Status dropped =
      needed == StillNeeded::kReadingAndBpf
          ? privileges::KeepOnly({kSysPtrace, kDacReadSearch, kCheckpointRestore, kSyslog, kDacOverride, kBpf,
                                  kPerfmon})
          : privileges::KeepOnly({kSysPtrace, kDacReadSearch, kCheckpointRestore, kSyslog, kDacOverride});
  if (!dropped.ok()) log::Write(log::Level::kWarning, std::string(dropped.message()));
}

}  // namespace pyhang::cli
