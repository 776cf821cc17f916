#include "collectors/pprof/pprof_writer.h"

#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "collectors/pprof/gzip.h"
#include "collectors/pprof/proto_writer.h"
#include "userspace/common/status_macros.h"
#include "userspace/output/profile_stacks.h"
#include "userspace/output/text_escape.h"

namespace pyhang::collectors {
namespace {

// Field numbers from profile.proto.
namespace field {
constexpr int kSampleType = 1, kSample = 2, kLocation = 4, kFunction = 5, kStringTable = 6;
constexpr int kTimeNanos = 9, kDurationNanos = 10, kPeriodType = 11, kPeriod = 12, kComment = 13;
constexpr int kValueTypeType = 1, kValueTypeUnit = 2;
constexpr int kSampleLocationId = 1, kSampleValue = 2, kSampleLabel = 3;
constexpr int kLabelKey = 1, kLabelStr = 2, kLabelNum = 3;
constexpr int kLocationId = 1, kLocationLine = 4;
constexpr int kLineFunctionId = 1, kLineLine = 2;
constexpr int kFunctionId = 1, kFunctionName = 2, kFunctionSystemName = 3, kFunctionFilename = 4;
}  // namespace field

// string_table: index 0 is "", as profile.proto requires.
class StringTable {
 public:
  StringTable() { Intern(""); }

  int64_t Intern(absl::string_view text) {
    // Protobuf readers may reject invalid UTF-8 in a string field.
    std::string valid = output::SanitizeUtf8(text);
    auto [it, inserted] = index_.try_emplace(valid, static_cast<int64_t>(strings_.size()));
    if (inserted) strings_.push_back(std::move(valid));
    return it->second;
  }
  const std::vector<std::string>& strings() const { return strings_; }

 private:
  std::vector<std::string> strings_;
  absl::flat_hash_map<std::string, int64_t> index_;
};

class PprofEncoder {
 public:
  explicit PprofEncoder(const profile::Profile& profile) : profile_(profile) {}
  std::string Encode();

 private:
  ProtoWriter ValueType(absl::string_view type, absl::string_view unit);
  uint64_t FunctionId(const profile::Frame& frame);
  void EncodeLocations();
  void EncodeSamples();
  void EncodeHeader();
  ProtoWriter StrLabel(absl::string_view key, absl::string_view value);
  ProtoWriter NumLabel(absl::string_view key, int64_t value);

  const profile::Profile& profile_;
  StringTable strings_;
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> function_ids_;
  ProtoWriter header_;     // sample_type
  ProtoWriter samples_;    // sample
  ProtoWriter locations_;  // location
  ProtoWriter functions_;  // function
};

ProtoWriter PprofEncoder::ValueType(absl::string_view type, absl::string_view unit) {
  ProtoWriter value_type;
  value_type.Int64(field::kValueTypeType, strings_.Intern(type));
  value_type.Int64(field::kValueTypeUnit, strings_.Intern(unit));
  return value_type;
}

uint64_t PprofEncoder::FunctionId(const profile::Frame& frame) {
  auto [it, inserted] =
      function_ids_.try_emplace(std::make_pair(frame.name, frame.file), function_ids_.size() + 1);
  if (!inserted) return it->second;
  ProtoWriter function;
  function.Varint(field::kFunctionId, it->second);
  function.Int64(field::kFunctionName, strings_.Intern(frame.name));
  function.Int64(field::kFunctionSystemName, strings_.Intern(frame.name));
  function.Int64(field::kFunctionFilename, strings_.Intern(frame.file));
  // start_line stays 0 (unknown): a sample knows the current line, not the def line.
  functions_.Message(field::kFunction, function);
  return it->second;
}

// Location id = frame index + 1 (ids must be non-zero).
void PprofEncoder::EncodeLocations() {
  for (size_t i = 0; i < profile_.frames().size(); ++i) {
    const profile::Frame& frame = profile_.frames()[i];
    ProtoWriter line;
    line.Varint(field::kLineFunctionId, FunctionId(frame));
    line.Int64(field::kLineLine, frame.line);
    ProtoWriter location;
    location.Varint(field::kLocationId, i + 1);
    location.Message(field::kLocationLine, line);
    locations_.Message(field::kLocation, location);
  }
}

ProtoWriter PprofEncoder::StrLabel(absl::string_view key, absl::string_view value) {
  ProtoWriter label;
  label.Int64(field::kLabelKey, strings_.Intern(key));
  label.Int64(field::kLabelStr, strings_.Intern(value));
  return label;
}

ProtoWriter PprofEncoder::NumLabel(absl::string_view key, int64_t value) {
  ProtoWriter label;
  label.Int64(field::kLabelKey, strings_.Intern(key));
  label.Int64(field::kLabelNum, value);
  return label;
}

void PprofEncoder::EncodeSamples() {
  for (const profile::SampleTotal& total : profile_.samples()) {
    const std::vector<uint32_t>& stack = profile_.stacks()[total.stack];
    std::vector<uint64_t> location_ids(stack.rbegin(), stack.rend());  // leaf first
    for (uint64_t& id : location_ids) ++id;
    const profile::ThreadInfo& thread = profile_.threads()[total.thread];
    ProtoWriter sample;
    sample.PackedVarints(field::kSampleLocationId, location_ids);
    const uint64_t values[] = {total.count, total.time_ns};
    sample.PackedVarints(field::kSampleValue, values);
    sample.Message(field::kSampleLabel, NumLabel("thread_id", thread.tid));
    if (!thread.name.empty()) sample.Message(field::kSampleLabel, StrLabel("thread_name", thread.name));
    samples_.Message(field::kSample, sample);
  }
}

void PprofEncoder::EncodeHeader() {
  const absl::string_view time_type = profile_.wall_mode ? "wall" : "cpu";
  header_.Message(field::kSampleType, ValueType("samples", "count"));
  header_.Message(field::kSampleType, ValueType(time_type, "nanoseconds"));
}

std::string PprofEncoder::Encode() {
  EncodeHeader();
  EncodeLocations();
  EncodeSamples();
  ProtoWriter tail;
  tail.Int64(field::kTimeNanos, static_cast<int64_t>(profile_.start_time_ns));
  tail.Int64(field::kDurationNanos, static_cast<int64_t>(profile_.duration_ns));
  tail.Message(field::kPeriodType, ValueType(profile_.wall_mode ? "wall" : "cpu", "nanoseconds"));
  tail.Int64(field::kPeriod, static_cast<int64_t>(profile_.sample_period_ns));
  std::vector<uint64_t> comments;
  for (const std::string* text : {&profile_.title, &profile_.subtitle}) {
    if (!text->empty()) comments.push_back(strings_.Intern(*text));
  }
  tail.PackedVarints(field::kComment, comments);
  // The string table goes last in the buffer because encoding the rest fills
  // it; field order on the wire does not matter to protobuf readers.
  ProtoWriter string_table;
  for (const std::string& text : strings_.strings()) string_table.Bytes(field::kStringTable, text);
  return header_.Release() + samples_.Release() + locations_.Release() + functions_.Release() +
         string_table.Release() + tail.Release();
}

}  // namespace

absl::StatusOr<std::string> EncodePprof(const profile::Profile& profile) {
  RETURN_IF_ERROR(output::ValidateProfile(profile));
  return PprofEncoder(profile).Encode();
}

absl::StatusOr<std::string> RenderPprof(const profile::Profile& profile) {
  ASSIGN_OR_RETURN(const std::string encoded, EncodePprof(profile));
  return Gzip(encoded);
}

}  // namespace pyhang::collectors
