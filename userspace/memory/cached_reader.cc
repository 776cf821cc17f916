#include "userspace/memory/cached_reader.h"

#include <algorithm>
#include <cstring>

namespace pyhang::memory {

CachedReader::CachedReader(MemoryReader& backing, size_t max_pages)
    : backing_(backing), max_pages_(std::max<size_t>(max_pages, 1)) {}

void CachedReader::Invalidate() {
  pages_.clear();
  last_page_ = nullptr;
  backing_.Invalidate();
}

absl::StatusOr<const CachedReader::Page*> CachedReader::GetPage(uint64_t page_address) {
  // Reads come in runs on one page (an object's fields): skip the lookup.
  if (last_page_ != nullptr && page_address == last_address_) {
    ++hits_;
    return last_page_;
  }
  if (auto it = pages_.find(page_address); it != pages_.end()) {
    ++hits_;
    last_address_ = page_address;
    last_page_ = it->second.get();
    return last_page_;
  }
  ++misses_;
  auto page = std::make_unique<Page>();
  absl::Status status = backing_.Read(page_address, absl::MakeSpan(*page));
  if (!status.ok()) {
    if (IsTargetGone(status) || status.code() == absl::StatusCode::kPermissionDenied) {
      return status;
    }
    return nullptr;  // partly mapped page: the caller reads directly
  }
  // Bounded: when full, start over. Dumps touch far fewer pages than the cap.
  if (pages_.size() >= max_pages_) pages_.clear();
  const Page* result = page.get();
  pages_.emplace(page_address, std::move(page));
  last_address_ = page_address;
  last_page_ = result;
  return result;
}

absl::Status CachedReader::Read(uint64_t address, absl::Span<std::byte> out) {
  if (address + out.size() < address) return UnreadableError(address, out.size());
  size_t done = 0;
  while (done < out.size()) {
    uint64_t cursor = address + done;
    uint64_t page_address = cursor & ~static_cast<uint64_t>(kPageSize - 1);
    size_t in_page = cursor - page_address;
    size_t chunk = std::min(out.size() - done, kPageSize - in_page);
    absl::StatusOr<const Page*> page = GetPage(page_address);
    if (!page.ok()) return page.status();
    if (*page == nullptr) return backing_.Read(cursor, out.subspan(done, chunk));
    std::memcpy(out.data() + done, (*page)->data() + in_page, chunk);
    done += chunk;
  }
  return absl::OkStatus();
}

}  // namespace pyhang::memory
