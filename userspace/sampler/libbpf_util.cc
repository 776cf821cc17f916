#include "userspace/sampler/libbpf_util.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/log.h"

namespace pyhang::sampler {
namespace {

std::mutex g_capture_mutex;
std::string* g_capture = nullptr;  // guarded by g_capture_mutex

bool IsMemlockHint(absl::string_view message) {
  return absl::StrContains(message, "RLIMIT_MEMLOCK") || absl::StrContains(message, "ulimit -l");
}

int PrintToLog(enum libbpf_print_level level, const char* format, va_list args) {
  log::Level ours = level == LIBBPF_WARN ? log::Level::kWarning : log::Level::kDebug;
  {
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    if (g_capture == nullptr && !log::Enabled(ours)) return 0;
  }
  char buffer[2048];
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(buffer, sizeof(buffer), format, copy);
  va_end(copy);
  if (length < 0) return 0;
  absl::string_view message = absl::StripTrailingAsciiWhitespace(buffer);
  {
    std::lock_guard<std::mutex> lock(g_capture_mutex);
    if (g_capture != nullptr) {
      absl::StrAppend(g_capture, message, "\n");
      ours = log::Level::kDebug;
    }
  }
  if (IsMemlockHint(message)) ours = log::Level::kDebug;
  if (log::Enabled(ours)) log::Write(ours, message);
  return length;
}

}  // namespace

void BpfLinkDeleter::operator()(bpf_link* link) const { bpf_link__destroy(link); }

void RingBufferDeleter::operator()(ring_buffer* ring) const { ring_buffer__free(ring); }

absl::Status ErrnoStatus(int error, absl::string_view what) {
  if (error < 0) error = -error;
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(message);
    case ENOENT:
    case ESRCH:
      return absl::NotFoundError(message);
    case E2BIG:
    case ENOMEM:
    case ENOSPC:
      return absl::ResourceExhaustedError(message);
    case EINVAL:
      return absl::InvalidArgumentError(message);
    case EOPNOTSUPP:
    case ENOSYS:
      return absl::UnimplementedError(message);
    default:
      return absl::InternalError(message);
  }
}

void InstallLibbpfLogger() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(PrintToLog); });
}

LibbpfLogCapture::LibbpfLogCapture() {
  InstallLibbpfLogger();
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_capture = &text_;
}

LibbpfLogCapture::~LibbpfLogCapture() {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_capture = nullptr;
}

std::string LibbpfLogCapture::text() const {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  return text_;
}

std::string LibbpfLogCapture::LastError() const {
  std::string all = text();
  std::vector<absl::string_view> lines = absl::StrSplit(all, '\n', absl::SkipEmpty());
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    absl::string_view line = *it;
    if (IsMemlockHint(line) || absl::StartsWith(line, "libbpf: failed to load")) continue;
    if (absl::StrContains(line, "rror") || absl::StrContains(line, "failed") ||
        absl::StrContains(line, "invalid") || absl::StrContains(line, "unknown")) {
      return std::string(absl::StripPrefix(line, "libbpf: "));
    }
  }
  return "";
}

}  // namespace pyhang::sampler
