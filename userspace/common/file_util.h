// Small helpers for reading /proc and other files.
#ifndef PYHANG_USERSPACE_COMMON_FILE_UTIL_H_
#define PYHANG_USERSPACE_COMMON_FILE_UTIL_H_

#include <string>

#include "absl/status/statusor.h"

namespace pyhang {

// Reads at most `max_bytes` of a file (procfs files report size 0, so this
// reads until EOF). kNotFound if the file does not exist.
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             size_t max_bytes = 64 << 20);

// Like ReadFileToString, for files a target names (source files): only a
// regular file is read, and opening never blocks (a FIFO waits for no
// writer). kFailedPrecondition for anything else.
absl::StatusOr<std::string> ReadRegularFile(const std::string& path, size_t max_bytes);

// ReadRegularFile of `path` as a process whose root directory is `root`
// (/proc/PID/root, a core's sysroot) resolves it: symlinks and ".." never
// leave `root` (openat2's RESOLVE_IN_ROOT; an absolute symlink inside a
// container means the container's file, not the host's), and magic links
// (/proc/self/...) are not followed. A relative `path` is taken from `root`.
absl::StatusOr<std::string> ReadRegularFileInRoot(const std::string& root, const std::string& path,
                                                  size_t max_bytes);

// readlink(2) into a string.
absl::StatusOr<std::string> ReadLink(const std::string& path);

}  // namespace pyhang

#endif  // PYHANG_USERSPACE_COMMON_FILE_UTIL_H_
