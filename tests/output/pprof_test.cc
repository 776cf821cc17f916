// pprof round trip through an independent decoder: the structure
// profile.proto requires, and totals equal to the collapsed output's.
#include "collectors/pprof/pprof_writer.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/output/pprof_decoder.h"
#include "tests/output/test_profiles.h"
#include "userspace/output/collapsed.h"
#include "userspace/output/text_escape.h"

namespace pyhang::collectors {
namespace {

using testing::PprofProfile;

PprofProfile RoundTrip(const profile::Profile& profile) {
  absl::StatusOr<std::string> file = RenderPprof(profile);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return {};
  EXPECT_EQ(file->substr(0, 2), "\x1f\x8b");  // gzip magic
  absl::StatusOr<std::string> raw = testing::Gunzip(*file);
  EXPECT_TRUE(raw.ok()) << raw.status();
  absl::StatusOr<PprofProfile> decoded = testing::DecodePprof(raw.ok() ? *raw : "");
  EXPECT_TRUE(decoded.ok()) << decoded.status();
  return decoded.ok() ? *decoded : PprofProfile{};
}

std::map<std::string, int64_t> ParseCollapsed(const std::string& text) {
  std::map<std::string, int64_t> totals;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    const size_t space = line.rfind(' ');
    int64_t count = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(space + 1), &count)) << line;
    totals[std::string(line.substr(0, space))] += count;
  }
  return totals;
}

TEST(PprofTest, TotalsMatchCollapsedOutput) {
  const profile::Profile profile = testing::SmallProfile();
  const PprofProfile decoded = RoundTrip(profile);
  EXPECT_EQ(decoded.FoldedTotals(0), ParseCollapsed(*output::RenderCollapsed(profile, {})));
  output::CollapsedOptions by_time;
  by_time.weight = output::Weight::kTime;
  by_time.time_unit_ns = 1;
  EXPECT_EQ(decoded.FoldedTotals(1), ParseCollapsed(*output::RenderCollapsed(profile, by_time)));
}

TEST(PprofTest, HeaderFields) {
  const profile::Profile profile = testing::SmallProfile();
  const PprofProfile p = RoundTrip(profile);
  ASSERT_FALSE(p.strings.empty());
  EXPECT_EQ(p.strings[0], "");
  ASSERT_EQ(p.sample_types.size(), 2u);
  EXPECT_EQ(p.strings.at(p.sample_types[0].type), "samples");
  EXPECT_EQ(p.strings.at(p.sample_types[0].unit), "count");
  EXPECT_EQ(p.strings.at(p.sample_types[1].type), "cpu");
  EXPECT_EQ(p.strings.at(p.sample_types[1].unit), "nanoseconds");
  EXPECT_EQ(p.strings.at(p.period_type.type), "cpu");
  EXPECT_EQ(p.period, 10'000'000);
  EXPECT_EQ(p.time_nanos, static_cast<int64_t>(profile.start_time_ns));
  EXPECT_EQ(p.duration_nanos, 1'000'000'000);
  ASSERT_EQ(p.comments.size(), 2u);
  EXPECT_EQ(p.strings.at(p.comments[0]), "pyhang test");
}

TEST(PprofTest, IdsAreNonZeroUniqueAndResolve) {
  const PprofProfile p = RoundTrip(testing::SmallProfile());
  std::set<uint64_t> location_ids, function_ids;
  for (const auto& f : p.functions) {
    EXPECT_NE(f.id, 0u);
    EXPECT_TRUE(function_ids.insert(f.id).second);
    EXPECT_EQ(p.strings.at(f.system_name), p.strings.at(f.name));
  }
  for (const auto& location : p.locations) {
    EXPECT_NE(location.id, 0u);
    EXPECT_TRUE(location_ids.insert(location.id).second);
    ASSERT_EQ(location.lines.size(), 1u);
    EXPECT_TRUE(function_ids.count(location.lines[0].function_id));
  }
  for (const auto& sample : p.samples) {
    EXPECT_EQ(sample.values.size(), 2u);
    for (uint64_t id : sample.location_ids) EXPECT_TRUE(location_ids.count(id));
  }
  EXPECT_EQ(p.functions.size(), 8u);  // main and work share a file, not a function
}

TEST(PprofTest, LeafFirstWithThreadLabels) {
  const PprofProfile p = RoundTrip(testing::SmallProfile());
  const auto& first = p.samples.at(0);  // main;work;helper in thread 101
  ASSERT_EQ(first.location_ids.size(), 3u);
  EXPECT_EQ(first.location_ids.front(), 3u);  // helper: frame 2, id 3
  EXPECT_EQ(first.location_ids.back(), 1u);   // main
  std::map<std::string, std::string> labels;
  for (const auto& label : first.labels) {
    labels[p.strings.at(label.key)] = label.str != 0 ? p.strings.at(label.str) : std::to_string(label.num);
  }
  EXPECT_EQ(labels, (std::map<std::string, std::string>{{"thread_id", "101"}, {"thread_name", "MainThread"}}));
}

TEST(PprofTest, HostileStringsAreValidUtf8) {
  const PprofProfile p = RoundTrip(testing::HostileProfile());
  for (const std::string& s : p.strings) EXPECT_EQ(output::SanitizeUtf8(s), s);
  int64_t total = 0;
  for (const auto& sample : p.samples) total += sample.values.at(0);
  EXPECT_EQ(total, 130);
}

TEST(PprofTest, RejectsBrokenProfile) {
  profile::Profile profile;
  profile.AddSample(3, 0, 1, 0);
  EXPECT_EQ(RenderPprof(profile).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pyhang::collectors
