#include "userspace/process/mapped_file.h"

#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pyhang::process {
namespace {

bool SameFile(const std::string& path, const MemoryMap& map) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_ino) == map.inode;
}

bool SameFileAs(const MemoryMap& a, const MemoryMap& b) {
  return a.inode == b.inode && a.path == b.path;
}

}  // namespace

absl::StatusOr<MappedFile> OpenMappedFile(pid_t pid, const std::vector<MemoryMap>& maps,
                                          const MemoryMap& map) {
  MappedFile file;
  file.target_path = map.path;
  const MemoryMap* offset_zero = nullptr;
  file.start = map.start;
  file.end = map.end;
  for (const MemoryMap& other : maps) {
    if (!SameFileAs(other, map)) continue;
    file.start = std::min(file.start, other.start);
    file.end = std::max(file.end, other.end);
    if (other.offset == 0 && offset_zero == nullptr) offset_zero = &other;
  }
  if (offset_zero == nullptr) {
    return absl::NotFoundError(absl::StrCat(map.path, ": no mapping at file offset 0"));
  }
  std::string rooted = absl::StrCat("/proc/", pid, "/root", map.path);
  std::string by_mapping =
      absl::StrFormat("/proc/%d/map_files/%x-%x", pid, offset_zero->start, offset_zero->end);
  std::vector<std::string> candidates;
  if (!map.deleted && SameFile(rooted, map)) candidates.push_back(rooted);
  candidates.push_back(by_mapping);
  if (!map.deleted) candidates.push_back(rooted);  // last resort: a rebuilt file at the same path
  absl::Status last_error = absl::NotFoundError(map.path);
  for (const std::string& path : candidates) {
    absl::StatusOr<std::unique_ptr<ElfFile>> elf = ElfFile::Open(path);
    if (!elf.ok()) {
      last_error = elf.status();
      continue;
    }
    file.opened_path = path;
    file.elf = *std::move(elf);
    file.load_bias = offset_zero->start - file.elf->first_load_address();
    return file;
  }
  return last_error;
}

}  // namespace pyhang::process
