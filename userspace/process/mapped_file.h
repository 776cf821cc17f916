// An ELF file mapped into a target, opened as the target sees it, with the
// load bias that turns its link-time addresses into target addresses.
#ifndef PYHANG_USERSPACE_PROCESS_MAPPED_FILE_H_
#define PYHANG_USERSPACE_PROCESS_MAPPED_FILE_H_

#include "absl/strings/string_view.h"
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/process/elf_file.h"
#include "userspace/process/maps.h"

namespace pyhang::process {

struct MappedFile {
  std::string target_path;  // path in the target's mount namespace
  std::string opened_path;  // what pyhang opened: /proc/PID/root/... or map_files
  uint64_t load_bias = 0;   // target address = link-time address + load_bias
  uint64_t start = 0;       // lowest mapped address of the file
  uint64_t end = 0;         // highest mapped address of the file
  std::unique_ptr<ElfFile> elf;

  std::optional<uint64_t> SymbolAddress(absl::string_view name) const {
    std::optional<ElfSymbol> symbol = elf->FindSymbol(name);
    if (!symbol) return std::nullopt;
    return symbol->value + load_bias;
  }
};

// Opens the file behind `map`: through /proc/PID/root (so container paths
// resolve) if it is still the same inode, else through
// /proc/PID/map_files (deleted or replaced binaries).
absl::StatusOr<MappedFile> OpenMappedFile(pid_t pid, const std::vector<MemoryMap>& maps,
                                          const MemoryMap& map);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_MAPPED_FILE_H_
