#include "userspace/output/speedscope.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "userspace/common/status_macros.h"
#include "userspace/output/frame_style.h"

namespace pyhang::output {
namespace {

using nlohmann::ordered_json;

ordered_json FrameJson(const profile::Frame& frame) {
  ordered_json json = {{"name", frame.name}};
  if (!frame.file.empty()) json["file"] = frame.file;
  if (frame.line > 0) json["line"] = frame.line;
  return json;
}

ordered_json ThreadProfile(const profile::Profile& profile, uint32_t thread, Weight weight) {
  ordered_json samples = ordered_json::array();
  ordered_json weights = ordered_json::array();
  uint64_t end = 0;
  for (const profile::SampleTotal& sample : profile.samples()) {
    const uint64_t value = SampleValue(sample, weight);
    if (sample.thread != thread || value == 0) continue;
    samples.push_back(profile.stacks()[sample.stack]);
    weights.push_back(value);
    end += value;
  }
  return {{"type", "sampled"},
          {"name", ThreadRootFrame(profile.threads()[thread]).name},
          {"unit", weight == Weight::kTime ? "nanoseconds" : "none"},
          {"startValue", 0},
          {"endValue", end},
          {"samples", std::move(samples)},
          {"weights", std::move(weights)}};
}

}  // namespace

absl::StatusOr<std::string> RenderSpeedscope(const profile::Profile& profile,
                                             const SpeedscopeOptions& options) {
  RETURN_IF_ERROR(ValidateProfile(profile));
  ordered_json frames = ordered_json::array();
  for (const profile::Frame& frame : profile.frames()) frames.push_back(FrameJson(frame));
  ordered_json profiles = ordered_json::array();
  for (uint32_t thread = 0; thread < profile.threads().size(); ++thread) {
    ordered_json json = ThreadProfile(profile, thread, options.weight);
    if (!json["samples"].empty()) profiles.push_back(std::move(json));
  }
  const ordered_json document = {
      {"$schema", "https://www.speedscope.app/file-format-schema.json"},
      {"name", profile.title},
      {"exporter", absl::StrCat("pyhang ", PYHANG_VERSION)},
      {"activeProfileIndex", 0},
      {"shared", {{"frames", std::move(frames)}}},
      {"profiles", std::move(profiles)},
  };
  // Names are bytes from the target: replace invalid UTF-8 instead of throwing.
  return document.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace pyhang::output
