#include "userspace/python/objects.h"

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/value_reader.h"

namespace pyhang::testing {
namespace {

class ObjectsTest : public ::testing::TestWithParam<int> {
 protected:
  ObjectsTest() : fake_(*python::PythonVersion::Parse("3." + std::to_string(GetParam()) + ".0")),
                  objects_(fake_.reader(), fake_.runtime().offsets, fake_.runtime().types) {}
  std::string Repr(uint64_t object) { return Read(object).repr; }
  python::PyValue Read(uint64_t object) { return python::ValueReader(objects_, limits_).Read(object); }

  FakePython fake_;
  python::ObjectReader objects_;
  python::ReprLimits limits_;
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

TEST_P(ObjectsTest, AsciiStringHoldingOtherBytesIsGarbage) {
  uint64_t str = fake_.Str(U"abc");
  fake_.PutU64(str + fake_.offsets().unicode_ascii_data, 0x00ff6261);  // "ab\xff"
  absl::StatusOr<std::string> read = objects_.ReadString(str);
  EXPECT_FALSE(read.ok()) << *read;
}

TEST_P(ObjectsTest, ReprOfScalars) {
  EXPECT_EQ(Repr(fake_.Int(0)), "0");
  EXPECT_EQ(Repr(fake_.Int(42)), "42");
  EXPECT_EQ(Repr(fake_.Int(-1234567890123)), "-1234567890123");
  EXPECT_EQ(Repr(fake_.Int(1LL << 62)), "4611686018427387904");
  EXPECT_EQ(Repr(fake_.Float(1.5)), "1.5");
  EXPECT_EQ(Repr(fake_.Str(U"it's")), "\"it's\"");
  EXPECT_EQ(Repr(fake_.Str(U"tab\there")), "'tab\\there'");
  EXPECT_EQ(Repr(fake_.Bytes(std::string("a\0\xff", 3))), "b'a\\x00\\xff'");
  EXPECT_EQ(Repr(fake_.Bytes("it's")), "b\"it's\"");
  EXPECT_EQ(Repr(fake_.Bytes("'\"")), "b'\\'\"'");
  EXPECT_EQ(Repr(fake_.runtime().types.none_object), "None");
  EXPECT_EQ(Repr(fake_.runtime().types.true_object), "True");
  EXPECT_EQ(Repr(0), "<NULL>");
  EXPECT_EQ(Repr(0xdead0000), "<unreadable at 0xdead0000>");
}

TEST_P(ObjectsTest, ContainersShowTheirContents) {
  const python::KnownTypes& types = fake_.runtime().types;
  EXPECT_EQ(Repr(fake_.List({fake_.Int(-1234), fake_.Int(5678)})), "[-1234, 5678]");
  EXPECT_EQ(Repr(fake_.Tuple({fake_.Str(U"a"), fake_.Str(U"b"), fake_.Str(U"c")})), "('a', 'b', 'c')");
  EXPECT_EQ(Repr(fake_.Tuple({fake_.Int(1)})), "(1,)");
  EXPECT_EQ(Repr(fake_.Tuple({})), "()");
  EXPECT_EQ(Repr(fake_.List({})), "[]");
  uint64_t dict = fake_.Dict({{fake_.Str(U"a"), types.false_object},
                              {fake_.Str(U"b"), fake_.Tuple({fake_.Int(1), fake_.Int(2), fake_.Int(3)})}});
  EXPECT_EQ(Repr(dict), "{'a': False, 'b': (1, 2, 3)}");
  python::PyValue value = Read(dict);
  ASSERT_EQ(value.entries.size(), 2u);
  EXPECT_EQ(value.entries[1].value.items.size(), 3u);
  EXPECT_FALSE(value.truncated);
}

TEST_P(ObjectsTest, BoundsCutItemsDepthAndLength) {
  std::vector<uint64_t> numbers;
  for (int i = 0; i < 20; ++i) numbers.push_back(fake_.Int(i));
  python::PyValue many = Read(fake_.List(numbers));
  EXPECT_EQ(many.repr, "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, ...]");
  EXPECT_TRUE(many.truncated);
  EXPECT_EQ(Repr(fake_.List({fake_.List({fake_.List({fake_.List({fake_.Int(1)})})})})), "[[[[...]]]]");
  std::vector<uint64_t> long_strings(16, fake_.Str(std::u32string(200, U'x')));
  python::PyValue wide = Read(fake_.List(long_strings));
  EXPECT_EQ(python::CodePoints(wide.repr), limits_.max_repr + 3);
  std::string whole = "[";
  for (int i = 0; i < 16; ++i) whole += (i ? ", '" : "'") + std::string(200, 'x') + "'";
  EXPECT_EQ(wide.repr, whole.substr(0, limits_.max_repr) + "...");
  limits_.max_objects = 3;
  EXPECT_EQ(Repr(fake_.List(numbers)), "[0, 1, ...]");
}

TEST_P(ObjectsTest, HostileValuesEndInAMarker) {
  // A tuple that contains itself.
  uint64_t tuple = fake_.Tuple({0});
  fake_.PutU64(tuple + fake_.offsets().tuple_items, tuple);
  EXPECT_EQ(Repr(tuple), "((...),)");
  // A list whose size is 2**60.
  uint64_t list = fake_.List({fake_.Int(1)});
  fake_.PutU64(list + fake_.offsets().varobject_size, uint64_t{1} << 60);
  EXPECT_EQ(Repr(list), absl::StrFormat("<list at 0x%x, corrupt: size 1152921504606846976 of 1 allocated>", list));
  // A dict whose keys table is garbage.
  uint64_t dict = fake_.Dict({{fake_.Str(U"a"), fake_.Int(1)}});
  uint64_t garbage = fake_.Allocate(256);
  for (int i = 0; i < 256; i += 8) fake_.PutU64(garbage + i, ~uint64_t{0});
  fake_.PutU64(dict + fake_.offsets().dict_keys, garbage);
  EXPECT_TRUE(absl::StartsWith(Repr(dict), absl::StrFormat("<dict at 0x%x, unreadable", dict))) << Repr(dict);
  // A str that claims 100 MiB: only the first max_string characters are read.
  uint64_t huge = fake_.Str(std::u32string(300, U'a'));
  fake_.PutU64(huge + fake_.offsets().unicode_length, 100 << 20);
  EXPECT_EQ(Repr(huge), "'" + std::string(256, 'a') + "'...");
  // Items that point nowhere.
  EXPECT_EQ(Repr(fake_.List({0xdead0000})), "[<unreadable at 0xdead0000>]");
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
