// The memory map of a process, from /proc/PID/maps.
#ifndef PYHANG_USERSPACE_PROCESS_MAPS_H_
#define PYHANG_USERSPACE_PROCESS_MAPS_H_

#include "absl/strings/string_view.h"
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pyhang::process {

struct MemoryMap {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t offset = 0;  // file offset of `start`
  bool readable = false;
  bool writable = false;
  bool executable = false;
  uint64_t inode = 0;
  std::string path;      // as the target sees it; "[heap]", "[stack]" or empty
  bool deleted = false;  // the file was deleted or replaced after mapping

  bool Contains(uint64_t address) const { return address >= start && address < end; }
  bool IsFile() const { return inode != 0 && !path.empty() && path[0] == '/'; }
};

// Parses the text of /proc/PID/maps; malformed lines are skipped.
std::vector<MemoryMap> ParseMaps(absl::string_view text);

// kNotFound if the process does not exist.
absl::StatusOr<std::vector<MemoryMap>> ReadMaps(pid_t pid);

// The mapping containing `address`, or nullptr.
const MemoryMap* FindMap(const std::vector<MemoryMap>& maps, uint64_t address);

// The last path component.
absl::string_view Basename(absl::string_view path);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_MAPS_H_
