#include "collectors/pprof/proto_writer.h"

namespace pyhang::collectors {

void ProtoWriter::AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void ProtoWriter::Tag(int field, WireType type) {
  AppendVarint((static_cast<uint64_t>(field) << 3) | type, &data_);
}

void ProtoWriter::Varint(int field, uint64_t value) {
  if (value == 0) return;
  Tag(field, kVarint);
  AppendVarint(value, &data_);
}

void ProtoWriter::Bytes(int field, absl::string_view bytes) {
  Tag(field, kLengthDelimited);
  AppendVarint(bytes.size(), &data_);
  data_.append(bytes.data(), bytes.size());
}

void ProtoWriter::PackedVarints(int field, absl::Span<const uint64_t> values) {
  if (values.empty()) return;
  std::string packed;
  for (uint64_t value : values) AppendVarint(value, &packed);
  Bytes(field, packed);
}

}  // namespace pyhang::collectors
