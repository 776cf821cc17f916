#include "userspace/memory/image_reader.h"

#include <cstring>

namespace pyhang::memory {

void ImageReader::AddRegion(uint64_t address, std::string bytes) {
  regions_[address] = std::move(bytes);
}

std::string* ImageReader::FindRegion(uint64_t address, size_t size, uint64_t* region_start) {
  auto it = regions_.upper_bound(address);
  if (it == regions_.begin()) return nullptr;
  --it;
  uint64_t offset = address - it->first;
  if (offset > it->second.size() || size > it->second.size() - offset) return nullptr;
  *region_start = it->first;
  return &it->second;
}

bool ImageReader::Poke(uint64_t address, const void* data, size_t size) {
  uint64_t start = 0;
  std::string* region = FindRegion(address, size, &start);
  if (region == nullptr) return false;
  std::memcpy(region->data() + (address - start), data, size);
  return true;
}

absl::Status ImageReader::Read(uint64_t address, absl::Span<std::byte> out) {
  ++reads_;
  uint64_t start = 0;
  std::string* region = FindRegion(address, out.size(), &start);
  if (region == nullptr) return UnreadableError(address, out.size());
  std::memcpy(out.data(), region->data() + (address - start), out.size());
  return absl::OkStatus();
}

}  // namespace pyhang::memory
