// The one interface through which the decoder sees target memory: a live
// process, a core file, or a byte image (tests, BPF captures). The decoder
// never knows which one it has.
#ifndef PYHANG_USERSPACE_MEMORY_MEMORY_READER_H_
#define PYHANG_USERSPACE_MEMORY_MEMORY_READER_H_

#include "absl/strings/string_view.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace pyhang::memory {

class MemoryReader {
 public:
  virtual ~MemoryReader() = default;

  // Copies exactly out.size() bytes starting at `address` into `out`.
  // Errors: kOutOfRange if any byte is not mapped (the caller usually ends
  // a chain there); kUnavailable if the target is gone (abort the whole
  // walk, see IsTargetGone); kPermissionDenied.
  virtual absl::Status Read(uint64_t address, absl::Span<std::byte> out) = 0;

  // Drops cached data so later reads see the target as it is now.
  virtual void Invalidate() {}
};

// A read of unmapped or garbage memory.
absl::Status UnreadableError(uint64_t address, size_t size);
// The process behind a live reader has exited.
absl::Status TargetGoneError(absl::string_view what);
// True if `status` means the target no longer exists: stop everything.
inline bool IsTargetGone(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable;
}

template <typename T>
absl::StatusOr<T> ReadValue(MemoryReader& reader, uint64_t address) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value;
  absl::Status status = reader.Read(
      address, absl::MakeSpan(reinterpret_cast<std::byte*>(&value), sizeof(T)));
  if (!status.ok()) return status;
  return value;
}

inline absl::StatusOr<uint64_t> ReadPointer(MemoryReader& reader, uint64_t address) {
  return ReadValue<uint64_t>(reader, address);
}

// Reads `size` bytes into a new buffer.
absl::StatusOr<std::string> ReadBytes(MemoryReader& reader, uint64_t address, size_t size);

// Reads a NUL-terminated C string of at most `max_length` bytes (longer
// strings are cut). Reads in small chunks so a string near the end of a
// mapping is still found.
absl::StatusOr<std::string> ReadCString(MemoryReader& reader, uint64_t address,
                                        size_t max_length);

// Typed access into a struct already copied out of the target.
template <typename T>
T LoadAt(absl::string_view bytes, int64_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value{};
  if (offset < 0 || static_cast<size_t>(offset) + sizeof(T) > bytes.size()) return value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

}  // namespace pyhang::memory

#endif  // PYHANG_USERSPACE_MEMORY_MEMORY_READER_H_
