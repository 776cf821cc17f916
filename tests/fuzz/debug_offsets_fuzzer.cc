// debug_offsets_fuzzer: the input is a _Py_DebugOffsets record as a
// target publishes it at the start of _PyRuntime, for Python 3.13, 3.14
// or 3.15 (the first byte picks the minor version, the second the micro;
// the rest is the record, exactly as long as the input, so a short record
// is an unreadable one). ApplyDebugOffsets validates it and lays it over
// the built-in table. Invariants: whatever it accepts leaves every offset
// it changes inside a struct of at most 1 MiB (a hostile record must not
// give the decoder negative or huge offsets, nor make a field absent,
// PYHANG_ABSENT being -1), and applying the same
// record again reports no mismatch (the target won the first time).
//
// Seeds (--make-seeds=DIR): the real records of Debian's 3.14 and 3.15
// that the unit tests forge (tests/unit/debug_offsets_fixture), a
// plausible 3.13 one, and each of them broken the ways the unit tests
// break them (cookie, version, free-threaded, sizes, a field past its
// struct, cut short).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/fuzz/fuzz_util.h"
#include "tests/unit/debug_offsets_fixture.h"
#include "userspace/memory/image_reader.h"
#include "userspace/python/debug_offsets.h"
#include "userspace/python/py_offsets.h"

namespace {

using pyhang::python::PyOffsets;
using pyhang::python::PythonVersion;

constexpr uint64_t kRuntime = 0x7f1200000000;
constexpr int32_t kMaxOffset = 1 << 20;  // debug_offsets.cc's kMaxStructSize
constexpr int kMinors[] = {13, 14, 15, 12};  // 12: no layout known

// Every int32 offset of the record (they run from runtime_interpreters_head
// to its end; what precedes them are format switches).
constexpr size_t kFirstOffset = offsetof(PyOffsets, runtime_interpreters_head);
static_assert((sizeof(PyOffsets) - kFirstOffset) % sizeof(int32_t) == 0);

std::vector<int32_t> OffsetsOf(const PyOffsets& offsets) {
  std::vector<int32_t> values((sizeof(PyOffsets) - kFirstOffset) / sizeof(int32_t));
  std::memcpy(values.data(), reinterpret_cast<const char*>(&offsets) + kFirstOffset,
              values.size() * sizeof(int32_t));
  return values;
}

PythonVersion VersionOf(uint8_t minor_byte, uint8_t micro_byte) {
  PythonVersion version;
  version.major = 3;
  version.minor = kMinors[minor_byte % std::size(kMinors)];
  version.micro = micro_byte % 16;
  return version;
}

// A 3.13 record with plausible values (no real one is in the fixture):
// every struct 4 KiB, every field at its own 8-aligned place in it.
std::map<std::string, uint64_t> Plausible313() {
  std::map<std::string, uint64_t> values;
  size_t size = 0;
  uint64_t next = 8;
  for (const auto& [name, position] : pyhang::python::DebugOffsetsFields(13, &size)) {
    bool is_size = name.size() > 5 && name.compare(name.size() - 5, 5, ".size") == 0;
    values[name] = is_size ? 4096 : (next += 8) % 4000;
  }
  return values;
}

std::string Seed(int minor, uint8_t micro, const std::string& record) {
  uint8_t index = 0;
  while (kMinors[index] != minor) ++index;
  return std::string{static_cast<char>(index), static_cast<char>(micro)} + record;
}

pyhang::fuzz::Seeds MakeSeeds() {
  pyhang::fuzz::Seeds seeds;
  for (int minor : {13, 14, 15}) {
    PythonVersion version = VersionOf(0, 2);
    version.minor = minor;
    std::map<std::string, uint64_t> values =
        minor == 13 ? Plausible313() : pyhang::testing::PublishedDebugOffsets(minor);
    auto forge = [&](uint32_t hex, bool free_threaded, const std::map<std::string, uint64_t>& v) {
      return pyhang::testing::ForgeDebugOffsets(minor, hex, free_threaded, v);
    };
    std::string good = forge(version.ToHex(), false, values);
    std::string name = absl::StrCat("3.", minor, "-");
    seeds[name + "valid"] = Seed(minor, 2, good);
    seeds[name + "valid-padded"] = Seed(minor, 2, good + std::string(64, '\0'));
    seeds[name + "cut"] = Seed(minor, 2, good.substr(0, good.size() / 2));
    std::string cookie = good;
    cookie[0] = 'X';
    seeds[name + "bad-cookie"] = Seed(minor, 2, cookie);
    seeds[name + "other-version"] = Seed(minor, 2, forge(PythonVersion::FromHex(0x031000f0).ToHex(), false, values));
    seeds[name + "free-threaded"] = Seed(minor, 2, forge(version.ToHex(), true, values));
    std::map<std::string, uint64_t> broken = values;
    broken["thread_state.size"] = 0;
    seeds[name + "size-0"] = Seed(minor, 2, forge(version.ToHex(), false, broken));
    broken = values;
    broken["thread_state.native_thread_id"] = 100000;
    seeds[name + "past-struct"] = Seed(minor, 2, forge(version.ToHex(), false, broken));
    broken = values;
    broken["unicode_object.asciiobject_size"] = uint64_t{1} << 31;
    seeds[name + "huge-derived"] = Seed(minor, 2, forge(version.ToHex(), false, broken));
  }
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  pyhang::fuzz::MakeSeedsIfAsked(*argc, *argv, MakeSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  pyhang::fuzz::Bytes input(absl::string_view(reinterpret_cast<const char*>(bytes), size));
  uint8_t minor_byte = input.U8();
  PythonVersion version = VersionOf(minor_byte, input.U8());
  std::string record(input.Rest());
  (void)pyhang::python::ParseDebugOffsetsHeader(record);

  std::optional<PyOffsets> builtin = pyhang::python::BuiltinOffsets(version);
  FUZZ_CHECK(builtin.has_value());
  pyhang::memory::ImageReader reader;
  if (!record.empty()) reader.AddRegion(kRuntime, record);
  (void)pyhang::python::ReadDebugOffsetsHeader(reader, kRuntime);

  PyOffsets offsets = *builtin;
  absl::StatusOr<std::vector<std::string>> applied =
      pyhang::python::ApplyDebugOffsets(reader, kRuntime, version, &offsets);
  if (!applied.ok()) return 0;
  FUZZ_CHECK(pyhang::python::HasDebugOffsetsLayout(version));
  std::vector<int32_t> table = OffsetsOf(*builtin), applied_offsets = OffsetsOf(offsets);
  for (size_t i = 0; i < table.size(); ++i) {
    int32_t offset = applied_offsets[i];
    if (offset != table[i] && (offset < 0 || offset > kMaxOffset)) {
      fprintf(stderr, "offset at byte %zu of PyOffsets: table %d, applied %d\n",
              kFirstOffset + 4 * i, table[i], offset);
    }
    FUZZ_CHECK(offset == table[i] || (offset >= 0 && offset <= kMaxOffset));
  }
  PyOffsets again = offsets;
  absl::StatusOr<std::vector<std::string>> reapplied =
      pyhang::python::ApplyDebugOffsets(reader, kRuntime, version, &again);
  FUZZ_CHECK(reapplied.ok() && reapplied->empty());
  FUZZ_CHECK(std::memcmp(&again, &offsets, sizeof(offsets)) == 0);
  return 0;
}
