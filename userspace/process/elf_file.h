// Symbols and sections of an ELF file (libelf). Used to find CPython's
// exported anchors (_PyRuntime, Py_Version, PyCode_Type, ...) in a stripped
// executable (.dynsym) or an unstripped libpython (.symtab too), and to map
// addresses back to native function names.
#ifndef PYHANG_USERSPACE_PROCESS_ELF_FILE_H_
#define PYHANG_USERSPACE_PROCESS_ELF_FILE_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/common/unique_fd.h"

namespace pyhang::process {

struct ElfSymbol {
  std::string name;
  uint64_t value = 0;  // link-time virtual address
  uint64_t size = 0;
  bool is_function = false;
};

struct ElfSection {
  std::string name;
  uint64_t address = 0;  // link-time virtual address
  uint64_t size = 0;
  uint64_t file_offset = 0;
  bool has_file_data = false;  // false for SHT_NOBITS (.bss)
};

class ElfFile {
 public:
  // Reads symbol tables and section headers eagerly, then closes nothing
  // else: an ElfFile is immutable after Open().
  static absl::StatusOr<std::unique_ptr<ElfFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }

  // Looks in .dynsym first, then .symtab.
  std::optional<ElfSymbol> FindSymbol(absl::string_view name) const;
  std::optional<ElfSection> FindSection(absl::string_view name) const;

  // The function symbol containing `address` (link-time), if any.
  const ElfSymbol* FunctionAt(uint64_t address) const;

  // Link-time vaddr that the file's offset-0 mapping corresponds to:
  // the first PT_LOAD's p_vaddr rounded down to its alignment.
  uint64_t first_load_address() const { return first_load_address_; }
  bool is_shared_object() const { return is_shared_object_; }
  const std::vector<std::string>& needed_libraries() const { return needed_; }
  bool has_symtab() const { return has_symtab_; }
  size_t symbol_count() const { return symbols_.size(); }

 private:
  ElfFile() = default;
  absl::Status Load(int fd);

  std::string path_;
  std::vector<ElfSymbol> symbols_;                         // dynsym first
  absl::flat_hash_map<std::string, size_t> by_name_;       // first occurrence
  std::vector<size_t> functions_by_address_;               // indices, sorted
  std::vector<ElfSection> sections_;
  std::vector<std::string> needed_;
  uint64_t first_load_address_ = 0;
  bool is_shared_object_ = false;
  bool has_symtab_ = false;
};

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_ELF_FILE_H_
