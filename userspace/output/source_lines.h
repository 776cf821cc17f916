// Source lines of the target's Python files, read as the target sees them:
// inside `root` (/proc/PID/root, a core's --sysroot), which no symlink or
// ".." of the target's leaves; relative paths from `cwd`, the target's
// working directory as seen inside `root`. Without a root (a core of this
// host), paths are taken as they are.
#ifndef PYHANG_USERSPACE_OUTPUT_SOURCE_LINES_H_
#define PYHANG_USERSPACE_OUTPUT_SOURCE_LINES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace pyhang::output {

class SourceLines {
 public:
  static constexpr size_t kMaxFiles = 256;
  static constexpr size_t kMaxFileBytes = 8 << 20;
  static constexpr size_t kMaxLineChars = 200;

  SourceLines(std::string root, std::string cwd) : root_(std::move(root)), cwd_(std::move(cwd)) {}

  // Line `line` (1-based) of `file`, stripped of surrounding whitespace;
  // nullopt if unreadable.
  std::optional<std::string> Line(const std::string& file, int line);

 private:
  absl::StatusOr<std::string> Read(const std::string& file) const;
  const std::vector<std::string>* Load(const std::string& file);

  std::string root_;
  std::string cwd_;
  absl::flat_hash_map<std::string, std::optional<std::vector<std::string>>> files_;
};

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_SOURCE_LINES_H_
