// An output file written atomically: a temporary file beside the target is
// created first (so an unwritable path fails before any work is done) and
// renamed over the target once the content is complete.
#ifndef PYHANG_USERSPACE_CLI_OUTPUT_FILE_H_
#define PYHANG_USERSPACE_CLI_OUTPUT_FILE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::cli {

class OutputFile {
 public:
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(const std::string& path);
  ~OutputFile();  // removes the temporary file unless Commit() succeeded

  // Writes `content` and renames it into place.
  absl::Status Commit(absl::string_view content);
  const std::string& path() const { return path_; }

 private:
  OutputFile(std::string path, std::string temp_path, UniqueFd fd)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(std::move(fd)) {}

  std::string path_;
  std::string temp_path_;
  UniqueFd fd_;
  bool committed_ = false;
};

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_OUTPUT_FILE_H_
