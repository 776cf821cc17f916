// How the CLI reports errors and writes output: one line on stderr per
// error, and exit codes scripts can rely on.
#ifndef PYHANG_USERSPACE_CLI_EXIT_CODES_H_
#define PYHANG_USERSPACE_CLI_EXIT_CODES_H_

#include "absl/strings/string_view.h"
#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace pyhang::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // any user-facing error (one line on stderr)
inline constexpr int kExitUsage = 2;  // bad command line

// Prints "pyhang: <message>" and returns kExitError.
int ReportError(const absl::Status& status);

// Writes all of `text` to stdout; a failed write (closed pipe, full disk)
// is reported like any other error.
int WriteStdout(absl::string_view text);

// JSON text that never throws: invalid UTF-8 from the target is replaced.
std::string JsonText(const nlohmann::ordered_json& json, int indent = -1);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_EXIT_CODES_H_
