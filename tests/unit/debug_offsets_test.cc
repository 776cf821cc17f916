// The _Py_DebugOffsets reader on forged records: the real 3.14/3.15
// values decode to working offsets, and every kind of bad record (wrong
// cookie, another version, free-threaded, impossible layout) is refused
// with one clear message instead of being read wrong.
#include "userspace/python/debug_offsets.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/debug_offsets_fixture.h"
#include "tests/unit/fake_python.h"
#include "userspace/memory/image_reader.h"
#include "userspace/python/py_offsets.h"
#include "userspace/python/versions.h"

namespace pyhang::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kRuntime = 0x500000;

absl::StatusOr<std::vector<std::string>> Apply(const std::string& record, const char* version,
                                               python::PyOffsets* offsets) {
  memory::ImageReader reader;
  reader.AddRegion(kRuntime, record + std::string(4096, '\0'));
  python::PythonVersion parsed = *python::PythonVersion::Parse(version);
  *offsets = *python::BuiltinOffsets(parsed);
  return python::ApplyDebugOffsets(reader, kRuntime, parsed, offsets);
}

class DebugOffsetsTest : public ::testing::TestWithParam<int> {
 protected:
  int minor() const { return GetParam(); }
  std::string version() const { return "3." + std::to_string(minor()) + ".2"; }
  uint32_t hex() const { return python::PythonVersion::Parse(version())->ToHex(); }
  std::map<std::string, uint64_t> published() const { return PublishedDebugOffsets(minor()); }
};

TEST_P(DebugOffsetsTest, RealRecordGivesTheTargetsOffsets) {
  python::PyOffsets offsets;
  absl::StatusOr<std::vector<std::string>> applied =
      Apply(ForgeDebugOffsets(minor(), hex(), false, published()), version().c_str(), &offsets);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->empty()) << "target-only versions have no table values to disagree with";
  EXPECT_EQ(offsets.interp_threads_head, static_cast<int32_t>(published()["interpreter_state.threads_head"]));
  EXPECT_EQ(offsets.interp_modules, static_cast<int32_t>(published()["interpreter_state.imports_modules"]));
  EXPECT_EQ(offsets.tstate_native_thread_id,
            static_cast<int32_t>(published()["thread_state.native_thread_id"]));
  EXPECT_EQ(offsets.frame_stacktop, 64);  // _PyInterpreterFrame.stackpointer
  EXPECT_EQ(offsets.tuple_items, 32);     // 3.14 added ob_hash before ob_item
  // GIL fields come relative to the interpreter and are stored relative to the GIL.
  EXPECT_EQ(offsets.gil_locked, 16);
  EXPECT_EQ(offsets.gil_last_holder, 8);
  EXPECT_EQ(offsets.unicode_compact_data, 56);
  // The exception stack: 3.14 from the table (unpublished), 3.15 derived
  // from current_exception as CPython's own reader derives it.
  if (minor() == 15) {
    EXPECT_EQ(offsets.tstate_exc_info, static_cast<int32_t>(published()["thread_state.current_exception"]) + 8);
  } else {
    EXPECT_EQ(offsets.tstate_exc_info, 120);
  }
  EXPECT_EQ(offsets.stackitem_exc_value, 0);
  EXPECT_EQ(offsets.stackitem_previous, 8);
}

TEST_P(DebugOffsetsTest, LayoutDriftInsideAMinorVersionIsFollowed) {
  // 3.14.5 moved every interpreter field after `gc` by 24 bytes: whatever
  // the target publishes wins.
  std::map<std::string, uint64_t> drifted = published();
  drifted["interpreter_state.imports_modules"] += 24;
  python::PyOffsets offsets;
  ASSERT_TRUE(Apply(ForgeDebugOffsets(minor(), hex(), false, drifted), version().c_str(), &offsets).ok());
  EXPECT_EQ(offsets.interp_modules, static_cast<int32_t>(drifted["interpreter_state.imports_modules"]));
}

TEST_P(DebugOffsetsTest, BadCookieIsRefused) {
  std::string record = ForgeDebugOffsets(minor(), hex(), false, published());
  record[0] = 'X';
  python::PyOffsets offsets;
  absl::StatusOr<std::vector<std::string>> applied = Apply(record, version().c_str(), &offsets);
  ASSERT_FALSE(applied.ok());
  EXPECT_THAT(applied.status().message(), HasSubstr("cookie"));
}

TEST_P(DebugOffsetsTest, RecordOfAnotherVersionIsRefused) {
  uint32_t other = python::PythonVersion::Parse("3.16.0")->ToHex();
  python::PyOffsets offsets;
  absl::StatusOr<std::vector<std::string>> applied =
      Apply(ForgeDebugOffsets(minor(), other, false, published()), version().c_str(), &offsets);
  ASSERT_FALSE(applied.ok());
  EXPECT_THAT(applied.status().message(), HasSubstr("3.16"));
}

TEST_P(DebugOffsetsTest, FreeThreadedRecordIsRefused) {
  python::PyOffsets offsets;
  absl::StatusOr<std::vector<std::string>> applied =
      Apply(ForgeDebugOffsets(minor(), hex(), true, published()), version().c_str(), &offsets);
  ASSERT_FALSE(applied.ok());
  EXPECT_THAT(applied.status().message(), HasSubstr("free-threaded"));
}

TEST_P(DebugOffsetsTest, ImpossibleLayoutsAreRefused) {
  struct Case {
    const char* field;
    uint64_t value;
    const char* why;
  };
  const Case cases[] = {
      {"thread_state.native_thread_id", 100000, "past the end of PyThreadState"},
      {"thread_state.native_thread_id", 161, "misaligned"},
      {"thread_state.size", 0, "a struct of size 0"},
      {"code_object.size", uint64_t{1} << 40, "an impossible struct size"},
      {"interpreter_frame.owner", 88, "owner at sizeof(frame)"},
  };
  for (const Case& c : cases) {
    std::map<std::string, uint64_t> values = published();
    values[c.field] = c.value;
    python::PyOffsets offsets;
    absl::StatusOr<std::vector<std::string>> applied =
        Apply(ForgeDebugOffsets(minor(), hex(), false, values), version().c_str(), &offsets);
    EXPECT_FALSE(applied.ok()) << c.field << " = " << c.value << " (" << c.why << ") was accepted";
    if (!applied.ok()) {
      EXPECT_THAT(applied.status().message(), HasSubstr("_Py_DebugOffsets"));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TargetOnlyVersions, DebugOffsetsTest, ::testing::Values(14, 15),
                         [](const auto& info) { return "py3" + std::to_string(info.param); });

TEST(DebugOffsets, EveryTargetOnlyVersionHasALayoutAndFixtureValues) {
  for (const python::SupportedVersion& version : python::kSupportedVersions) {
    if (version.offsets != python::OffsetsSource::kTarget) continue;
    python::PythonVersion parsed{version.major, version.minor};
    EXPECT_TRUE(python::HasDebugOffsetsLayout(parsed)) << "3." << version.minor;
    EXPECT_FALSE(PublishedDebugOffsets(version.minor).empty()) << "3." << version.minor;
  }
}

TEST(DebugOffsets, RecordSizesMatchTheHeaders) {
  // sizeof(_Py_DebugOffsets) in Debian's 3.14.10 and 3.15.2 (the record's
  // own runtime_state is at the same place in both).
  size_t size = 0;
  python::DebugOffsetsFields(14, &size);
  EXPECT_EQ(size, 760u);
  python::DebugOffsetsFields(15, &size);
  EXPECT_EQ(size, 888u);
  python::DebugOffsetsFields(13, &size);
  EXPECT_EQ(size, 584u);
}

}  // namespace
}  // namespace pyhang::testing
