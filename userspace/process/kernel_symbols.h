// Kernel function names from /proc/kallsyms, for the kernel part of a
// sample's stack (record --native). Where the kernel hides its addresses
// (kptr_restrict, no CAP_SYSLOG: every address reads 0) there are none.
#ifndef PYHANG_USERSPACE_PROCESS_KERNEL_SYMBOLS_H_
#define PYHANG_USERSPACE_PROCESS_KERNEL_SYMBOLS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pyhang::process {

class KernelSymbols {
 public:
  // kUnavailable when the addresses are hidden or the file unreadable.
  static absl::StatusOr<KernelSymbols> Load(const std::string& path = "/proc/kallsyms");
  // Parses kallsyms text (for tests); at most kMaxSymbols text symbols.
  static KernelSymbols Parse(absl::string_view text);

  // The text symbol at or below `address` ("" below the first one).
  std::string Name(uint64_t address) const;
  size_t size() const { return addresses_.size(); }

 private:
  std::vector<uint64_t> addresses_;  // sorted
  std::vector<std::string> names_;
};

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_KERNEL_SYMBOLS_H_
