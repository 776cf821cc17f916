#include "tests/output/pprof_decoder.h"

#include <zlib.h>

#include <functional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace pyhang::testing {
namespace {

struct WireField {
  int number = 0;
  int type = 0;
  uint64_t varint = 0;     // types 0, 1, 5
  absl::string_view bytes;  // type 2
};

bool ReadVarint(absl::string_view* in, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>((*in)[0]);
    in->remove_prefix(1);
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

absl::StatusOr<std::vector<WireField>> ParseMessage(absl::string_view in) {
  std::vector<WireField> fields;
  while (!in.empty()) {
    uint64_t tag;
    if (!ReadVarint(&in, &tag)) return absl::DataLossError("truncated tag");
    WireField field;
    field.number = static_cast<int>(tag >> 3);
    field.type = static_cast<int>(tag & 7);
    if (field.number == 0) return absl::DataLossError("field number 0");
    uint64_t length = 0;
    switch (field.type) {
      case 0:
        if (!ReadVarint(&in, &field.varint)) return absl::DataLossError("truncated varint");
        break;
      case 2:
        if (!ReadVarint(&in, &length) || length > in.size()) return absl::DataLossError("truncated bytes");
        field.bytes = in.substr(0, length);
        in.remove_prefix(length);
        break;
      default:
        return absl::DataLossError(absl::StrCat("unexpected wire type ", field.type));
    }
    fields.push_back(field);
  }
  return fields;
}

// A repeated scalar, packed (type 2) or not (type 0).
absl::Status AppendRepeated(const WireField& field, std::function<void(uint64_t)> add) {
  if (field.type == 0) {
    add(field.varint);
    return absl::OkStatus();
  }
  absl::string_view packed = field.bytes;
  while (!packed.empty()) {
    uint64_t value;
    if (!ReadVarint(&packed, &value)) return absl::DataLossError("truncated packed varint");
    add(value);
  }
  return absl::OkStatus();
}

// Decodes `bytes` into a message whose fields are all varints, one per number.
absl::StatusOr<absl::flat_hash_map<int, uint64_t>> Scalars(absl::string_view bytes) {
  absl::StatusOr<std::vector<WireField>> fields = ParseMessage(bytes);
  if (!fields.ok()) return fields.status();
  absl::flat_hash_map<int, uint64_t> out;
  for (const WireField& field : *fields) out[field.number] = field.varint;
  return out;
}

absl::StatusOr<PprofValueType> DecodeValueType(absl::string_view bytes) {
  absl::StatusOr<absl::flat_hash_map<int, uint64_t>> f = Scalars(bytes);
  if (!f.ok()) return f.status();
  return PprofValueType{static_cast<int64_t>((*f)[1]), static_cast<int64_t>((*f)[2])};
}

absl::StatusOr<PprofSample> DecodeSample(absl::string_view bytes) {
  absl::StatusOr<std::vector<WireField>> fields = ParseMessage(bytes);
  if (!fields.ok()) return fields.status();
  PprofSample sample;
  for (const WireField& field : *fields) {
    absl::Status status;
    if (field.number == 1) status = AppendRepeated(field, [&](uint64_t v) { sample.location_ids.push_back(v); });
    if (field.number == 2) {
      status = AppendRepeated(field, [&](uint64_t v) { sample.values.push_back(static_cast<int64_t>(v)); });
    }
    if (field.number == 3) {
      absl::StatusOr<absl::flat_hash_map<int, uint64_t>> f = Scalars(field.bytes);
      if (!f.ok()) return f.status();
      sample.labels.push_back({static_cast<int64_t>((*f)[1]), static_cast<int64_t>((*f)[2]),
                               static_cast<int64_t>((*f)[3])});
    }
    if (!status.ok()) return status;
  }
  return sample;
}

absl::StatusOr<PprofLocation> DecodeLocation(absl::string_view bytes) {
  absl::StatusOr<std::vector<WireField>> fields = ParseMessage(bytes);
  if (!fields.ok()) return fields.status();
  PprofLocation location;
  for (const WireField& field : *fields) {
    if (field.number == 1) location.id = field.varint;
    if (field.number != 4) continue;
    absl::StatusOr<absl::flat_hash_map<int, uint64_t>> f = Scalars(field.bytes);
    if (!f.ok()) return f.status();
    location.lines.push_back({(*f)[1], static_cast<int64_t>((*f)[2])});
  }
  return location;
}

absl::StatusOr<PprofFunction> DecodeFunction(absl::string_view bytes) {
  absl::StatusOr<absl::flat_hash_map<int, uint64_t>> f = Scalars(bytes);
  if (!f.ok()) return f.status();
  return PprofFunction{(*f)[1], static_cast<int64_t>((*f)[2]), static_cast<int64_t>((*f)[3]),
                       static_cast<int64_t>((*f)[4]), static_cast<int64_t>((*f)[5])};
}

absl::Status DecodeField(const WireField& field, PprofProfile* p) {
  const auto add = [](auto decoded, auto* to) -> absl::Status {
    if (!decoded.ok()) return decoded.status();
    to->push_back(*std::move(decoded));
    return absl::OkStatus();
  };
  switch (field.number) {
    case 1: return add(DecodeValueType(field.bytes), &p->sample_types);
    case 2: return add(DecodeSample(field.bytes), &p->samples);
    case 4: return add(DecodeLocation(field.bytes), &p->locations);
    case 5: return add(DecodeFunction(field.bytes), &p->functions);
    case 6: p->strings.emplace_back(field.bytes); return absl::OkStatus();
    case 9: p->time_nanos = static_cast<int64_t>(field.varint); return absl::OkStatus();
    case 10: p->duration_nanos = static_cast<int64_t>(field.varint); return absl::OkStatus();
    case 11: {
      absl::StatusOr<PprofValueType> type = DecodeValueType(field.bytes);
      if (!type.ok()) return type.status();
      p->period_type = *type;
      return absl::OkStatus();
    }
    case 12: p->period = static_cast<int64_t>(field.varint); return absl::OkStatus();
    case 13: return AppendRepeated(field, [&](uint64_t v) { p->comments.push_back(static_cast<int64_t>(v)); });
    default: return absl::DataLossError(absl::StrCat("unexpected Profile field ", field.number));
  }
}

}  // namespace

std::map<std::string, int64_t> PprofProfile::FoldedTotals(size_t value_index) const {
  absl::flat_hash_map<uint64_t, const PprofFunction*> functions_by_id;
  for (const PprofFunction& f : functions) functions_by_id[f.id] = &f;
  absl::flat_hash_map<uint64_t, std::string> labels;
  for (const PprofLocation& location : locations) {
    const PprofLine& line = location.lines.at(0);
    const PprofFunction& f = *functions_by_id.at(line.function_id);
    // As profile::Frame::Label: "name (file:line)", "name (file)", "name".
    const std::string& file = strings.at(f.filename);
    labels[location.id] = line.line > 0   ? absl::StrCat(strings.at(f.name), " (", file, ":", line.line, ")")
                          : !file.empty() ? absl::StrCat(strings.at(f.name), " (", file, ")")
                                          : strings.at(f.name);
  }
  std::map<std::string, int64_t> totals;
  for (const PprofSample& sample : samples) {
    std::string folded;
    for (auto it = sample.location_ids.rbegin(); it != sample.location_ids.rend(); ++it) {
      absl::StrAppend(&folded, folded.empty() ? "" : ";", labels.at(*it));
    }
    totals[folded] += sample.values.at(value_index);
  }
  return totals;
}

absl::StatusOr<std::string> Gunzip(absl::string_view compressed) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return absl::InternalError("inflateInit2");
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buffer[16384];
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    rc = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
  }
  const bool complete = rc == Z_STREAM_END && stream.avail_in == 0;
  inflateEnd(&stream);
  if (!complete) return absl::DataLossError(absl::StrCat("gunzip failed, zlib ", rc));
  return out;
}

absl::StatusOr<PprofProfile> DecodePprof(absl::string_view uncompressed) {
  absl::StatusOr<std::vector<WireField>> fields = ParseMessage(uncompressed);
  if (!fields.ok()) return fields.status();
  PprofProfile profile;
  for (const WireField& field : *fields) {
    if (absl::Status s = DecodeField(field, &profile); !s.ok()) return s;
  }
  return profile;
}

}  // namespace pyhang::testing
