// Where a core comes from: a file as gcore and the kernel write it, the
// same compressed the way systemd-coredump stores it (zstd; lz4 and xz
// too), or standard input ("-"). Whatever it is, the result is a regular,
// uncompressed file descriptor that CoreFile can map.
#ifndef PYHANG_USERSPACE_CORE_CORE_INPUT_H_
#define PYHANG_USERSPACE_CORE_CORE_INPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::core {

enum class Compression { kNone, kZstd, kLz4, kXz };

// From the first bytes of a file (magic numbers).
Compression DetectCompression(absl::string_view head);
absl::string_view CompressionName(Compression compression);

struct CoreInput {
  UniqueFd fd;        // regular, uncompressed, at any offset (CoreFile maps it)
  std::string name;   // for messages: the path, or "standard input"
  Compression compression = Compression::kNone;
};

// Largest decompressed core accepted (a bound on the temporary file).
inline constexpr uint64_t kMaxDecompressedBytes = uint64_t{256} << 30;

// Opens `path` ("-": standard input). A compressed core or one read from a
// pipe is written, decompressed, to an unlinked temporary file in $TMPDIR
// (or /var/tmp), so memory stays bounded whatever the core's size.
// Errors are one line for the user: kNotFound, kPermissionDenied,
// kInvalidArgument (a directory, an empty file, corrupt compressed data).
absl::StatusOr<CoreInput> OpenCoreInput(const std::string& path);

}  // namespace pyhang::core

#endif  // PYHANG_USERSPACE_CORE_CORE_INPUT_H_
