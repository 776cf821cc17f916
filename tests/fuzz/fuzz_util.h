// What every fuzzer in tests/fuzz shares: FUZZ_CHECK (an invariant the
// code promises; aborts so libFuzzer keeps the input), a deterministic
// per-input random source, a cursor over the fuzz bytes, and the
// --make-seeds=DIR mode that writes a fuzzer's seed corpus (tools/fuzz.sh
// runs it before fuzzing: seeds are made by the fixtures the unit tests
// use, never committed as binaries).
#ifndef PYHANG_TESTS_FUZZ_FUZZ_UTIL_H_
#define PYHANG_TESTS_FUZZ_FUZZ_UTIL_H_

#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "absl/strings/string_view.h"

#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      abort();                                                                      \
    }                                                                               \
  } while (0)

namespace pyhang::fuzz {

// Deterministic per input: seeded from the input's bytes only.
struct Random {
  uint64_t state;
  uint64_t Next() {  // splitmix64
    uint64_t z = (state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
};

inline uint64_t Fnv1a(absl::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325;
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3;
  return hash;
}

// Takes values off the front of the fuzz bytes; past the end every value
// is 0, so a short input is still a complete (small) description.
class Bytes {
 public:
  explicit Bytes(absl::string_view data) : data_(data) {}
  bool empty() const { return data_.empty(); }
  size_t size() const { return data_.size(); }
  uint8_t U8() {
    if (data_.empty()) return 0;
    uint8_t value = static_cast<uint8_t>(data_[0]);
    data_.remove_prefix(1);
    return value;
  }
  template <typename T>
  T Value() {
    T value{};
    size_t n = std::min(sizeof(T), data_.size());
    std::memcpy(&value, data_.data(), n);
    data_.remove_prefix(n);
    return value;
  }
  // Up to `max` bytes, the count taken from the input first.
  std::string String(size_t max) {
    size_t n = std::min<size_t>(U8() % (max + 1), data_.size());
    std::string text(data_.substr(0, n));
    data_.remove_prefix(n);
    return text;
  }
  absl::string_view Rest() const { return data_; }

 private:
  absl::string_view data_;
};

// Seeds by file name.
using Seeds = std::map<std::string, std::string>;

// If argv holds --make-seeds=DIR: writes `make()`'s seeds into DIR and
// exits (call it from LLVMFuzzerInitialize, which runs before libFuzzer
// looks at the flags).
void MakeSeedsIfAsked(int argc, char** argv, Seeds (*make)());

}  // namespace pyhang::fuzz

#endif  // PYHANG_TESTS_FUZZ_FUZZ_UTIL_H_
