#include "userspace/output/collapsed.h"

#include <gtest/gtest.h>

#include "tests/output/test_profiles.h"

namespace pyhang::output {
namespace {

TEST(CollapsedTest, SmallProfileExact) {
  absl::StatusOr<std::string> out = RenderCollapsed(testing::SmallProfile(), {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, testing::SmallProfileCollapsed());
}

TEST(CollapsedTest, ThreadRootsAndShortFilenames) {
  CollapsedOptions options;
  options.thread_roots = true;
  options.short_filenames = true;
  absl::StatusOr<std::string> out = RenderCollapsed(testing::SmallProfile(), options);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out,
            "thread 101 \"MainThread\";main (main.py:10);get (requests/api.py:73) 2\n"
            "thread 101 \"MainThread\";main (main.py:10);work (main.py:20) 3\n"
            "thread 101 \"MainThread\";main (main.py:10);work (main.py:20);helper (util.py:5) 5\n"
            "thread 102 \"worker\";Thread.run (threading.py:1010);Condition.wait (threading.py:320);"
            "[lock_wait] 4\n"
            "thread 102 \"worker\";Thread.run (threading.py:1010);PyObject_Call (libpython3.11.so.1.0) 1\n");
}

TEST(CollapsedTest, TimeInMilliseconds) {
  CollapsedOptions options;
  options.weight = Weight::kTime;
  options.time_unit_ns = 1'000'000;
  absl::StatusOr<std::string> out = RenderCollapsed(testing::SmallProfile(), options);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NE(out->find("helper (/home/u/app/util.py:5) 50\n"), std::string::npos) << *out;
  EXPECT_NE(out->find("PyObject_Call (libpython3.11.so.1.0) 10\n"), std::string::npos) << *out;
}

TEST(CollapsedTest, MergesEqualStacksOfDifferentThreads) {
  profile::Profile profile;
  const uint32_t f = profile.InternFrame({profile::FrameKind::kPython, "f", "a.py", 1});
  const uint32_t stack = profile.InternStack({&f, 1});
  profile.AddSample(stack, profile.InternThread(1, "a"), 2, 0);
  profile.AddSample(stack, profile.InternThread(2, "b"), 3, 0);
  EXPECT_EQ(*RenderCollapsed(profile, {}), "f (a.py:1) 5\n");
}

TEST(CollapsedTest, SeparatorsInNamesCannotSplitFrames) {
  profile::Profile profile;
  const uint32_t f = profile.InternFrame({profile::FrameKind::kPython, "a;b\nc", "x.py", 1});
  profile.AddSample(profile.InternStack({&f, 1}), profile.InternThread(1, ""), 1, 0);
  EXPECT_EQ(*RenderCollapsed(profile, {}), "a:b c (x.py:1) 1\n");
}

TEST(CollapsedTest, RejectsBrokenProfileAndZeroUnit) {
  profile::Profile profile;
  profile.AddSample(7, 0, 1, 0);  // no such stack or thread
  EXPECT_EQ(RenderCollapsed(profile, {}).status().code(), absl::StatusCode::kInvalidArgument);
  CollapsedOptions options;
  options.weight = Weight::kTime;
  options.time_unit_ns = 0;
  EXPECT_EQ(RenderCollapsed(testing::SmallProfile(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pyhang::output
