#include "absl/strings/string_view.h"
#include "userspace/memory/memory_reader.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pyhang::memory {

absl::Status UnreadableError(uint64_t address, size_t size) {
  return absl::OutOfRangeError(
      absl::StrFormat("cannot read %u bytes at 0x%x", size, address));
}

absl::Status TargetGoneError(absl::string_view what) {
  return absl::UnavailableError(what);
}

absl::StatusOr<std::string> ReadBytes(MemoryReader& reader, uint64_t address, size_t size) {
  std::string buffer(size, '\0');
  absl::Status status = reader.Read(
      address, absl::MakeSpan(reinterpret_cast<std::byte*>(buffer.data()), size));
  if (!status.ok()) return status;
  return buffer;
}

absl::StatusOr<std::string> ReadCString(MemoryReader& reader, uint64_t address,
                                        size_t max_length) {
  constexpr size_t kChunk = 64;
  std::string result;
  while (result.size() < max_length) {
    // Never let a chunk cross a page boundary: the next page may be unmapped.
    uint64_t cursor = address + result.size();
    size_t to_page_end = 4096 - (cursor % 4096);
    size_t chunk = std::min({kChunk, to_page_end, max_length - result.size()});
    char buffer[kChunk];
    absl::Status status = reader.Read(
        cursor, absl::MakeSpan(reinterpret_cast<std::byte*>(buffer), chunk));
    // Near the end of a region (e.g. a core file segment) read what is there.
    while (!status.ok() && chunk > 1 && status.code() == absl::StatusCode::kOutOfRange) {
      chunk /= 2;
      status = reader.Read(cursor, absl::MakeSpan(reinterpret_cast<std::byte*>(buffer), chunk));
    }
    if (!status.ok()) return status;
    for (size_t i = 0; i < chunk; ++i) {
      if (buffer[i] == '\0') return result;
      result.push_back(buffer[i]);
    }
  }
  return result;
}

}  // namespace pyhang::memory
