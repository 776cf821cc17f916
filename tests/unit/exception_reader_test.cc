// The exception a thread handles, over synthetic interpreters laid out by
// each version's table: the message rules of exception_reader.h, the chain
// in traceback's order, and bounds on cyclic, endless and garbage memory.
// (The integration test test_dump_scenarios checks the same against real
// interpreters' own traceback.)
#include "userspace/python/exception_reader.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/decoder.h"

namespace pyhang::testing {
namespace {

using python::ExceptionLine;
using python::ExceptionRelation;
using python::HandledException;

class ExceptionReaderTest : public ::testing::TestWithParam<int> {
 protected:
  ExceptionReaderTest() : fake_(*python::PythonVersion::Parse("3." + std::to_string(GetParam()) + ".1")) {
    tstate_ = fake_.AddThread(0x7000, 11);
    base_ = fake_.ExceptionType("BaseException");
    exception_ = fake_.ExceptionType("Exception", base_);
  }

  std::optional<HandledException> Read() {
    python::ObjectReader objects(fake_.reader(), fake_.offsets(), fake_.runtime().types);
    absl::StatusOr<std::optional<HandledException>> handled = python::ExceptionReader(objects, limits_).Read(tstate_);
    EXPECT_TRUE(handled.ok()) << handled.status();
    return handled.ok() ? *handled : std::nullopt;
  }

  std::vector<std::string> Lines(const HandledException& handled) {
    std::vector<std::string> lines;
    for (const python::PyExceptionLink& link : handled.chain) lines.push_back(ExceptionLine(link));
    return lines;
  }

  FakePython fake_;
  python::ReprLimits limits_;
  uint64_t tstate_ = 0;
  uint64_t base_ = 0;
  uint64_t exception_ = 0;
};

TEST_P(ExceptionReaderTest, NoExceptionHandledIsNone) {
  EXPECT_FALSE(Read().has_value());
  // An except block that finished leaves None in its item.
  fake_.HandleException(tstate_, fake_.runtime().types.none_object);
  EXPECT_FALSE(Read().has_value());
}

TEST_P(ExceptionReaderTest, MessagesFollowStrOfTheException) {
  uint64_t value_error = fake_.ExceptionType("ValueError", exception_);
  uint64_t key_error = fake_.ExceptionType("KeyError", fake_.ExceptionType("LookupError", exception_));
  struct Case {
    uint64_t exception;
    std::string line;
  } cases[] = {
      {fake_.Exception(value_error, {}), "ValueError"},
      {fake_.Exception(value_error, {fake_.Str(U"bad ü")}), "ValueError: bad ü"},
      {fake_.Exception(value_error, {fake_.Int(7)}), "ValueError: 7"},
      {fake_.Exception(value_error, {fake_.Str(U"a"), fake_.Int(3)}), "ValueError: ('a', 3)"},
      {fake_.Exception(key_error, {fake_.Str(U"k")}), "KeyError: 'k'"},
  };
  for (const Case& c : cases) {
    fake_.PutU64(tstate_ + fake_.offsets().tstate_exc_info, 0);  // a fresh exception stack
    fake_.HandleException(tstate_, c.exception);
    std::optional<HandledException> handled = Read();
    ASSERT_TRUE(handled.has_value()) << c.line;
    EXPECT_THAT(Lines(*handled), ::testing::ElementsAre(c.line));
  }
}

TEST_P(ExceptionReaderTest, OsErrorsShowErrnoStrerrorAndFileNames) {
  const python::PyOffsets& o = fake_.offsets();
  uint64_t os_error = fake_.ExceptionType("OSError", exception_);
  uint64_t refused = fake_.ExceptionType("ConnectionRefusedError", fake_.ExceptionType("ConnectionError", os_error));
  uint64_t error = fake_.Exception(refused, {fake_.Int(111), fake_.Str(U"Connection refused")});
  fake_.PutU64(error + o.oserror_errno, fake_.Int(111));
  fake_.PutU64(error + o.oserror_strerror, fake_.Str(U"Connection refused"));
  fake_.HandleException(tstate_, error);
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_THAT(Lines(*handled), ::testing::ElementsAre("ConnectionRefusedError: [Errno 111] Connection refused"));

  fake_.PutU64(error + o.oserror_filename, fake_.Str(U"/etc/x"));
  fake_.PutU64(error + o.oserror_filename2, fake_.Str(U"/etc/y"));
  handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_THAT(Lines(*handled),
              ::testing::ElementsAre("ConnectionRefusedError: [Errno 111] Connection refused: '/etc/x' -> '/etc/y'"));
}

TEST_P(ExceptionReaderTest, ChainFollowsCauseThenContextAsTracebackPrintsIt) {
  uint64_t app = fake_.ExceptionType("AppError", exception_);
  uint64_t handled_error = fake_.Exception(app, {fake_.Str(U"outer")});
  uint64_t middle = fake_.Exception(app, {fake_.Str(U"middle")});
  uint64_t root = fake_.Exception(app, {fake_.Str(U"root")});
  uint64_t hidden = fake_.Exception(app, {fake_.Str(U"hidden by from")});
  fake_.SetContext(handled_error, middle);
  fake_.SetCause(middle, root);
  fake_.SetContext(middle, hidden);  // `raise ... from` suppresses it
  fake_.HandleException(tstate_, handled_error);
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_THAT(Lines(*handled), ::testing::ElementsAre("AppError: outer", "AppError: middle", "AppError: root"));
  EXPECT_EQ(handled->chain[0].relation, ExceptionRelation::kHandled);
  EXPECT_EQ(handled->chain[1].relation, ExceptionRelation::kContext);
  EXPECT_EQ(handled->chain[2].relation, ExceptionRelation::kCause);
  EXPECT_EQ(handled->chain[2].address, root);
  EXPECT_FALSE(handled->cycle);
  EXPECT_FALSE(handled->cut);
}

TEST_P(ExceptionReaderTest, CyclicContextChainIsNamedNotFollowed) {
  uint64_t runtime_error = fake_.ExceptionType("RuntimeError", exception_);
  uint64_t first = fake_.Exception(runtime_error, {fake_.Str(U"first")});
  uint64_t second = fake_.Exception(runtime_error, {fake_.Str(U"second")});
  fake_.SetContext(first, second);
  fake_.SetContext(second, first);
  fake_.HandleException(tstate_, first);
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_THAT(Lines(*handled), ::testing::ElementsAre("RuntimeError: first", "RuntimeError: second"));
  EXPECT_TRUE(handled->cycle);
  EXPECT_EQ(handled->cycle_to, 0u);
}

TEST_P(ExceptionReaderTest, EndlessChainIsCutAtTheBound) {
  uint64_t lookup = fake_.ExceptionType("LookupError", exception_);
  uint64_t newest = 0;
  for (int i = 0; i < 2000; ++i) {  // stands for 100,000: only the bound is read
    uint64_t link = fake_.Exception(lookup, {fake_.Int(i)});
    if (newest != 0) fake_.SetContext(link, newest);
    newest = link;
  }
  fake_.HandleException(tstate_, newest);
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_EQ(handled->chain.size(), python::ExceptionReader::kMaxChain);
  EXPECT_EQ(ExceptionLine(handled->chain[0]), "LookupError: 1999");
  EXPECT_TRUE(handled->cut);
  EXPECT_FALSE(handled->cycle);
}

TEST_P(ExceptionReaderTest, InnermostItemWithAnExceptionWins) {
  uint64_t value_error = fake_.ExceptionType("ValueError", exception_);
  fake_.HandleException(tstate_, fake_.Exception(value_error, {fake_.Str(U"outer")}));
  fake_.HandleException(tstate_, 0);  // a generator running, handling nothing itself
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_THAT(Lines(*handled), ::testing::ElementsAre("ValueError: outer"));
}

TEST_P(ExceptionReaderTest, CyclicOrGarbageExceptionStackEndsQuietly) {
  const python::PyOffsets& o = fake_.offsets();
  uint64_t item = fake_.HandleException(tstate_, 0);
  fake_.PutU64(item + o.stackitem_previous, item);  // an item below itself
  EXPECT_FALSE(Read().has_value());
  // An exception slot pointing at something that is no exception.
  fake_.PutU64(item + o.stackitem_exc_value, fake_.Int(5));
  EXPECT_FALSE(Read().has_value());
  // ... or outside mapped memory.
  fake_.PutU64(item + o.stackitem_exc_value, 0xdead0000);
  EXPECT_FALSE(Read().has_value());
  // An exception whose type's name and args are unreadable.
  uint64_t error = fake_.Exception(exception_, {});
  fake_.PutU64(error + o.object_type, 0xdead0000);
  fake_.PutU64(item + o.stackitem_exc_value, error);
  EXPECT_FALSE(Read().has_value());
}

TEST_P(ExceptionReaderTest, LongMessagesAreCut) {
  limits_.max_string = 100000;
  limits_.max_repr = 50;
  fake_.HandleException(tstate_, fake_.Exception(exception_, {fake_.Str(std::u32string(5000, U'x'))}));
  std::optional<HandledException> handled = Read();
  ASSERT_TRUE(handled.has_value());
  EXPECT_EQ(handled->chain[0].message, std::string(50, 'x') + "...");
}

TEST_P(ExceptionReaderTest, DecoderFillsHandlingOnlyWhenAsked) {
  fake_.PushFrame(tstate_, fake_.Code("handler", "app.py", 10));
  fake_.HandleException(tstate_, fake_.Exception(exception_, {fake_.Str(U"boom")}));
  python::Decoder decoder(fake_.reader(), fake_.runtime());
  python::DecodeOptions options;
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads(options, {});
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_EQ(threads->size(), 1u);
  EXPECT_FALSE((*threads)[0].handling.has_value());
  options.exceptions = true;
  threads = decoder.ReadThreads(options, {});
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_TRUE((*threads)[0].handling.has_value());
  EXPECT_EQ(ExceptionLine((*threads)[0].handling->chain[0]), "Exception: boom");
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, ExceptionReaderTest, ::testing::ValuesIn(SupportedMinors()),
                         [](const ::testing::TestParamInfo<int>& info) { return "py3" + std::to_string(info.param); });

}  // namespace
}  // namespace pyhang::testing
