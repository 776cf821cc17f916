// The decoder over synthetic interpreters laid out by each version's table:
// it must decode good chains for every supported layout and stay within its
// bounds on cyclic and random memory.
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/fake_python.h"
#include "userspace/python/code_cache.h"
#include "userspace/python/decoder.h"

namespace pyhang::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

class DecoderTest : public ::testing::TestWithParam<int> {
 protected:
  python::PythonVersion Version() const { return *python::PythonVersion::Parse("3." + std::to_string(GetParam()) + ".1"); }
};

auto FrameIs(const std::string& function, const std::string& file, int line) {
  return ::testing::AllOf(Field(&python::PyFrame::function, function),
                          Field(&python::PyFrame::file, file), Field(&python::PyFrame::line, line));
}

TEST_P(DecoderTest, DecodesThreadsAndFramesInnermostFirst) {
  FakePython fake(Version());
  uint64_t main = fake.AddThread(0x7f0000001000, 100);
  fake.PushFrame(main, fake.Code("<module>", "/app/main.py", 40));
  fake.PushFrame(main, fake.Code("serve", "/app/server.py", 12));
  uint64_t worker = fake.AddThread(0x7f0000002000, 101);
  fake.PushFrame(worker, fake.Code("run", "/app/worker.py", 7));

  python::Decoder decoder(fake.reader(), fake.runtime());
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads({}, {});
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_EQ(threads->size(), 2u);
  // New thread states are pushed at the head: the worker comes first.
  EXPECT_EQ((*threads)[0].thread_id, 0x7f0000002000u);
  EXPECT_THAT((*threads)[0].frames, ElementsAre(FrameIs("run", "/app/worker.py", 7)));
  EXPECT_THAT((*threads)[1].frames, ElementsAre(FrameIs("serve", "/app/server.py", 12),
                                                FrameIs("<module>", "/app/main.py", 40)));
  if (GetParam() >= 11) {
    EXPECT_EQ((*threads)[1].tid, 100);
  }
  EXPECT_TRUE((*threads)[1].walk_error.empty());
}

TEST_P(DecoderTest, CyclicFrameChainEndsTheWalk) {
  FakePython fake(Version());
  uint64_t tstate = fake.AddThread(0x1000, 1);
  uint64_t bottom = fake.PushFrame(tstate, fake.Code("a", "a.py", 5));
  fake.PushFrame(tstate, fake.Code("b", "b.py", 6));
  uint64_t top = fake.PushFrame(tstate, fake.Code("c", "c.py", 7));
  fake.SetPrevious(bottom, top);  // c -> b -> a -> c -> ...

  python::Decoder decoder(fake.reader(), fake.runtime());
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads({}, {});
  ASSERT_TRUE(threads.ok()) << threads.status();
  ASSERT_EQ(threads->size(), 1u);
  EXPECT_EQ((*threads)[0].frames.size(), 3u);
  EXPECT_THAT((*threads)[0].walk_error, HasSubstr("loops"));
}

TEST_P(DecoderTest, DepthCapTruncates) {
  FakePython fake(Version());
  uint64_t tstate = fake.AddThread(0x1000, 1);
  uint64_t code = fake.Code("recurse", "r.py", 3);
  for (int i = 0; i < 50; ++i) fake.PushFrame(tstate, code);
  python::Decoder decoder(fake.reader(), fake.runtime());
  python::DecodeOptions options;
  options.walk.max_depth = 20;
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads(options, {});
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ((*threads)[0].frames.size(), 20u);
  EXPECT_TRUE((*threads)[0].truncated);
}

TEST_P(DecoderTest, CyclicThreadListEnds) {
  FakePython fake(Version());
  uint64_t first = fake.AddThread(0x1000, 1);
  uint64_t second = fake.AddThread(0x2000, 2);
  fake.PutU64(first + fake.offsets().tstate_next, second);  // second -> first -> second
  python::Decoder decoder(fake.reader(), fake.runtime());
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads({}, {});
  ASSERT_TRUE(threads.ok());
  EXPECT_EQ(threads->size(), 2u);
}

TEST_P(DecoderTest, GarbageCodePointerEndsTheChainKeepingWhatWasRead) {
  FakePython fake(Version());
  uint64_t tstate = fake.AddThread(0x1000, 1);
  uint64_t bottom = fake.PushFrame(tstate, fake.Code("good", "g.py", 9));
  fake.PushFrame(tstate, fake.Code("top", "t.py", 4));
  fake.PutU64(bottom + fake.offsets().frame_code, 0xdeadbeef0000);  // unmapped
  python::Decoder decoder(fake.reader(), fake.runtime());
  absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads({}, {});
  ASSERT_TRUE(threads.ok());
  EXPECT_THAT((*threads)[0].frames, ElementsAre(FrameIs("top", "t.py", 4)));
  EXPECT_FALSE((*threads)[0].walk_error.empty());
}

TEST_P(DecoderTest, UninitializedRuntimeIsAnError) {
  FakePython fake(Version());
  fake.PutU64(fake.runtime_address() + fake.offsets().runtime_interpreters_head, 0);
  python::Decoder decoder(fake.reader(), fake.runtime());
  EXPECT_EQ(decoder.ReadThreads({}, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Random memory: the interpreter head and every pointer-sized word of the
// heap are random; many words point back into the image so chains are long
// and cyclic. The decoder must return (ok or error) within its bounds.
TEST_P(DecoderTest, RandomMemoryStaysWithinBounds) {
  // Seeds whose garbage the decoder followed past the interpreter head
  // (so the bounds below were exercised, not just an early error).
  int followed = 0;
  size_t most_reads = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    FakePython fake(Version());
    std::mt19937_64 random(seed * 7919 + GetParam());
    const uint64_t heap = fake.Allocate(256 << 10);
    for (uint64_t at = heap; at < heap + (256 << 10); at += 8) {
      uint64_t word = random();
      if (random() % 2) word = heap + (word % (256 << 10)) / 8 * 8;  // in-image pointer
      fake.PutU64(at, word);
    }
    fake.PutU64(fake.runtime_address() + fake.offsets().runtime_interpreters_head,
                heap + (random() % (256 << 10)) / 8 * 8);
    python::Decoder decoder(fake.reader(), fake.runtime());
    python::DecodeOptions options;
    options.walk.max_depth = 256;
    options.locals = true;
    size_t reads_before = fake.reader().reads();
    absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads(options, {});
    if (threads.ok()) {
      EXPECT_LE(threads->size(), python::ThreadList::kMaxThreads);
      for (const python::PyThread& thread : *threads) {
        EXPECT_LE(thread.frames.size(), 256u);
        for (const python::PyFrame& frame : thread.frames) {
          EXPECT_LE(frame.function.size(), 4 * python::CodeCache::kMaxNameChars);
          EXPECT_LE(frame.file.size(), 4 * python::CodeCache::kMaxFilenameChars);
        }
      }
    }
    // Bounded work, not just bounded output.
    size_t reads = fake.reader().reads() - reads_before;
    EXPECT_LT(reads, 20'000'000u) << "seed " << seed;
    followed += reads > 8;
    most_reads = std::max(most_reads, reads);
  }
  EXPECT_GE(followed, 20) << "the random images mostly ended the walk at once (most reads: " << most_reads << ")";
}

// A valid image (threads, deep chains, code objects, strings, line tables)
// with random words overwritten: garbage lengths, kinds, pointers and
// cycles land in the middle of otherwise plausible structures.
TEST_P(DecoderTest, MutatedValidImageStaysWithinBounds) {
  size_t threads_seen = 0;
  size_t frames_seen = 0;
  for (uint32_t seed = 1; seed <= 150; ++seed) {
    FakePython fake(Version());
    std::vector<uint64_t> codes;
    for (int i = 0; i < 12; ++i) {
      codes.push_back(fake.Code("function_" + std::to_string(i), "/src/module.py", 10 + i));
    }
    for (int t = 0; t < 3; ++t) {
      uint64_t tstate = fake.AddThread(0x1000 * (t + 1), t + 1);
      for (int depth = 0; depth < 60; ++depth) fake.PushFrame(tstate, codes[(depth * 5 + t) % 12]);
    }
    const uint64_t used_end = fake.Allocate(8);
    std::mt19937_64 random(seed * 104729 + GetParam());
    const uint64_t span = used_end - FakePython::kBase;
    for (int i = 0; i < 40; ++i) {
      uint64_t at = FakePython::kBase + (random() % span) / 8 * 8;
      // Leave the runtime header alone so the walk reaches the mutations.
      if (at < fake.runtime_address() + 16384) continue;
      uint64_t word = random();
      switch (random() % 3) {
        case 0: word = FakePython::kBase + (word % span) / 8 * 8; break;  // plausible pointer
        case 1: word &= 0xffffffff; break;                                // small number
        default: break;                                                   // anything
      }
      fake.PutU64(at, word);
    }
    python::Decoder decoder(fake.reader(), fake.runtime());
    python::DecodeOptions options;
    options.walk.max_depth = 100;
    options.locals = true;
    absl::StatusOr<std::vector<python::PyThread>> threads = decoder.ReadThreads(options, {});
    if (!threads.ok()) continue;
    threads_seen += threads->size();
    for (const python::PyThread& thread : *threads) {
      EXPECT_LE(thread.frames.size(), 100u);
      frames_seen += thread.frames.size();
      for (const python::PyFrame& frame : thread.frames) {
        EXPECT_LE(frame.function.size(), 4 * python::CodeCache::kMaxNameChars);
      }
    }
  }
  // The mutations must leave most of the structure walkable, or this test
  // would not be exercising the walker at all.
  EXPECT_GT(threads_seen, 150u);
  EXPECT_GT(frames_seen, 5000u);
}

TEST_P(DecoderTest, CodeObjectReusedAtTheSameAddressIsDecodedAgainInTheNextEpoch) {
  FakePython fake(Version());
  uint64_t code = fake.Code("old_function", "old.py", 10);
  python::ObjectReader objects(fake.reader(), fake.runtime().offsets, fake.runtime().types);
  python::CodeCache codes(objects, fake.runtime());
  codes.BeginEpoch();
  ASSERT_EQ((*codes.Get(code))->name, "old_function");
  // The code object dies and a new one is allocated at the same address.
  fake.PutU64(code + fake.offsets().code_name, fake.Str(U"new_function"));
  fake.PutI32(code + fake.offsets().code_firstlineno, 99);
  EXPECT_EQ((*codes.Get(code))->name, "old_function") << "same epoch: the cache answers";
  codes.BeginEpoch();
  EXPECT_EQ((*codes.Get(code))->name, "new_function");
}

INSTANTIATE_TEST_SUITE_P(AllLayouts, DecoderTest, ::testing::ValuesIn(SupportedMinors()),
                         [](const auto& info) { return "py3" + std::to_string(info.param); });

}  // namespace
}  // namespace pyhang::testing
