#include "userspace/process/kernel_symbols.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "userspace/common/file_util.h"

namespace pyhang::process {
namespace {

constexpr size_t kMaxBytes = 64 << 20;     // kallsyms is ~10 MiB with modules
constexpr size_t kMaxSymbols = 1 << 21;

}  // namespace

KernelSymbols KernelSymbols::Parse(absl::string_view text) {
  std::vector<std::pair<uint64_t, std::string>> symbols;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (symbols.size() >= kMaxSymbols) break;
    // "ffffffff81000000 T _text" or "... t name\t[module]"
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 3 || fields[1].size() != 1) continue;
    const char type = fields[1][0];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    uint64_t address = 0;
    if (!absl::SimpleHexAtoi(fields[0], &address) || address == 0) continue;
    symbols.emplace_back(address, std::string(fields[2]));
  }
  std::sort(symbols.begin(), symbols.end());
  KernelSymbols result;
  result.addresses_.reserve(symbols.size());
  result.names_.reserve(symbols.size());
  for (auto& [address, name] : symbols) {
    result.addresses_.push_back(address);
    result.names_.push_back(std::move(name));
  }
  return result;
}

absl::StatusOr<KernelSymbols> KernelSymbols::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path, kMaxBytes);
  if (!text.ok()) return absl::UnavailableError(absl::StrCat("kernel symbols: ", text.status().message()));
  KernelSymbols symbols = Parse(*text);
  if (symbols.size() == 0) {
    return absl::UnavailableError("kernel symbols: /proc/kallsyms hides its addresses (kptr_restrict)");
  }
  return symbols;
}

std::string KernelSymbols::Name(uint64_t address) const {
  auto it = std::upper_bound(addresses_.begin(), addresses_.end(), address);
  if (it == addresses_.begin()) return "";
  return names_[static_cast<size_t>(it - addresses_.begin()) - 1];
}

}  // namespace pyhang::process
