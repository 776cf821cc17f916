#include "absl/strings/string_view.h"
#include "userspace/common/file_util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "userspace/common/unique_fd.h"

namespace pyhang {
namespace {

absl::Status ErrnoToStatus(int error, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ESRCH:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path, size_t max_bytes) {
  std::string content;
  char buffer[16384];
  while (content.size() < max_bytes) {
    ssize_t n = ::read(fd, buffer, std::min(sizeof(buffer), max_bytes - content.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
  }
  return content;
}

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  return ReadAll(fd.get(), path, max_bytes);
}

absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid()) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  return ReadAll(fd.get(), path, max_bytes);
}

absl::StatusOr<std::string> ReadRegularFileInRoot(const std::string& root, const std::string& path,
                                                  size_t max_bytes) {
  if (path.empty()) return absl::InvalidArgumentError("an empty path");
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.valid()) return ErrnoToStatus(errno, absl::StrCat("open ", root));
  struct open_how how = {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string shown = absl::StrCat(root, path[0] == '/' ? "" : "/", path);
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, root_fd.get(), path.c_str(), &how, sizeof(how))));
  if (!fd.valid()) return ErrnoToStatus(errno, absl::StrCat("open ", shown));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(shown, ": not a regular file"));
  }
  return ReadAll(fd.get(), shown, max_bytes);
}

absl::StatusOr<std::string> ReadLink(const std::string& path) {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buffer, sizeof(buffer));
  if (n < 0) return ErrnoToStatus(errno, absl::StrCat("readlink ", path));
  return std::string(buffer, static_cast<size_t>(n));
}

}  // namespace pyhang
