// A tiny leveled logger to stderr. The level is checked before the message
// is formatted, so disabled debug lines cost one comparison.
#ifndef PYHANG_USERSPACE_COMMON_LOG_H_
#define PYHANG_USERSPACE_COMMON_LOG_H_

#include "absl/strings/string_view.h"

#include "absl/strings/str_cat.h"

namespace pyhang::log {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kQuiet = 4 };

// Messages below this level are dropped. Default: kWarning.
void SetLevel(Level level);
Level GetLevel();
inline bool Enabled(Level level) { return level >= GetLevel(); }

// Writes "pyhang: <prefix><message>\n" to stderr in one write.
void Write(Level level, absl::string_view message);

}  // namespace pyhang::log

#define PYHANG_LOG_(level, ...)                                      \
  do {                                                               \
    if (::pyhang::log::Enabled(level))                               \
      ::pyhang::log::Write(level, ::absl::StrCat(__VA_ARGS__));      \
  } while (0)

#define LOG_DEBUG(...) PYHANG_LOG_(::pyhang::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) PYHANG_LOG_(::pyhang::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARNING(...) PYHANG_LOG_(::pyhang::log::Level::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) PYHANG_LOG_(::pyhang::log::Level::kError, __VA_ARGS__)

#endif  // PYHANG_USERSPACE_COMMON_LOG_H_
