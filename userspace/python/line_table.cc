#include "absl/strings/string_view.h"
#include "userspace/python/line_table.h"

namespace pyhang::python {
namespace {

// Reader over the 3.11+ location table bytes.
class LocationCursor {
 public:
  explicit LocationCursor(absl::string_view table) : table_(table) {}

  bool AtEnd() const { return position_ >= table_.size(); }
  bool ok() const { return ok_; }

  uint8_t Byte() {
    if (AtEnd()) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint8_t>(table_[position_++]);
  }

  // 6-bit groups, little-endian, bit 6 = continuation.
  uint64_t Varint() {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && ok_; shift += 6) {
      uint8_t byte = Byte();
      result |= static_cast<uint64_t>(byte & 0x3f) << shift;
      if ((byte & 0x40) == 0) break;
    }
    return result;
  }

  // Zig-zag: the low bit is the sign.
  int64_t SignedVarint() {
    uint64_t value = Varint();
    int64_t magnitude = static_cast<int64_t>(value >> 1);
    return (value & 1) ? -magnitude : magnitude;
  }

  void Skip(size_t count) {
    for (size_t i = 0; i < count && ok_; ++i) Byte();
  }

 private:
  absl::string_view table_;
  size_t position_ = 0;
  bool ok_ = true;
};

}  // namespace

std::optional<int> LineFromLnotab(absl::string_view table, int first_line, int64_t byte_offset) {
  int line = first_line;
  int64_t address = 0;
  for (size_t i = 0; i + 1 < table.size(); i += 2) {
    address += static_cast<uint8_t>(table[i]);
    if (address > byte_offset) break;
    line += static_cast<int8_t>(table[i + 1]);
  }
  return line;
}

std::optional<int> LineFromLinetable310(absl::string_view table, int first_line,
                                        int64_t byte_offset) {
  int line = first_line;
  int64_t end = 0;
  for (size_t i = 0; i + 1 < table.size(); i += 2) {
    int64_t start = end;
    end += static_cast<uint8_t>(table[i]);
    int8_t delta = static_cast<int8_t>(table[i + 1]);
    std::optional<int> current;
    if (delta != -128) {
      line += delta;
      current = line;
    }
    if (start <= byte_offset && byte_offset < end) return current;
  }
  return std::nullopt;
}

std::optional<int> LineFromLocations(absl::string_view table, int first_line,
                                     int64_t unit_offset) {
  LocationCursor cursor(table);
  int64_t line = first_line;
  int64_t address = 0;
  while (!cursor.AtEnd()) {
    uint8_t first = cursor.Byte();
    if ((first & 0x80) == 0) return std::nullopt;  // lost sync: malformed table
    int code = (first >> 3) & 0x0f;
    int64_t length = (first & 0x07) + 1;
    std::optional<int64_t> entry_line = line;
    if (code == 15) {
      entry_line = std::nullopt;  // no location; the running line is unchanged
    } else if (code == 14) {
      line += cursor.SignedVarint();
      entry_line = line;
      cursor.Varint();  // end line delta
      cursor.Varint();  // column + 1
      cursor.Varint();  // end column + 1
    } else if (code == 13) {
      line += cursor.SignedVarint();
      entry_line = line;
    } else if (code >= 10) {
      line += code - 10;
      entry_line = line;
      cursor.Skip(2);  // start and end column
    } else {
      cursor.Skip(1);  // short form: columns only
    }
    if (!cursor.ok()) return std::nullopt;
    if (address <= unit_offset && unit_offset < address + length) {
      if (!entry_line) return std::nullopt;
      return static_cast<int>(*entry_line);
    }
    address += length;
  }
  return std::nullopt;
}

std::optional<int> LineForOffset(pyhang_linetable_format format, absl::string_view table,
                                 int first_line, int64_t offset) {
  if (offset < 0) return first_line;
  switch (format) {
    case PYHANG_LNOTAB: return LineFromLnotab(table, first_line, offset);
    case PYHANG_LINETABLE_310: return LineFromLinetable310(table, first_line, offset);
    case PYHANG_LOCATIONS: return LineFromLocations(table, first_line, offset);
  }
  return std::nullopt;
}

}  // namespace pyhang::python
