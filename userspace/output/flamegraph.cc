#include "userspace/output/flamegraph.h"

#include <algorithm>
#include <numeric>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "userspace/common/status_macros.h"
#include "userspace/output/flame_tree.h"
#include "userspace/output/flamegraph_palette.h"
#include "userspace/output/flamegraph_script.h"
#include "userspace/output/frame_style.h"
#include "userspace/output/text_escape.h"

namespace pyhang::output {
namespace {

constexpr double kXPad = 10;
constexpr int kFrameHeight = 16;
constexpr int kFramePad = 1;
constexpr int kFontSize = 12;
constexpr double kFontWidth = 0.59;  // average glyph width / font size (Verdana)
constexpr absl::string_view kSearchColor = "rgb(230,0,230)";
constexpr FrameCategory kLegendOrder[] = {FrameCategory::kUser, FrameCategory::kStdlib,
                                          FrameCategory::kLibrary, FrameCategory::kNative,
                                          FrameCategory::kNativeCPython, FrameCategory::kNativeSystem,
                                          FrameCategory::kKernel,
                                          FrameCategory::kState};

// Where things go, following flamegraph.pl's proportions plus a legend row.
struct Geometry {
  int width = 0;
  int height = 0;
  int top = 0;     // space above the frames: title, subtitle
  int bottom = 0;  // space below: details, matched, legend
  bool inverted = false;
  double scale = 0;  // pixels per value unit

  double RectY(uint32_t depth) const {
    if (inverted) return top + static_cast<double>(depth) * kFrameHeight;
    return height - bottom - static_cast<double>(depth + 1) * kFrameHeight + kFramePad;
  }
};

Geometry MakeGeometry(const FlamegraphOptions& options, bool has_subtitle, uint32_t max_depth,
                      uint64_t total) {
  Geometry geometry;
  geometry.width = options.width;
  geometry.top = kFontSize * 3 + (has_subtitle ? kFontSize * 2 : 0);
  geometry.bottom = kFontSize * 2 + 10 + 20;
  geometry.height = geometry.top + geometry.bottom + static_cast<int>(max_depth + 1) * kFrameHeight;
  geometry.inverted = options.inverted;
  geometry.scale = total == 0 ? 0 : (options.width - 2 * kXPad) / static_cast<double>(total);
  return geometry;
}

// The label drawn in a frame `width` pixels wide; the same rule as fitText()
// in the script, so a zoom out restores exactly what was drawn.
std::string FitLabel(absl::string_view label, double width) {
  const int fits = static_cast<int>((width - 3) / (kFontSize * kFontWidth));
  if (fits < 3) return "";
  if (Utf8Length(label) <= static_cast<size_t>(fits)) return std::string(label);
  return absl::StrCat(Utf8Prefix(label, fits - 2), "..");
}

class SvgWriter {
 public:
  SvgWriter(const profile::Profile& profile, const FlamegraphOptions& options, const ProfileStacks& stacks)
      : profile_(profile), options_(options), stacks_(stacks) {}

  std::string Render();

 private:
  std::string Title() const { return options_.title.empty() ? profile_.title : options_.title; }
  std::string Subtitle() const { return options_.subtitle.empty() ? profile_.subtitle : options_.subtitle; }
  std::string ValueText(uint64_t value) const;
  std::vector<uint32_t> FrameRanks() const;
  void AppendHeader();
  void AppendFrame(const FlameRect& rect);
  void AppendRect(const FlameRect& rect, absl::string_view full, absl::string_view shown,
                  absl::string_view fill);
  void AppendFooter();
  void AppendLegend();

  const profile::Profile& profile_;
  const FlamegraphOptions& options_;
  const ProfileStacks& stacks_;
  uint64_t total_ = 0;
  Geometry geometry_;
  std::set<FrameCategory> categories_seen_;  // for the legend
  std::string out_;
};

std::string SvgWriter::ValueText(uint64_t value) const {
  if (options_.weight == Weight::kTime) return FormatDuration(value);
  return absl::StrCat(WithSeparators(value), " ", options_.countname);
}

// Siblings are drawn in alphabetical order of their labels, as flamegraph.pl
// does with sorted folded input; rank[frame] is that order.
std::vector<uint32_t> SvgWriter::FrameRanks() const {
  std::vector<std::string> labels(stacks_.frame_count());
  for (uint32_t i = 0; i < labels.size(); ++i) labels[i] = stacks_.frame(i).Label();
  std::vector<uint32_t> order(labels.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return labels[a] < labels[b]; });
  std::vector<uint32_t> rank(labels.size());
  for (uint32_t i = 0; i < order.size(); ++i) rank[order[i]] = i;
  return rank;
}

void SvgWriter::AppendHeader() {
  const Geometry& g = geometry_;
  absl::StrAppendFormat(&out_,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
                        "<svg version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        "xmlns=\"http://www.w3.org/2000/svg\">\n",
                        g.width, g.height, g.width, g.height);
  absl::StrAppend(&out_, "<title>", XmlEscape(Title()), "</title>\n");
  absl::StrAppend(&out_, "<style><![CDATA[", FlamegraphStyle(), "]]></style>\n");
  absl::StrAppend(&out_,
                  "<defs><linearGradient id=\"background\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
                  "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
                  "</linearGradient></defs>\n");
  absl::StrAppendFormat(&out_, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"url(#background)\"/>\n",
                        g.width, g.height);
  absl::StrAppendFormat(&out_, "<text id=\"title\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                        g.width / 2.0, kFontSize * 2, XmlEscape(Title()));
  if (!Subtitle().empty()) {
    absl::StrAppendFormat(&out_, "<text id=\"subtitle\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                          g.width / 2.0, kFontSize * 4, XmlEscape(Subtitle()));
  }
  absl::StrAppendFormat(&out_, "<text id=\"reset\" class=\"btn hid\" x=\"%.1f\" y=\"%d\">Reset Zoom</text>\n",
                        kXPad, kFontSize * 2);
  absl::StrAppendFormat(&out_,
                        "<text id=\"search\" class=\"btn\" x=\"%.1f\" y=\"%d\" text-anchor=\"end\">Search</text>\n",
                        g.width - kXPad, kFontSize * 2);
}

void SvgWriter::AppendRect(const FlameRect& rect, absl::string_view full, absl::string_view shown,
                           absl::string_view fill) {
  const double x = kXPad + static_cast<double>(rect.offset) * geometry_.scale;
  const double width = static_cast<double>(rect.value) * geometry_.scale;
  const double y = geometry_.RectY(rect.depth);
  const std::string fitted = FitLabel(shown, width);
  absl::StrAppendFormat(&out_, "<g class=\"f\" data-o=\"%d\" data-w=\"%d\" data-d=\"%d\"", rect.offset,
                        rect.value, rect.depth);
  // The script re-fits labels on zoom; keep the whole label when cut here.
  if (fitted != shown) absl::StrAppend(&out_, " data-s=\"", XmlEscape(shown), "\"");
  const std::string percent =
      rect.depth == 0 ? "100%" : absl::StrFormat("%.2f%%", 100.0 * static_cast<double>(rect.value) / total_);
  absl::StrAppend(&out_, "><title>", XmlEscape(full), " (", XmlEscape(ValueText(rect.value)), ", ", percent,
                  ")</title>");
  absl::StrAppendFormat(&out_,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\"/>",
                        x, y, width, kFrameHeight - kFramePad, fill);
  absl::StrAppendFormat(&out_, "<text x=\"%.1f\" y=\"%.1f\">%s</text></g>\n", x + 3, y + 11.5,
                        XmlEscape(fitted));
}

void SvgWriter::AppendFrame(const FlameRect& rect) {
  if (rect.frame == FlameRect::kRootFrame) {
    AppendRect(rect, "all", "all", FrameFill(FrameCategory::kRoot, "all"));
    return;
  }
  const profile::Frame& frame = stacks_.frame(rect.frame);
  const FrameCategory category = Classify(frame);
  categories_seen_.insert(category);
  const std::string full = frame.Label();
  const std::string shown = options_.full_filenames ? full : ShortLabel(frame);
  AppendRect(rect, full, shown, FrameFill(category, full));
}

void SvgWriter::AppendLegend() {
  double x = kXPad;
  const int y = geometry_.height - 8;
  for (FrameCategory category : kLegendOrder) {
    if (!categories_seen_.count(category)) continue;
    const absl::string_view name = CategoryName(category);
    absl::StrAppendFormat(&out_, "<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>", x, y - 9,
                          CategoryFill(category));
    absl::StrAppendFormat(&out_, "<text class=\"legend\" x=\"%.1f\" y=\"%d\">%s</text>\n", x + 14, y, name);
    x += 14 + static_cast<double>(name.size()) * kFontSize * kFontWidth + 16;
  }
}

void SvgWriter::AppendFooter() {
  const int y = geometry_.height - geometry_.bottom + 20;
  absl::StrAppendFormat(&out_, "<text id=\"details\" x=\"%.1f\" y=\"%d\"> </text>\n", kXPad, y);
  absl::StrAppendFormat(&out_, "<text id=\"matched\" x=\"%.1f\" y=\"%d\" text-anchor=\"end\"> </text>\n",
                        geometry_.width - kXPad, y);
  AppendLegend();
  const nlohmann::json config = {{"total", total_},        {"width", geometry_.width},
                                 {"xpad", kXPad},          {"fontSize", kFontSize},
                                 {"fontWidth", kFontWidth}, {"searchColor", kSearchColor}};
  // JsonForMarkup keeps "]]>" and "</script>" out of the data block.
  absl::StrAppend(&out_, "<script type=\"application/json\" id=\"fg-config\"><![CDATA[",
                  JsonForMarkup(config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)),
                  "]]></script>\n");
  // Last, so every element exists when it runs.
  absl::StrAppend(&out_, "<script type=\"text/ecmascript\"><![CDATA[", FlamegraphScript(), "]]></script>\n");
  absl::StrAppend(&out_, "</svg>\n");
}

std::string SvgWriter::Render() {
  const FlameTree tree = FlameTree::Build(stacks_, options_.reverse);
  total_ = tree.total();
  const double px_per_value = total_ == 0 ? 0 : (options_.width - 2 * kXPad) / static_cast<double>(total_);
  const double min_value = px_per_value == 0 ? 0 : options_.minwidth / px_per_value;
  const std::vector<FlameRect> rects = tree.Layout(FrameRanks(), min_value);
  uint32_t max_depth = 0;
  for (const FlameRect& rect : rects) max_depth = std::max(max_depth, rect.depth);
  geometry_ = MakeGeometry(options_, !Subtitle().empty(), max_depth, total_);
  AppendHeader();
  absl::StrAppend(&out_, "<g id=\"frames\">\n");
  for (const FlameRect& rect : rects) AppendFrame(rect);
  absl::StrAppend(&out_, "</g>\n");
  AppendFooter();
  return std::move(out_);
}

absl::Status CheckOptions(const FlamegraphOptions& options) {
  if (options.width < 100 || options.width > 1'000'000) {
    return absl::InvalidArgumentError(absl::StrCat("flamegraph width ", options.width, " is not in [100, 1e6]"));
  }
  if (!(options.minwidth >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("flamegraph minwidth ", options.minwidth, " is negative"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RenderFlamegraphSvg(const profile::Profile& profile,
                                                const FlamegraphOptions& options) {
  RETURN_IF_ERROR(CheckOptions(options));
  ASSIGN_OR_RETURN(const ProfileStacks stacks,
                   ProfileStacks::Create(profile, {options.thread_roots, options.weight}));
  return SvgWriter(profile, options, stacks).Render();
}

}  // namespace pyhang::output
