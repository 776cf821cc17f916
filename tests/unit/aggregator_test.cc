// Samples -> profile: cpu and wall modes, idle filtering, thread roots.
#include "userspace/analysis/aggregator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pyhang::analysis {
namespace {

using ::testing::ElementsAre;
using threads::ThreadState;

constexpr uint64_t kPeriod = 10'000'000;  // 100 Hz

sampler::StackSample Sample(int64_t tid, bool on_cpu, ThreadState state, uint64_t weight_ns,
                            std::vector<std::string> functions_innermost_first) {
  sampler::StackSample sample;
  sample.tid = tid;
  sample.on_cpu = on_cpu;
  sample.state = state;
  sample.weight_ns = weight_ns;
  for (const std::string& function : functions_innermost_first) {
    python::PyFrame frame;
    frame.function = frame.qualname = function;
    frame.file = "app.py";
    frame.line = 1;
    sample.frames.push_back(frame);
  }
  return sample;
}

// "root;...;leaf" -> count, for easy expectations.
std::map<std::string, uint64_t> Stacks(const profile::Profile& profile) {
  std::map<std::string, uint64_t> stacks;
  for (const profile::SampleTotal& total : profile.samples()) {
    std::string key;
    for (uint32_t frame : profile.stacks()[total.stack]) {
      if (!key.empty()) key += ";";
      key += profile.frames()[frame].name;
    }
    stacks[key] += total.count;
  }
  return stacks;
}

class AggregatorTest : public ::testing::Test {
 protected:
  void AddAll(Aggregator& aggregator) {
    aggregator.Add(Sample(1, true, ThreadState::kRunning, kPeriod, {"compute", "main"}), "worker");
    aggregator.Add(Sample(1, false, ThreadState::kRunning, 2 * kPeriod, {"compute", "main"}), "worker");
    aggregator.Add(Sample(2, false, ThreadState::kLockWait, 3 * kPeriod, {"take", "main"}), "");
    aggregator.Add(Sample(3, false, ThreadState::kSleep, 50 * kPeriod, {"nap", "main"}), "");
  }
  profile::Profile profile_;
};

TEST_F(AggregatorTest, CpuModeKeepsOnlyOnCpuSamples) {
  Aggregator aggregator(profile_, {ProfileMode::kCpu, false, kPeriod});
  AddAll(aggregator);
  EXPECT_EQ(Stacks(profile_), (std::map<std::string, uint64_t>{{"main;compute", 1}}));
  EXPECT_EQ(aggregator.filtered(), 3u);
}

TEST_F(AggregatorTest, WallModeAddsBlockedTimeWithItsReasonButNotIdleTime) {
  Aggregator aggregator(profile_, {ProfileMode::kWall, false, kPeriod});
  AddAll(aggregator);
  aggregator.Finish();
  // Preempted time counts on the stack itself; blocked time gets a leaf.
  EXPECT_EQ(Stacks(profile_),
            (std::map<std::string, uint64_t>{{"main;compute", 3}, {"main;take;[lock_wait]", 3}}));
  EXPECT_EQ(profile_.total_time_ns(), 6 * kPeriod);
}

TEST_F(AggregatorTest, IdleIncludesSleepers) {
  Aggregator aggregator(profile_, {ProfileMode::kWall, true, kPeriod});
  AddAll(aggregator);
  aggregator.Finish();
  EXPECT_EQ(Stacks(profile_)["main;nap;[sleep]"], 50u);
}

TEST_F(AggregatorTest, ShortWaitsAddUpToTheirTimeNotToWholePeriods) {
  Aggregator aggregator(profile_, {ProfileMode::kWall, false, kPeriod});
  // 40 waits for the GIL of a quarter period each: 10 periods, not 40.
  for (int i = 0; i < 40; ++i) {
    aggregator.Add(Sample(1, false, ThreadState::kGilWait, kPeriod / 4, {"spin"}), "");
  }
  aggregator.Finish();
  EXPECT_EQ(Stacks(profile_), (std::map<std::string, uint64_t>{{"spin;[gil_wait]", 10}}));
}

TEST_F(AggregatorTest, ThreadsKeepTheNameLearnedLater) {
  Aggregator aggregator(profile_, {ProfileMode::kCpu, false, kPeriod});
  aggregator.Add(Sample(1, true, ThreadState::kRunning, kPeriod, {"compute"}), "");
  aggregator.Add(Sample(1, true, ThreadState::kRunning, kPeriod, {"compute"}), "worker");
  ASSERT_EQ(profile_.threads().size(), 1u);
  EXPECT_EQ(profile_.threads()[0].name, "worker");
  EXPECT_EQ(Stacks(profile_), (std::map<std::string, uint64_t>{{"compute", 2}}));
}

TEST_F(AggregatorTest, OnCpuWithoutPythonFramesIsNative) {
  Aggregator aggregator(profile_, {ProfileMode::kCpu, false, kPeriod});
  sampler::StackSample sample = Sample(5, true, ThreadState::kRunning, kPeriod, {});
  python::PyFrame leaf;
  leaf.kind = python::FrameKind::kNative;
  leaf.function = "compress";
  leaf.module = "libz.so.1";
  sample.native_leaf = leaf;
  aggregator.Add(sample, "");
  EXPECT_EQ(Stacks(profile_), (std::map<std::string, uint64_t>{{"compress", 1}}));
  ASSERT_EQ(profile_.frames().size(), 1u);
  EXPECT_EQ(profile_.frames()[0].kind, profile::FrameKind::kNative);
  EXPECT_EQ(profile_.frames()[0].Label(), "compress (libz.so.1)");
}

}  // namespace
}  // namespace pyhang::analysis
