// Decoding ring-buffer records: variable-length stacks, bounds, unknown types.
#include <cstring>
#include <memory>
#include <vector>

#include "gtest/gtest.h"
#include "userspace/sampler/events.h"
#include "userspace/sampler/perf_events.h"

namespace pyhang::sampler {
namespace {

template <typename T>
std::vector<uint8_t> Bytes(const T& value, size_t size) {
  std::vector<uint8_t> bytes(size);
  std::memcpy(bytes.data(), &value, std::min(size, sizeof(T)));
  return bytes;
}

TEST(EventsTest, DecodesASampleWithItsFrames) {
  auto raw = std::make_unique<pyhang_sample_event>();
  raw->type = PYHANG_EVENT_SAMPLE;
  raw->pid = 10;
  raw->tid = 11;
  raw->cpu = 1;
  raw->ktime_ns = 123;
  raw->user_ip = 0x401000;
  raw->kernel_stack_id = -14;
  raw->flags = PYHANG_SAMPLE_IN_KERNEL;
  raw->stack.tstate = 0x5000;
  raw->stack.frame_count = 2;
  raw->stack.frames[0] = {0x100, 0x200, 0x300, 3, {}};
  raw->stack.frames[1] = {0x400, 0x500, 0x600, 0, {}};
  size_t size = offsetof(pyhang_sample_event, stack.frames) + 2 * sizeof(pyhang_frame);
  absl::StatusOr<Event> event = DecodeEvent(Bytes(*raw, size));
  ASSERT_TRUE(event.ok()) << event.status();
  const Sample& sample = std::get<Sample>(*event);
  EXPECT_EQ(sample.pid, 10u);
  EXPECT_EQ(sample.tid, 11u);
  EXPECT_TRUE(sample.in_kernel);
  EXPECT_EQ(sample.kernel_stack_id, -14);
  EXPECT_EQ(sample.stack.tstate, 0x5000u);
  ASSERT_EQ(sample.stack.frames.size(), 2u);
  EXPECT_EQ(sample.stack.frames[0].frame_address, 0x100u);
  EXPECT_EQ(sample.stack.frames[0].code, 0x200u);
  EXPECT_EQ(sample.stack.frames[0].instr_field, 0x300u);
  EXPECT_EQ(sample.stack.frames[0].owner, 3);
  EXPECT_EQ(sample.stack.frames[1].code, 0x500u);
}

TEST(EventsTest, RejectsARecordShorterThanItsFrameCount) {
  auto raw = std::make_unique<pyhang_sample_event>();
  raw->type = PYHANG_EVENT_SAMPLE;
  raw->stack.frame_count = 3;
  size_t size = offsetof(pyhang_sample_event, stack.frames) + 2 * sizeof(pyhang_frame);
  EXPECT_FALSE(DecodeEvent(Bytes(*raw, size)).ok());
  raw->stack.frame_count = PYHANG_MAX_FRAMES + 1;
  EXPECT_FALSE(DecodeEvent(Bytes(*raw, sizeof(*raw))).ok());
}

TEST(EventsTest, DecodesOffCpuAndExitEvents) {
  auto raw = std::make_unique<pyhang_offcpu_event>();
  raw->type = PYHANG_EVENT_OFFCPU;
  raw->tid = 7;
  raw->start_ns = 1000;
  raw->end_ns = 5000;
  raw->prev_state = 1;
  raw->syscall_nr = 202;
  raw->syscall_args[0] = 0xfeed;
  absl::StatusOr<Event> event =
      DecodeEvent(Bytes(*raw, offsetof(pyhang_offcpu_event, stack.frames)));
  ASSERT_TRUE(event.ok()) << event.status();
  const OffCpuEvent& off = std::get<OffCpuEvent>(*event);
  EXPECT_EQ(off.DurationNs(), 4000u);
  EXPECT_EQ(off.syscall_nr, 202);
  EXPECT_EQ(off.syscall_args[0], 0xfeedu);
  EXPECT_FALSE(off.still_off_cpu());
  EXPECT_FALSE(off.preempted());

  pyhang_exit_event exit{PYHANG_EVENT_THREAD_EXIT, 7, 8, PYHANG_EXIT_PROCESS, 99};
  event = DecodeEvent(Bytes(exit, sizeof(exit)));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(std::get<ThreadExit>(*event).process_exited);
  EXPECT_FALSE(std::get<ThreadExit>(*event).exec);
  EXPECT_EQ(std::get<ThreadExit>(*event).tid, 8u);

  pyhang_exit_event exec{PYHANG_EVENT_THREAD_EXIT, 7, 7, PYHANG_EXIT_PROCESS | PYHANG_EXIT_EXEC, 100};
  event = DecodeEvent(Bytes(exec, sizeof(exec)));
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(std::get<ThreadExit>(*event).process_exited);
  EXPECT_TRUE(std::get<ThreadExit>(*event).exec);
}

TEST(EventsTest, RejectsUnknownAndTruncatedRecords) {
  uint32_t type = 99;
  EXPECT_FALSE(DecodeEvent(Bytes(type, sizeof(type))).ok());
  type = PYHANG_EVENT_THREAD_EXIT;
  EXPECT_FALSE(DecodeEvent(Bytes(type, sizeof(type))).ok());
  EXPECT_FALSE(DecodeEvent({}).ok());
}

TEST(EventsTest, NamesEveryErrorCode) {
  for (uint32_t code = 0; code < PYHANG_ERROR_COUNT; ++code) {
    EXPECT_NE(ErrorName(code), "unknown_error") << code;
  }
  ErrorCounts counts;
  EXPECT_EQ(counts.ToString(), "none");
  counts.counts[PYHANG_ERR_NO_TSTATE] = 3;
  counts.counts[PYHANG_ERR_FRAME_READ] = 1;
  EXPECT_EQ(counts.ToString(), "no_tstate=3 frame_read=1");
  EXPECT_EQ(counts.Total(), 4u);
}

TEST(PerfEventsTest, JitteredPeriodsStayWithinAQuarterOfTheMeanAndAverageToIt) {
  for (uint32_t rate : {1u, 100u, 1000u, 10000u}) {
    const double mean = static_cast<double>(SamplingPeriodNs(rate));
    double sum = 0;
    const int draws = 100000;
    uint64_t random = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < draws; ++i) {
      random = random * 6364136223846793005ull + 1442695040888963407ull;
      const uint64_t period = JitteredPeriodNs(rate, random >> 1);
      EXPECT_EQ(period % 2, 1u);
      EXPECT_GE(static_cast<double>(period), 0.75 * mean - 1);
      EXPECT_LE(static_cast<double>(period), 1.25 * mean + 1);
      sum += static_cast<double>(period);
    }
    EXPECT_NEAR(sum / draws / mean, 1.0, 0.005) << rate << " Hz";
  }
}

TEST(PerfEventsTest, ParsesCpuLists) {
  EXPECT_EQ(ParseCpuList("0-3,8,10-11\n").value(), (std::vector<int>{0, 1, 2, 3, 8, 10, 11}));
  EXPECT_EQ(ParseCpuList("0").value(), std::vector<int>{0});
  EXPECT_FALSE(ParseCpuList("3-1").ok());
  EXPECT_FALSE(ParseCpuList("x").ok());
}

}  // namespace
}  // namespace pyhang::sampler
