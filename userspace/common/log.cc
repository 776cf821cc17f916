#include "absl/strings/string_view.h"
#include "userspace/common/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace pyhang::log {
namespace {

std::atomic<Level> g_level{Level::kWarning};

absl::string_view Prefix(Level level) {
  switch (level) {
    case Level::kDebug: return "debug: ";
    case Level::kInfo: return "";
    case Level::kWarning: return "warning: ";
    case Level::kError: return "error: ";
    case Level::kQuiet: return "";
  }
  return "";
}

}  // namespace

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }

void Write(Level level, absl::string_view message) {
  std::string line = absl::StrCat("pyhang: ", Prefix(level), message);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  // One write() so concurrent lines do not interleave.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace pyhang::log
