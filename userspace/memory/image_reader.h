// A reader over byte images held in memory: regions built by a test, or
// memory captured elsewhere (e.g. by a BPF program). Reads that are not
// fully inside one region fail like unmapped memory.
#ifndef PYHANG_USERSPACE_MEMORY_IMAGE_READER_H_
#define PYHANG_USERSPACE_MEMORY_IMAGE_READER_H_

#include <map>
#include <string>

#include "userspace/memory/memory_reader.h"

namespace pyhang::memory {

class ImageReader : public MemoryReader {
 public:
  // Adds (or replaces) the region starting at `address`. Regions must not
  // overlap.
  void AddRegion(uint64_t address, std::string bytes);

  // Writes into an existing region (test helper); returns false if the
  // range is not inside a region.
  bool Poke(uint64_t address, const void* data, size_t size);
  template <typename T>
  bool PokeValue(uint64_t address, const T& value) {
    return Poke(address, &value, sizeof(T));
  }

  absl::Status Read(uint64_t address, absl::Span<std::byte> out) override;

  size_t reads() const { return reads_; }

 private:
  // The region containing [address, address + size), or nullptr.
  std::string* FindRegion(uint64_t address, size_t size, uint64_t* region_start);

  std::map<uint64_t, std::string> regions_;
  size_t reads_ = 0;
};

}  // namespace pyhang::memory

#endif  // PYHANG_USERSPACE_MEMORY_IMAGE_READER_H_
