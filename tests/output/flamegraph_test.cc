// The flamegraph SVG checked as parsed XML: structure, tooltips, layout and,
// for hostile names, that nothing but our own script can run.
#include "userspace/output/flamegraph.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"
#include "tests/output/mini_xml.h"
#include "tests/output/test_profiles.h"
#include "userspace/output/flamegraph_script.h"
#include "userspace/output/text_escape.h"

namespace pyhang::output {
namespace {

using ::pyhang::testing::XmlElement;
using ::testing::Contains;
using ::testing::HasSubstr;

std::unique_ptr<XmlElement> RenderAndParse(const profile::Profile& profile, const FlamegraphOptions& options) {
  absl::StatusOr<std::string> svg = RenderFlamegraphSvg(profile, options);
  EXPECT_TRUE(svg.ok()) << svg.status();
  if (!svg.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<XmlElement>> root = testing::ParseXml(*svg);
  EXPECT_TRUE(root.ok()) << root.status();
  return root.ok() ? *std::move(root) : nullptr;
}

std::vector<const XmlElement*> Frames(const XmlElement& svg) {
  std::vector<const XmlElement*> frames;
  for (const XmlElement* g : svg.FindAll("g")) {
    const std::string* cls = g->Attribute("class");
    if (cls != nullptr && *cls == "f") frames.push_back(g);
  }
  return frames;
}

std::string Title(const XmlElement& frame) { return frame.FindAll("title").at(0)->TextContent(); }

std::vector<std::string> Titles(const XmlElement& svg) {
  std::vector<std::string> titles;
  for (const XmlElement* frame : Frames(svg)) titles.push_back(Title(*frame));
  return titles;
}

double Number(const XmlElement& element, absl::string_view attribute) {
  double value = -1;
  const std::string* text = element.Attribute(attribute);
  EXPECT_TRUE(text != nullptr && absl::SimpleAtod(*text, &value)) << attribute;
  return value;
}

TEST(FlamegraphTest, TooltipsFollowFlamegraphPl) {
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), {});
  ASSERT_NE(svg, nullptr);
  EXPECT_EQ(svg->name, "svg");
  EXPECT_EQ(*svg->Attribute("width"), "1200");
  const std::vector<std::string> titles = Titles(*svg);
  EXPECT_EQ(titles.at(0), "all (15 samples, 100%)");
  EXPECT_THAT(titles, Contains("main (/home/u/app/main.py:10) (10 samples, 66.67%)"));
  EXPECT_THAT(titles, Contains("helper (/home/u/app/util.py:5) (5 samples, 33.33%)"));
  EXPECT_THAT(titles, Contains("[lock_wait] (4 samples, 26.67%)"));
  EXPECT_EQ(titles.size(), 9u);  // all + 8 distinct call paths
}

TEST(FlamegraphTest, LabelsAreShortAndTooltipsFull) {
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), {});
  ASSERT_NE(svg, nullptr);
  int checked = 0;
  for (const XmlElement* frame : Frames(*svg)) {
    const std::string title = Title(*frame);
    const std::string text = frame->FindAll("text").at(0)->TextContent();
    if (absl::StartsWith(title, "helper ")) {
      EXPECT_EQ(text, "helper (util.py:5)");  // 393 px wide: fits
      EXPECT_EQ(frame->Attribute("data-s"), nullptr);
      ++checked;
    }
    if (absl::StartsWith(title, "get ")) {
      // 157 px hold 21 characters: cut, with the whole label kept for zooming.
      EXPECT_EQ(text, "get (requests/api.p..");
      EXPECT_EQ(*frame->Attribute("data-s"), "get (requests/api.py:73)");
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

TEST(FlamegraphTest, ChildrenSitInsideParentsAndAboveThem) {
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), {});
  ASSERT_NE(svg, nullptr);
  const std::vector<const XmlElement*> frames = Frames(*svg);
  const XmlElement* root_rect = frames.at(0)->FindAll("rect").at(0);
  EXPECT_NEAR(Number(*root_rect, "width"), 1180, 0.1);
  for (const XmlElement* frame : frames) {
    const XmlElement* rect = frame->FindAll("rect").at(0);
    EXPECT_GE(Number(*rect, "x"), 10 - 1e-9);
    EXPECT_LE(Number(*rect, "x") + Number(*rect, "width"), 1190 + 0.1);
    // Not inverted: deeper frames are drawn higher up.
    EXPECT_NEAR(Number(*rect, "y"), Number(*root_rect, "y") - 16 * Number(*frame, "data-d"), 1e-9);
  }
}

TEST(FlamegraphTest, InvertedPutsRootOnTop) {
  FlamegraphOptions options;
  options.inverted = true;
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), options);
  ASSERT_NE(svg, nullptr);
  const std::vector<const XmlElement*> frames = Frames(*svg);
  const double root_y = Number(*frames.at(0)->FindAll("rect").at(0), "y");
  for (const XmlElement* frame : frames) {
    EXPECT_NEAR(Number(*frame->FindAll("rect").at(0), "y"), root_y + 16 * Number(*frame, "data-d"), 1e-9);
  }
}

TEST(FlamegraphTest, CategoriesHaveTheirOwnColours) {
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), {});
  ASSERT_NE(svg, nullptr);
  std::set<std::string> fills;
  for (const XmlElement* frame : Frames(*svg)) fills.insert(*frame->FindAll("rect").at(0)->Attribute("fill"));
  EXPECT_GE(fills.size(), 6u);
  std::vector<std::string> legend;
  for (const XmlElement* text : svg->FindAll("text")) {
    const std::string* cls = text->Attribute("class");
    if (cls != nullptr && *cls == "legend") legend.push_back(text->TextContent());
  }
  EXPECT_EQ(legend, (std::vector<std::string>{"your code", "stdlib", "site-packages", "CPython (C)", "waiting"}));
}

TEST(FlamegraphTest, TimeWeightAndOptions) {
  FlamegraphOptions options;
  options.weight = Weight::kTime;
  options.title = "cpu time";
  options.width = 600;
  options.thread_roots = true;
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), options);
  ASSERT_NE(svg, nullptr);
  EXPECT_EQ(*svg->Attribute("width"), "600");
  const std::vector<std::string> titles = Titles(*svg);
  EXPECT_EQ(titles.at(0), "all (150.00 ms, 100%)");
  EXPECT_THAT(titles, Contains("thread 102 \"worker\" (50.00 ms, 33.33%)"));
  EXPECT_EQ(svg->FindAll("title").at(0)->TextContent(), "cpu time");
}

TEST(FlamegraphTest, MinwidthDropsNarrowFrames) {
  FlamegraphOptions options;
  options.minwidth = 300;  // pixels: 1180 * 4/15 = 315 survives, 1180 * 3/15 = 236 does not
  std::unique_ptr<XmlElement> svg = RenderAndParse(testing::SmallProfile(), options);
  ASSERT_NE(svg, nullptr);
  EXPECT_EQ(Titles(*svg).size(), 7u);
}

TEST(FlamegraphTest, EmptyProfileStillRenders) {
  std::unique_ptr<XmlElement> svg = RenderAndParse(profile::Profile(), {});
  ASSERT_NE(svg, nullptr);
  EXPECT_EQ(Titles(*svg), std::vector<std::string>{"all (0 samples, 100%)"});
}

TEST(FlamegraphTest, RejectsBadOptions) {
  FlamegraphOptions options;
  options.width = 0;
  EXPECT_EQ(RenderFlamegraphSvg(testing::SmallProfile(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class HostileFlamegraphTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FlamegraphOptions options;
    options.thread_roots = true;
    absl::StatusOr<std::string> svg = RenderFlamegraphSvg(testing::HostileProfile(), options);
    ASSERT_TRUE(svg.ok()) << svg.status();
    text_ = *svg;
    absl::StatusOr<std::unique_ptr<XmlElement>> root = testing::ParseXml(text_);
    ASSERT_TRUE(root.ok()) << root.status();
    svg_ = *std::move(root);
  }

  std::string text_;
  std::unique_ptr<XmlElement> svg_;
};

TEST_F(HostileFlamegraphTest, OnlyOurElementsAndNoEventAttributes) {
  const std::set<std::string> allowed = {"svg", "title", "style", "defs", "linearGradient", "stop",
                                         "rect", "text",  "g",     "script"};
  for (const XmlElement* element : svg_->All()) {
    EXPECT_TRUE(allowed.count(element->name)) << element->name;
    for (const auto& [key, value] : element->attributes) {
      EXPECT_FALSE(absl::StartsWithIgnoreCase(key, "on")) << key << "=" << value;
      EXPECT_FALSE(absl::StrContains(absl::AsciiStrToLower(value), "javascript:")) << key << "=" << value;
    }
  }
}

TEST_F(HostileFlamegraphTest, ScriptsAreOursAlone) {
  const std::vector<const XmlElement*> scripts = svg_->FindAll("script");
  ASSERT_EQ(scripts.size(), 2u);
  EXPECT_EQ(*scripts[0]->Attribute("type"), "application/json");
  const nlohmann::json config = nlohmann::json::parse(scripts[0]->TextContent());
  for (const auto& [key, value] : config.items()) {
    EXPECT_TRUE(value.is_number() || key == "searchColor") << key;
  }
  EXPECT_EQ(scripts[1]->TextContent(), FlamegraphScript());
  EXPECT_EQ(svg_->FindAll("style").at(0)->TextContent(), FlamegraphStyle());
}

TEST_F(HostileFlamegraphTest, NamesSurviveAsText) {
  std::string all_titles;
  for (const std::string& title : Titles(*svg_)) all_titles += title + "\n";
  for (const std::string& name : testing::HostileNames()) {
    // What a reader sees: the name, with invalid UTF-8 and controls replaced.
    const std::string visible = SanitizeUtf8(name);
    if (visible.find('\x01') != std::string::npos) continue;  // checked below
    EXPECT_THAT(all_titles, HasSubstr(visible));
  }
  EXPECT_THAT(all_titles, HasSubstr("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8 \xEF\xBF\xBD control"));
  EXPECT_THAT(all_titles, HasSubstr("thread 7 \"\"><svg onload=alert(6)>\""));
  EXPECT_EQ(svg_->FindAll("title").at(0)->TextContent(), "<script>alert('title')</script>");
  EXPECT_FALSE(absl::StrContains(text_, "<script>alert"));
  EXPECT_FALSE(absl::StrContains(text_, "<img"));
}

}  // namespace
}  // namespace pyhang::output
