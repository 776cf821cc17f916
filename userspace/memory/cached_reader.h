// A small page cache in front of another reader. A dump reads many small,
// neighbouring structs (frames in one data-stack chunk, code objects, their
// strings); whole-page reads turn those into a few syscalls.
//
// Cached pages are a snapshot: call Invalidate() before reading the target
// again at a later time.
#ifndef PYHANG_USERSPACE_MEMORY_CACHED_READER_H_
#define PYHANG_USERSPACE_MEMORY_CACHED_READER_H_

#include <array>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::memory {

class CachedReader : public MemoryReader {
 public:
  static constexpr size_t kPageSize = 4096;

  // `backing` must outlive this reader. At most `max_pages` are kept.
  CachedReader(MemoryReader& backing, size_t max_pages);

  absl::Status Read(uint64_t address, absl::Span<std::byte> out) override;
  void Invalidate() override;

  size_t hits() const { return hits_; }
  size_t misses() const { return misses_; }
  size_t cached_pages() const { return pages_.size(); }

 private:
  using Page = std::array<std::byte, kPageSize>;

  // The cached page starting at `page_address`, loading it on a miss;
  // nullptr if the whole page is not readable.
  absl::StatusOr<const Page*> GetPage(uint64_t page_address);

  MemoryReader& backing_;
  size_t max_pages_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Page>> pages_;
  size_t hits_ = 0;
  size_t misses_ = 0;
  uint64_t last_address_ = 0;
  const Page* last_page_ = nullptr;  // the page of the last read, owned by pages_
};

}  // namespace pyhang::memory

#endif  // PYHANG_USERSPACE_MEMORY_CACHED_READER_H_
