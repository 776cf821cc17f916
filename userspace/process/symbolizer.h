// Native instruction addresses of a process -> "function (object)" names,
// from the ELF symbol tables of its mapped files (as the target sees them).
// Files are opened lazily and results cached; both caches are bounded.
#ifndef PYHANG_USERSPACE_PROCESS_SYMBOLIZER_H_
#define PYHANG_USERSPACE_PROCESS_SYMBOLIZER_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/process/mapped_file.h"
#include "userspace/process/maps.h"

namespace pyhang::process {

class Symbolizer {
 public:
  static constexpr size_t kMaxFiles = 256;
  static constexpr size_t kMaxCachedAddresses = 1 << 16;

  explicit Symbolizer(pid_t pid) : pid_(pid) {}

  struct Symbol {
    std::string function;  // "" when the address has no symbol
    std::string object;    // basename of the mapped file
  };
  // The function at `address` and its file; nullopt if it is not in a
  // mapped file.
  std::optional<Symbol> Lookup(uint64_t address);

  // "take_gil", "spin_forever (libspin.so)", or "0x7f.. (libfoo.so)" when
  // the address has no symbol; "" if it is not in a mapped file.
  std::string Symbolize(uint64_t address);
  // Lookup's answer in Symbolize's words (the interpreter's own functions
  // without their file).
  static std::string Describe(const Symbol& symbol, uint64_t address);

  // Re-reads /proc/PID/maps. Symbolize() does it by itself (at most once a
  // second) when an address is outside every known mapping: the target
  // may have loaded a library since.
  void RefreshMaps();

 private:
  const MappedFile* FileFor(const MemoryMap& map);

  pid_t pid_;
  std::vector<MemoryMap> maps_;
  bool maps_loaded_ = false;
  uint64_t maps_time_ns_ = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<MappedFile>> files_;  // by path; null: unreadable
  absl::flat_hash_map<uint64_t, std::optional<Symbol>> cache_;
};

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_SYMBOLIZER_H_
