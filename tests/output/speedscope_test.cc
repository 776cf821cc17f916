#include "userspace/output/speedscope.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "tests/output/test_profiles.h"
#include "userspace/output/text_escape.h"

namespace pyhang::output {
namespace {

using nlohmann::json;

json Render(const profile::Profile& profile, const SpeedscopeOptions& options) {
  absl::StatusOr<std::string> out = RenderSpeedscope(profile, options);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? json::parse(*out) : json();
}

TEST(SpeedscopeTest, SharedFramesAndOneSampledProfilePerThread) {
  const profile::Profile profile = testing::SmallProfile();
  const json doc = Render(profile, {});
  EXPECT_EQ(doc["$schema"], "https://www.speedscope.app/file-format-schema.json");
  const json& frames = doc["shared"]["frames"];
  ASSERT_EQ(frames.size(), profile.frames().size());
  EXPECT_EQ(frames[0], json({{"name", "main"}, {"file", "/home/u/app/main.py"}, {"line", 10}}));
  ASSERT_EQ(doc["profiles"].size(), 2u);
  const json& main_thread = doc["profiles"][0];
  EXPECT_EQ(main_thread["type"], "sampled");
  EXPECT_EQ(main_thread["name"], "thread 101 \"MainThread\"");
  EXPECT_EQ(main_thread["unit"], "none");
  EXPECT_EQ(main_thread["startValue"], 0);
  EXPECT_EQ(main_thread["endValue"], 10);
  EXPECT_EQ(main_thread["weights"], json({5, 3, 2}));
  EXPECT_EQ(main_thread["samples"][0], json(profile.stacks()[0]));  // root first, as interned
  EXPECT_EQ(doc["profiles"][1]["endValue"], 5);
}

TEST(SpeedscopeTest, NativeAndStateFramesOmitUnknownFields) {
  const json doc = Render(testing::SmallProfile(), {});
  bool saw_state = false;
  for (const json& frame : doc["shared"]["frames"]) {
    if (frame["name"] != "[lock_wait]") continue;
    saw_state = true;
    EXPECT_FALSE(frame.contains("file"));
    EXPECT_FALSE(frame.contains("line"));
  }
  EXPECT_TRUE(saw_state);
}

TEST(SpeedscopeTest, TimeWeightsInNanoseconds) {
  SpeedscopeOptions options;
  options.weight = Weight::kTime;
  const json doc = Render(testing::SmallProfile(), options);
  EXPECT_EQ(doc["profiles"][0]["unit"], "nanoseconds");
  EXPECT_EQ(doc["profiles"][0]["endValue"], 100'000'000);
}

TEST(SpeedscopeTest, HostileNamesBecomeValidJson) {
  absl::StatusOr<std::string> out = RenderSpeedscope(testing::HostileProfile(), {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(SanitizeUtf8(*out), *out);
  const json doc = json::parse(*out);
  EXPECT_EQ(doc["shared"]["frames"][1]["name"], testing::HostileNames()[0]);
}

}  // namespace
}  // namespace pyhang::output
