#include "userspace/cli/output_file.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace pyhang::cli {
namespace {

absl::Status CannotWrite(const std::string& path, int error) {
  return absl::PermissionDeniedError(absl::StrCat("cannot write ", path, ": ", std::strerror(error)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<OutputFile>> OutputFile::Create(const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError("no output file given (-o FILE)");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write ", path, ": it is a directory"));
  }
  std::string temp = absl::StrCat(path, ".pyhang-XXXXXX");
  int fd = ::mkstemp(temp.data());
  if (fd < 0) return CannotWrite(path, errno);
  ::fchmod(fd, 0644);
  return std::unique_ptr<OutputFile>(new OutputFile(path, temp, UniqueFd(fd)));
}

OutputFile::~OutputFile() {
  if (!committed_) ::unlink(temp_path_.c_str());
}

absl::Status OutputFile::Commit(absl::string_view content) {
  while (!content.empty()) {
    ssize_t n = ::write(fd_.get(), content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return CannotWrite(path_, errno);
    content.remove_prefix(static_cast<size_t>(n));
  }
  if (::fsync(fd_.get()) != 0 && errno != EINVAL) return CannotWrite(path_, errno);
  fd_.Reset();
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) return CannotWrite(path_, errno);
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace pyhang::cli
