// Finds, on the machine reading a core, the files the core's process had
// mapped: at the path the core recorded, under --sysroot (an unpacked
// container image, a chroot), then by build id under the debug roots. A
// file whose build id differs from the core's is never used silently: it
// is skipped with a warning that names both ids.
#ifndef PYHANG_USERSPACE_CORE_BINARY_LOCATOR_H_
#define PYHANG_USERSPACE_CORE_BINARY_LOCATOR_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace pyhang::core {

struct LocatorOptions {
  std::string sysroot;          // "" for none
  std::string executable;       // --exe: the file for the core's executable
  std::string executable_path;  // the executable's path as the core recorded it
};

struct LocatedFile {
  std::string path;       // on this machine; "" if nothing fits
  std::string build_id;   // the core's id for the file; "" if the core lacks it
  bool verified = false;  // the file's build id equals the core's
};

class BinaryLocator {
 public:
  explicit BinaryLocator(LocatorOptions options);

  // The file for `target_path` (as the core saw it) whose build id is
  // `build_id` ("" if unknown: the first existing candidate is taken).
  // Remembered per path.
  const LocatedFile& Locate(const std::string& target_path, const std::string& build_id);

  // Where debug files are looked for: the host's and the sysroot's
  // /usr/lib/debug (what a find-debuginfo callback searches).
  std::vector<std::string> DebugRoots() const;
  // A debug file (.build-id/xx/yyyy.debug) for `build_id`, or "".
  std::string DebugFile(const std::string& build_id) const;

  const LocatorOptions& options() const { return options_; }
  // One line per file skipped for another build id, or not found at all.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::vector<std::string> Candidates(const std::string& target_path,
                                      const std::string& build_id) const;

  LocatorOptions options_;
  absl::flat_hash_map<std::string, LocatedFile> located_;
  std::vector<std::string> warnings_;
};

}  // namespace pyhang::core

#endif  // PYHANG_USERSPACE_CORE_BINARY_LOCATOR_H_
