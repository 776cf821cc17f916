#include "userspace/output/flamegraph_palette.h"

#include "absl/strings/str_format.h"

namespace pyhang::output {
namespace {

// Base colour and how far the hash may move each channel.
struct Hue {
  int r, g, b;
  int dr, dg, db;
};

Hue HueOf(FrameCategory category) {
  switch (category) {
    case FrameCategory::kUser: return {235, 150, 40, 20, 60, 40};     // warm yellow-orange
    case FrameCategory::kStdlib: return {90, 150, 220, 40, 40, 30};   // blue
    case FrameCategory::kLibrary: return {90, 185, 90, 50, 45, 40};   // green
    case FrameCategory::kNative: return {220, 90, 90, 35, 40, 30};    // red
    case FrameCategory::kNativeCPython: return {200, 110, 160, 30, 30, 30};  // rose
    case FrameCategory::kNativeSystem: return {160, 120, 100, 30, 25, 25};   // brown
    case FrameCategory::kKernel: return {120, 160, 170, 25, 25, 25};         // slate
    case FrameCategory::kState: return {175, 125, 220, 30, 30, 30};   // purple
    case FrameCategory::kRoot: return {185, 185, 185, 20, 20, 20};    // grey
  }
  return {200, 200, 200, 0, 0, 0};
}

uint32_t Fnv1a(absl::string_view text) {
  uint32_t hash = 2166136261u;
  for (char c : text) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 16777619u;
  }
  return hash;
}

}  // namespace

std::string FrameFill(FrameCategory category, absl::string_view name) {
  const Hue hue = HueOf(category);
  const uint32_t hash = Fnv1a(name);
  const double v1 = static_cast<double>(hash & 0xFFFF) / 0xFFFF;
  const double v2 = static_cast<double>(hash >> 16) / 0xFFFF;
  return absl::StrFormat("rgb(%d,%d,%d)", hue.r + static_cast<int>(hue.dr * v1),
                         hue.g + static_cast<int>(hue.dg * v2), hue.b + static_cast<int>(hue.db * v1));
}

std::string CategoryFill(FrameCategory category) {
  const Hue hue = HueOf(category);
  return absl::StrFormat("rgb(%d,%d,%d)", hue.r + hue.dr / 2, hue.g + hue.dg / 2, hue.b + hue.db / 2);
}

std::string WithSeparators(uint64_t value) {
  const std::string digits = absl::StrFormat("%d", value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string FormatDuration(uint64_t ns) {
  const double value = static_cast<double>(ns);
  if (ns >= 1'000'000'000) return absl::StrFormat("%.2f s", value / 1e9);
  if (ns >= 1'000'000) return absl::StrFormat("%.2f ms", value / 1e6);
  if (ns >= 1'000) return absl::StrFormat("%.2f \xC2\xB5s", value / 1e3);
  return absl::StrFormat("%d ns", ns);
}

}  // namespace pyhang::output
