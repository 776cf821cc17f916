#include "absl/strings/string_view.h"
#include "userspace/cli/exit_codes.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/output/text_escape.h"

namespace pyhang::cli {

int ReportError(const absl::Status& status) {
  // One line, and nothing of the target's (a comm, a path, a name) can
  // drive the terminal.
  log::Write(log::Level::kInfo, output::TerminalSafe(status.message()));
  return kExitError;
}

int WriteStdout(absl::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ReportError(absl::InternalError(absl::StrCat("writing output: ", std::strerror(errno))));
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return kExitOk;
}

std::string JsonText(const nlohmann::ordered_json& json, int indent) {
  return json.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace pyhang::cli
