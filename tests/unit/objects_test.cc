#include "userspace/python/objects.h"

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_python.h"

namespace pyhang::testing {
namespace {

class ObjectsTest : public ::testing::TestWithParam<int> {
 protected:
  ObjectsTest() : fake_(*python::PythonVersion::Parse("3." + std::to_string(GetParam()) + ".0")),
                  objects_(fake_.reader(), fake_.runtime().offsets, fake_.runtime().types) {}
  FakePython fake_;
  python::ObjectReader objects_;
};

TEST_P(ObjectsTest, StringsOfEveryKindDecodeToUtf8) {
  EXPECT_EQ(*objects_.ReadString(fake_.Str(U"plain ascii")), "plain ascii");
  EXPECT_EQ(*objects_.ReadString(fake_.Str(U"caf\u00e9 \u00fcber")), "café über");       // Latin-1
  EXPECT_EQ(*objects_.ReadString(fake_.Str(U"\u540d\u524d_\u0444\u0443\u043d\u043a")), "名前_функ");  // UCS-2
  EXPECT_EQ(*objects_.ReadString(fake_.Str(U"emoji \U0001F600!")), "emoji 😀!");        // UCS-4
}

TEST_P(ObjectsTest, StringLengthIsCapped) {
  bool truncated = false;
  EXPECT_EQ(*objects_.ReadString(fake_.Str(U"abcdefgh"), 3, &truncated), "abc");
  EXPECT_TRUE(truncated);
}

TEST_P(ObjectsTest, GarbageStringHeaderIsAnError) {
  uint64_t str = fake_.Str(U"abc");
  fake_.PutU64(str + fake_.offsets().unicode_length, static_cast<uint64_t>(-5));
  EXPECT_FALSE(objects_.ReadString(str).ok());
  uint64_t wrong_type = fake_.Bytes("abc");
  EXPECT_FALSE(objects_.ReadString(wrong_type).ok());
}

TEST_P(ObjectsTest, ReprOfScalars) {
  EXPECT_EQ(objects_.Repr(fake_.Int(0)), "0");
  EXPECT_EQ(objects_.Repr(fake_.Int(42)), "42");
  EXPECT_EQ(objects_.Repr(fake_.Int(-1234567890123)), "-1234567890123");
  EXPECT_EQ(objects_.Repr(fake_.Int(1LL << 62)), "4611686018427387904");
  EXPECT_EQ(objects_.Repr(fake_.Float(1.5)), "1.5");
  EXPECT_EQ(objects_.Repr(fake_.Str(U"it's")), "\"it's\"");
  EXPECT_EQ(objects_.Repr(fake_.Str(U"tab\there")), "'tab\\there'");
  EXPECT_EQ(objects_.Repr(fake_.Bytes(std::string("a\0\xff", 3))), "b'a\\x00\\xff'");
  EXPECT_EQ(objects_.Repr(fake_.Bytes("it's")), "b\"it's\"");
  EXPECT_EQ(objects_.Repr(fake_.Bytes("'\"")), "b'\\'\"'");
  EXPECT_EQ(objects_.Repr(fake_.runtime().types.none_object), "None");
  EXPECT_EQ(objects_.Repr(0), "<NULL>");
  EXPECT_EQ(objects_.Repr(0xdead0000), "<unreadable at 0xdead0000>");
}

TEST_P(ObjectsTest, ReprOfContainerShowsTypeAndLength) {
  uint64_t tuple = fake_.Tuple({fake_.Int(1), fake_.Int(2)});
  EXPECT_EQ(objects_.Repr(tuple), absl::StrFormat("<tuple at 0x%x len=2>", tuple));
}

TEST_P(ObjectsTest, TupleItems) {
  uint64_t one = fake_.Int(1);
  uint64_t two = fake_.Int(2);
  EXPECT_EQ(*objects_.ReadTupleItems(fake_.Tuple({one, two}), 10), (std::vector<uint64_t>{one, two}));
  EXPECT_EQ(objects_.ReadTupleItems(fake_.Tuple({one, two}), 1)->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, ObjectsTest, ::testing::ValuesIn(SupportedMinors()),
                         [](const auto& info) { return "py3" + std::to_string(info.param); });

TEST(PythonFloatRepr, FollowsPythonsShortReprRules) {
  EXPECT_EQ(python::PythonFloatRepr(0.0), "0.0");
  EXPECT_EQ(python::PythonFloatRepr(-0.0), "-0.0");
  EXPECT_EQ(python::PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(python::PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(python::PythonFloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(python::PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(python::PythonFloatRepr(1e-05), "1e-05");
  EXPECT_EQ(python::PythonFloatRepr(1.5e-07), "1.5e-07");
  EXPECT_EQ(python::PythonFloatRepr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(python::PythonFloatRepr(-2.5), "-2.5");
  EXPECT_EQ(python::PythonFloatRepr(1.0 / 0.0), "inf");
}

}  // namespace
}  // namespace pyhang::testing
