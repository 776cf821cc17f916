#include "gtest/gtest.h"
#include "userspace/memory/cached_reader.h"
#include "userspace/memory/image_reader.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::memory {
namespace {

// The bytes read, or the error as text: a failed read fails the
// expectation instead of dereferencing an error.
std::string BytesOr(MemoryReader& reader, uint64_t address, size_t size) {
  absl::StatusOr<std::string> bytes = ReadBytes(reader, address, size);
  return bytes.ok() ? *bytes : "<error: " + bytes.status().ToString() + ">";
}

std::string CStringOr(MemoryReader& reader, uint64_t address, size_t size) {
  absl::StatusOr<std::string> text = ReadCString(reader, address, size);
  return text.ok() ? *text : "<error: " + text.status().ToString() + ">";
}

std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i * 7 + 3);
  return bytes;
}

TEST(ImageReader, ReadsInsideRegionsOnly) {
  ImageReader image;
  image.AddRegion(0x1000, Pattern(64));
  EXPECT_EQ(BytesOr(image, 0x1010, 4), Pattern(64).substr(16, 4));
  EXPECT_EQ(ReadBytes(image, 0x1030, 32).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(ReadBytes(image, 0x0ff0, 8).ok());
  EXPECT_FALSE(ReadPointer(image, ~uint64_t{0} - 3).ok());
}

TEST(CachedReader, ReadsAcrossPagesAndFallsBackForPartialPages) {
  ImageReader image;
  // Two full pages plus a partial third one (a mapping that ends mid-page
  // cannot happen in a process, but a core segment or image can).
  image.AddRegion(0x10000, Pattern(2 * 4096 + 100));
  CachedReader cached(image, 16);
  EXPECT_EQ(BytesOr(cached, 0x10ff0, 64), Pattern(8192).substr(0xff0, 64));
  EXPECT_EQ(BytesOr(cached, 0x12000, 100), Pattern(8292).substr(8192, 100));
  EXPECT_FALSE(ReadBytes(cached, 0x12000, 101).ok());
  size_t misses = cached.misses();
  EXPECT_EQ(BytesOr(cached, 0x10000, 8), Pattern(8).substr(0, 8));
  EXPECT_EQ(cached.misses(), misses);  // served from the cache
}

TEST(CachedReader, InvalidateSeesNewData) {
  ImageReader image;
  image.AddRegion(0x10000, std::string(4096, 'a'));
  CachedReader cached(image, 4);
  EXPECT_EQ(BytesOr(cached, 0x10000, 1), "a");
  image.Poke(0x10000, "b", 1);
  EXPECT_EQ(BytesOr(cached, 0x10000, 1), "a");  // a snapshot until invalidated
  cached.Invalidate();
  EXPECT_EQ(BytesOr(cached, 0x10000, 1), "b");
}

TEST(CachedReader, StaysWithinItsPageBudget) {
  ImageReader image;
  image.AddRegion(0x100000, std::string(64 * 4096, 'x'));
  CachedReader cached(image, 8);
  for (uint64_t page = 0; page < 64; ++page) {
    ASSERT_TRUE(ReadBytes(cached, 0x100000 + page * 4096, 8).ok());
    EXPECT_LE(cached.cached_pages(), 8u);
  }
  EXPECT_EQ(cached.misses(), 64u);
}

TEST(ReadCString, StopsAtNulOrLimitAndNearUnmappedMemory) {
  ImageReader image;
  image.AddRegion(0x1000, std::string("hello\0world", 11));
  EXPECT_EQ(CStringOr(image, 0x1000, 100), "hello");
  EXPECT_EQ(CStringOr(image, 0x1006, 3), "wor");
  EXPECT_FALSE(ReadCString(image, 0x1006, 100).ok());  // runs off the region unterminated
}

}  // namespace
}  // namespace pyhang::memory
