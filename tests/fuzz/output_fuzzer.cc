// output_fuzzer: the profile writers of `pyhang record` (collapsed,
// speedscope, flamegraph SVG, pprof) over a profile the fuzz bytes
// describe: the options, up to 24 frames of every kind with any bytes as
// name and file (markup, quotes, CDATA and comment ends, invalid UTF-8,
// control characters), up to 6 threads with any names, a title and a
// subtitle, and up to 64 samples whose stacks are any sequence of those
// frames, with any counts and times.
//
// Each output is checked as its reader will read it, where that is cheap:
// collapsed lines are "stack N" with N > 0 and, weighted by samples, add
// up to the samples of non-empty stacks; speedscope is JSON whose every
// sample names an existing frame and has a weight; the SVG parses as XML
// (tests/output/mini_xml, which rejects what a browser rejects) and has
// exactly the writer's own two <script>s, no other; the pprof file gunzips and
// decodes (tests/output/pprof_decoder) with one sample per profile sample
// and every string, location and function reference in range.
//
// Seeds (--make-seeds=DIR): the output tests' own profiles
// (tests/output/test_profiles: the small one and the hostile one), an
// empty one, and one with every frame kind.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "collectors/pprof/pprof_writer.h"
#include "nlohmann/json.hpp"
#include "tests/fuzz/fuzz_util.h"
#include "tests/output/mini_xml.h"
#include "tests/output/pprof_decoder.h"
#include "tests/output/test_profiles.h"
#include "userspace/output/collapsed.h"
#include "userspace/output/flamegraph.h"
#include "userspace/output/speedscope.h"
#include "userspace/profile/profile.h"

namespace {

using pyhang::fuzz::Bytes;
using pyhang::output::Weight;
using pyhang::profile::Frame;
using pyhang::profile::FrameKind;
using pyhang::profile::Profile;

constexpr size_t kMaxFrames = 24;
constexpr size_t kMaxThreads = 6;
constexpr size_t kMaxSamples = 64;
constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxName = 48;

// Option bits of the input's first byte.
enum : uint8_t {
  kThreadRoots = 1,
  kShortFilenames = 2,
  kWeightTime = 4,
  kInverted = 8,
  kReverse = 16,
  kWallMode = 32,
};

// The profile and the options the input describes.
struct Input {
  uint8_t options = 0;
  Profile profile;
};

// Writes what Parse() reads: the seeds' way from a Profile to bytes.
class Encoder {
 public:
  void U8(uint8_t value) { out_ += static_cast<char>(value); }
  template <typename T>
  void Value(T value) { out_.append(reinterpret_cast<const char*>(&value), sizeof(value)); }
  void String(const std::string& text) {
    std::string cut = text.substr(0, kMaxName);
    U8(static_cast<uint8_t>(cut.size()));
    out_ += cut;
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

Input Parse(Bytes& in) {
  Input input;
  Profile& profile = input.profile;
  input.options = in.U8();
  profile.wall_mode = input.options & kWallMode;
  profile.title = in.String(kMaxName);
  profile.subtitle = in.String(kMaxName);
  profile.sample_period_ns = in.Value<uint32_t>();
  std::vector<uint32_t> frames;
  for (size_t n = 1 + in.U8() % kMaxFrames; n > 0; --n) {
    Frame frame;
    frame.kind = static_cast<FrameKind>(in.U8() % 6);
    frame.name = in.String(kMaxName);
    frame.file = in.String(kMaxName);
    frame.line = in.Value<int16_t>();
    frames.push_back(profile.InternFrame(frame));
  }
  std::vector<uint32_t> threads;
  for (size_t n = 1 + in.U8() % kMaxThreads; n > 0; --n) {
    int64_t tid = in.Value<int32_t>();
    threads.push_back(profile.InternThread(tid, in.String(kMaxName)));
  }
  for (size_t n = 0; n < kMaxSamples && !in.empty(); ++n) {
    std::vector<uint32_t> stack;
    for (size_t depth = in.U8() % kMaxDepth; depth > 0; --depth) stack.push_back(frames[in.U8() % frames.size()]);
    uint32_t thread = threads[in.U8() % threads.size()];
    uint64_t count = in.Value<uint16_t>();
    uint64_t time_ns = in.Value<uint32_t>();
    profile.AddSample(profile.InternStack(stack), thread, count, time_ns);
  }
  return input;
}

// A profile as Parse() reads it back (names and counts cut to the bounds).
std::string Encode(const Profile& profile, uint8_t options) {
  Encoder out;
  out.U8(options);
  out.String(profile.title);
  out.String(profile.subtitle);
  out.Value<uint32_t>(static_cast<uint32_t>(profile.sample_period_ns));
  size_t frames = std::min(profile.frames().size(), kMaxFrames);
  out.U8(static_cast<uint8_t>(frames - 1));
  for (size_t i = 0; i < frames; ++i) {
    const Frame& frame = profile.frames()[i];
    out.U8(static_cast<uint8_t>(frame.kind));
    out.String(frame.name);
    out.String(frame.file);
    out.Value<int16_t>(static_cast<int16_t>(frame.line));
  }
  size_t threads = std::min(profile.threads().size(), kMaxThreads);
  out.U8(static_cast<uint8_t>(threads - 1));
  for (size_t i = 0; i < threads; ++i) {
    out.Value<int32_t>(static_cast<int32_t>(profile.threads()[i].tid));
    out.String(profile.threads()[i].name);
  }
  for (const pyhang::profile::SampleTotal& sample : profile.samples()) {
    const std::vector<uint32_t>& stack = profile.stacks()[sample.stack];
    out.U8(static_cast<uint8_t>(std::min(stack.size(), kMaxDepth - 1)));
    for (size_t i = 0; i < stack.size() && i < kMaxDepth - 1; ++i) out.U8(static_cast<uint8_t>(stack[i]));
    out.U8(static_cast<uint8_t>(sample.thread));
    out.Value<uint16_t>(static_cast<uint16_t>(sample.count));
    out.Value<uint32_t>(static_cast<uint32_t>(sample.time_ns));
  }
  return out.Take();
}

void CheckCollapsed(const Input& input) {
  pyhang::output::CollapsedOptions options;
  options.thread_roots = input.options & kThreadRoots;
  options.short_filenames = input.options & kShortFilenames;
  options.weight = (input.options & kWeightTime) ? Weight::kTime : Weight::kSamples;
  absl::StatusOr<std::string> text = pyhang::output::RenderCollapsed(input.profile, options);
  FUZZ_CHECK(text.ok());
  uint64_t total = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    size_t space = line.rfind(' ');
    FUZZ_CHECK(space != absl::string_view::npos);  // (a frame may have an empty label)
    uint64_t value = 0;
    FUZZ_CHECK(absl::SimpleAtoi(line.substr(space + 1), &value) && value > 0);
    FUZZ_CHECK(line.find('\r') == absl::string_view::npos);
    total += value;
  }
  FUZZ_CHECK(text->empty() || text->back() == '\n');
  if (options.weight != Weight::kSamples) return;
  uint64_t expected = 0;
  for (const auto& sample : input.profile.samples()) {
    if (!input.profile.stacks()[sample.stack].empty() || options.thread_roots) expected += sample.count;
  }
  FUZZ_CHECK(total == expected);
}

void CheckSpeedscope(const Input& input) {
  pyhang::output::SpeedscopeOptions options;
  options.weight = (input.options & kWeightTime) ? Weight::kTime : Weight::kSamples;
  absl::StatusOr<std::string> text = pyhang::output::RenderSpeedscope(input.profile, options);
  FUZZ_CHECK(text.ok());
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!json.is_discarded());
  const nlohmann::json& frames = json["shared"]["frames"];
  FUZZ_CHECK(frames.is_array());
  FUZZ_CHECK(json["profiles"].is_array());
  for (const nlohmann::json& profile : json["profiles"]) {
    FUZZ_CHECK(profile.contains("samples") && profile.contains("weights"));
    FUZZ_CHECK(profile["samples"].size() == profile["weights"].size());
    for (const nlohmann::json& sample : profile["samples"]) {
      for (const nlohmann::json& index : sample) {
        FUZZ_CHECK(index.is_number_unsigned() && index.get<size_t>() < frames.size());
      }
    }
  }
}

void CheckFlamegraph(const Input& input) {
  pyhang::output::FlamegraphOptions options;
  options.thread_roots = input.options & kThreadRoots;
  options.full_filenames = !(input.options & kShortFilenames);
  options.weight = (input.options & kWeightTime) ? Weight::kTime : Weight::kSamples;
  options.inverted = input.options & kInverted;
  options.reverse = input.options & kReverse;
  absl::StatusOr<std::string> svg = pyhang::output::RenderFlamegraphSvg(input.profile, options);
  FUZZ_CHECK(svg.ok());
  absl::StatusOr<std::unique_ptr<pyhang::testing::XmlElement>> document = pyhang::testing::ParseXml(*svg);
  if (!document.ok()) fprintf(stderr, "SVG does not parse: %s\n", std::string(document.status().message()).c_str());
  FUZZ_CHECK(document.ok());
  FUZZ_CHECK((*document)->name == "svg");
  // The writer's two scripts (its JSON data block and its code), no other:
  // no name from the profile became markup.
  std::vector<const pyhang::testing::XmlElement*> scripts = (*document)->FindAll("script");
  FUZZ_CHECK(scripts.size() == 2);
  for (const pyhang::testing::XmlElement* script : scripts) {
    const std::string* type = script->Attribute("type");
    FUZZ_CHECK(type != nullptr && (*type == "application/json" || *type == "text/ecmascript"));
  }
}

void CheckPprof(const Input& input) {
  absl::StatusOr<std::string> gzipped = pyhang::collectors::RenderPprof(input.profile);
  FUZZ_CHECK(gzipped.ok());
  absl::StatusOr<std::string> raw = pyhang::testing::Gunzip(*gzipped);
  FUZZ_CHECK(raw.ok());
  absl::StatusOr<pyhang::testing::PprofProfile> pprof = pyhang::testing::DecodePprof(*raw);
  FUZZ_CHECK(pprof.ok());
  FUZZ_CHECK(pprof->samples.size() == input.profile.samples().size());
  const int64_t strings = static_cast<int64_t>(pprof->strings.size());
  FUZZ_CHECK(strings > 0 && pprof->strings[0].empty());
  auto in_range = [&](int64_t index) { return index >= 0 && index < strings; };
  for (const auto& function : pprof->functions) {
    FUZZ_CHECK(in_range(function.name) && in_range(function.system_name) && in_range(function.filename));
  }
  for (const auto& location : pprof->locations) {
    for (const auto& line : location.lines) FUZZ_CHECK(line.function_id >= 1 && line.function_id <= pprof->functions.size());
  }
  for (const auto& sample : pprof->samples) {
    for (uint64_t id : sample.location_ids) FUZZ_CHECK(id >= 1 && id <= pprof->locations.size());
    for (const auto& label : sample.labels) FUZZ_CHECK(in_range(label.key) && in_range(label.str));
  }
}

Profile EveryKind() {
  Profile profile;
  std::vector<uint32_t> stack;
  for (int kind = 0; kind < 6; ++kind) {
    stack.push_back(profile.InternFrame(
        Frame{static_cast<FrameKind>(kind), "f;\n" + std::to_string(kind), "/x/y.py", kind}));
  }
  uint32_t thread = profile.InternThread(7, "worker");
  profile.AddSample(profile.InternStack(stack), thread, 3, 30);
  profile.AddSample(profile.InternStack({}), thread, 1, 10);
  return profile;
}

pyhang::fuzz::Seeds MakeSeeds() {
  pyhang::fuzz::Seeds seeds;
  seeds["small"] = Encode(pyhang::testing::SmallProfile(), 0);
  seeds["small-threads-time"] = Encode(pyhang::testing::SmallProfile(), kThreadRoots | kWeightTime | kWallMode);
  seeds["hostile"] = Encode(pyhang::testing::HostileProfile(), kShortFilenames);
  seeds["hostile-inverted"] = Encode(pyhang::testing::HostileProfile(), kInverted | kReverse | kThreadRoots);
  seeds["every-kind"] = Encode(EveryKind(), kThreadRoots);
  seeds["empty"] = std::string(1, '\0');
  return seeds;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  pyhang::fuzz::MakeSeedsIfAsked(*argc, *argv, MakeSeeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  Bytes in(absl::string_view(reinterpret_cast<const char*>(bytes), size));
  Input input = Parse(in);
  CheckCollapsed(input);
  CheckSpeedscope(input);
  CheckFlamegraph(input);
  CheckPprof(input);
  return 0;
}
