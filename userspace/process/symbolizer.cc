#include "userspace/process/symbolizer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/common/clock.h"

namespace pyhang::process {
namespace {

constexpr uint64_t kMapsRefreshNs = 1'000'000'000;

}  // namespace

void Symbolizer::RefreshMaps() {
  absl::StatusOr<std::vector<MemoryMap>> maps = ReadMaps(pid_);
  if (maps.ok()) maps_ = *std::move(maps);
  maps_loaded_ = true;
  maps_time_ns_ = MonotonicNowNs();
  cache_.clear();
}

const MappedFile* Symbolizer::FileFor(const MemoryMap& map) {
  auto it = files_.find(map.path);
  if (it != files_.end()) return it->second.get();
  if (files_.size() >= kMaxFiles) return nullptr;
  absl::StatusOr<MappedFile> file = OpenMappedFile(pid_, maps_, map);
  auto& slot = files_[map.path];
  if (file.ok()) slot = std::make_unique<MappedFile>(*std::move(file));
  return slot.get();
}

std::optional<Symbolizer::Symbol> Symbolizer::Lookup(uint64_t address) {
  if (auto it = cache_.find(address); it != cache_.end()) return it->second;
  if (!maps_loaded_) RefreshMaps();
  std::optional<Symbol> result;
  const MemoryMap* map = FindMap(maps_, address);
  if (map == nullptr && MonotonicNowNs() - maps_time_ns_ > kMapsRefreshNs) {
    RefreshMaps();
    map = FindMap(maps_, address);
  }
  if (map != nullptr && map->IsFile()) {
    result = Symbol{"", std::string(Basename(map->path))};
    const MappedFile* file = FileFor(*map);
    const ElfSymbol* symbol = file ? file->elf->FunctionAt(address - file->load_bias) : nullptr;
    if (symbol != nullptr) result->function = symbol->name;
  }
  if (cache_.size() >= kMaxCachedAddresses) cache_.clear();
  if (map != nullptr) cache_[address] = result;  // unknown addresses may be mapped later
  return result;
}

std::string Symbolizer::Describe(const Symbol& symbol, uint64_t address) {
  if (symbol.function.empty()) return absl::StrFormat("0x%x (%s)", address, symbol.object);
  if (absl::StrContains(symbol.object, "python")) return symbol.function;
  return absl::StrCat(symbol.function, " (", symbol.object, ")");
}

std::string Symbolizer::Symbolize(uint64_t address) {
  std::optional<Symbol> symbol = Lookup(address);
  return symbol ? Describe(*symbol, address) : "";
}

}  // namespace pyhang::process
