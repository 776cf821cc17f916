#include "absl/strings/string_view.h"
#include "userspace/python/objects.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/common/status_macros.h"

namespace pyhang::python {
namespace {

using memory::LoadAt;
using memory::ReadBytes;
using memory::ReadPointer;
using memory::ReadValue;

// PyTypeObject.tp_flags bits (Include/object.h).
constexpr uint64_t kTpFlagsInlineValues = 1ull << 2;  // 3.13+
constexpr uint64_t kTpFlagsManagedDict = 1ull << 4;   // 3.11+
constexpr uint64_t kTpFlagsUnicodeSubclass = 1ull << 28;

// Offsets that have not moved in 3.8-3.13 and that only the repr/dict code
// needs, so they are not part of the BPF-visible record.
constexpr int kOldKeysSize = 8;         // PyDictKeysObject.dk_size (<= 3.10)
constexpr int kOldKeysNentries = 32;    // dk_nentries (<= 3.10)
constexpr int kOldKeysIndices = 40;     // dk_indices (<= 3.10)
constexpr int kKeysLog2IndexBytes = 9;  // dk_log2_index_bytes (3.11+)
constexpr int kKeysKind = 10;           // dk_kind (3.11+)
constexpr int kKeysNentries = 24;       // dk_nentries (3.11+)
constexpr int kKeysIndices = 32;        // dk_indices (3.11+)
constexpr int kManagedDictOffset = -24; // managed __dict__ / tagged word (3.11+)
constexpr int kManagedValuesOffset = -32;  // managed values (3.11)

// Unicode state word bits (PyASCIIObject.state), default builds.
struct UnicodeState {
  unsigned kind;
  bool compact;
  bool ascii;
};

UnicodeState DecodeUnicodeState(uint32_t state) {
  return UnicodeState{(state >> 2) & 7u, ((state >> 5) & 1u) != 0, ((state >> 6) & 1u) != 0};
}

absl::Status Garbage(absl::string_view what, uint64_t address) {
  return absl::DataLossError(absl::StrFormat("%s at 0x%x looks corrupt", what, address));
}

}  // namespace

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

absl::StatusOr<uint64_t> ObjectReader::TypeOf(uint64_t object) {
  if (object == 0) return absl::InvalidArgumentError("NULL object");
  return ReadPointer(reader_, object + offsets_.object_type);
}

absl::StatusOr<std::string> ObjectReader::TypeName(uint64_t object) {
  ASSIGN_OR_RETURN(uint64_t type, TypeOf(object));
  return NameOfType(type);
}

absl::StatusOr<std::string> ObjectReader::NameOfType(uint64_t type) {
  if (auto it = type_names_.find(type); it != type_names_.end()) return it->second;
  ASSIGN_OR_RETURN(uint64_t name_address, ReadPointer(reader_, type + offsets_.type_name));
  ASSIGN_OR_RETURN(std::string name, memory::ReadCString(reader_, name_address, 128));
  if (type_names_.size() < 4096) type_names_.emplace(type, name);
  return name;
}

absl::StatusOr<bool> ObjectReader::IsInstance(uint64_t object, uint64_t type) {
  if (type == 0) return false;
  ASSIGN_OR_RETURN(uint64_t actual, TypeOf(object));
  return actual == type;
}

absl::StatusOr<std::string> ObjectReader::ReadString(uint64_t object, size_t max_chars,
                                                     bool* truncated) {
  if (object == 0) return absl::InvalidArgumentError("NULL str");
  // The header on the stack: a dump reads tens of thousands of strings.
  size_t header_size = static_cast<size_t>(offsets_.unicode_compact_data) + 8;
  std::array<char, 128> header_bytes;
  if (header_size > header_bytes.size()) return absl::InternalError("str header too large");
  RETURN_IF_ERROR(reader_.Read(object, absl::MakeSpan(reinterpret_cast<std::byte*>(header_bytes.data()), header_size)));
  absl::string_view header(header_bytes.data(), header_size);
  uint64_t type = LoadAt<uint64_t>(header, offsets_.object_type);
  if (types_.unicode != 0 && type != types_.unicode) {
    ASSIGN_OR_RETURN(uint64_t flags, ReadValue<uint64_t>(reader_, type + offsets_.type_flags));
    if ((flags & kTpFlagsUnicodeSubclass) == 0) return Garbage("str", object);
  }
  int64_t length = LoadAt<int64_t>(header, offsets_.unicode_length);
  UnicodeState state = DecodeUnicodeState(LoadAt<uint32_t>(header, offsets_.unicode_state));
  if (length < 0 || (state.kind != 1 && state.kind != 2 && state.kind != 4)) {
    return Garbage("str", object);
  }
  uint64_t data = 0;
  if (state.compact) {
    data = object + (state.ascii ? offsets_.unicode_ascii_data : offsets_.unicode_compact_data);
  } else {
    data = LoadAt<uint64_t>(header, offsets_.unicode_compact_data);  // PyUnicodeObject.data.any
    if (data == 0) return Garbage("str data", object);
  }
  size_t count = static_cast<size_t>(std::min<int64_t>(length, static_cast<int64_t>(max_chars)));
  count = std::min(count, kMaxStringBytes);
  if (truncated != nullptr) *truncated = count < static_cast<size_t>(length);
  ASSIGN_OR_RETURN(std::string raw, ReadBytes(reader_, data, count * state.kind));
  if (state.kind == 1 && state.ascii) {
    // An ASCII str holds no byte past 0x7f: one that does is not (or no
    // longer) a str, not a name to show.
    if (std::any_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) > 0x7f; })) {
      return Garbage("str", object);
    }
    return raw;
  }
  std::string utf8;
  utf8.reserve(raw.size() + raw.size() / 2);
  for (size_t i = 0; i < count; ++i) {
    uint32_t cp = 0;
    std::memcpy(&cp, raw.data() + i * state.kind, state.kind);  // little-endian
    AppendUtf8(cp, &utf8);
  }
  return utf8;
}

absl::StatusOr<std::string> ObjectReader::ReadBytesObject(uint64_t object, size_t max_bytes,
                                                          bool* truncated) {
  ASSIGN_OR_RETURN(int64_t size, ReadValue<int64_t>(reader_, object + offsets_.bytes_size));
  if (size < 0) return Garbage("bytes", object);
  size_t count = std::min<size_t>(static_cast<size_t>(size), std::min(max_bytes, kMaxStringBytes));
  if (truncated != nullptr) *truncated = count < static_cast<size_t>(size);
  return ReadBytes(reader_, object + offsets_.bytes_data, count);
}

absl::StatusOr<int64_t> ObjectReader::ReadVarSize(uint64_t object) {
  return ReadValue<int64_t>(reader_, object + offsets_.varobject_size);
}

absl::StatusOr<std::vector<uint64_t>> ObjectReader::ReadTupleItems(uint64_t tuple,
                                                                   size_t max_items) {
  ASSIGN_OR_RETURN(int64_t size, ReadVarSize(tuple));
  if (size < 0 || static_cast<size_t>(size) > kMaxTupleItems) return Garbage("tuple", tuple);
  size_t count = std::min(static_cast<size_t>(size), max_items);
  std::vector<uint64_t> items(count);
  if (count == 0) return items;
  RETURN_IF_ERROR(reader_.Read(
      tuple + offsets_.tuple_items,
      absl::MakeSpan(reinterpret_cast<std::byte*>(items.data()), count * sizeof(uint64_t))));
  return items;
}

absl::StatusOr<std::optional<int64_t>> ObjectReader::ReadSmallInt(uint64_t object) {
  ASSIGN_OR_RETURN(int64_t header, ReadValue<int64_t>(reader_, object + 16));
  int64_t ndigits;
  bool negative;
  if (offsets_.long_format == PYHANG_LONG_LV_TAG) {
    ndigits = static_cast<int64_t>(static_cast<uint64_t>(header) >> 3);
    negative = (header & 3) == 2;
  } else {
    ndigits = header < 0 ? -header : header;
    negative = header < 0;
  }
  if (ndigits > 2) return std::optional<int64_t>();  // does not fit in 60 bits
  uint32_t digits[2] = {0, 0};
  if (ndigits > 0) {
    RETURN_IF_ERROR(reader_.Read(
        object + offsets_.long_digits,
        absl::MakeSpan(reinterpret_cast<std::byte*>(digits), ndigits * sizeof(uint32_t))));
  }
  int64_t value = static_cast<int64_t>(digits[0] & 0x3fffffff) |
                  (static_cast<int64_t>(digits[1] & 0x3fffffff) << 30);
  return std::optional<int64_t>(negative ? -value : value);
}

absl::StatusOr<std::string> ObjectReader::IntRepr(uint64_t object, const ReprLimits& limits) {
  ASSIGN_OR_RETURN(int64_t header, ReadValue<int64_t>(reader_, object + 16));
  uint64_t ndigits;
  bool negative;
  if (offsets_.long_format == PYHANG_LONG_LV_TAG) {
    ndigits = static_cast<uint64_t>(header) >> 3;
    negative = (header & 3) == 2;
  } else {
    ndigits = static_cast<uint64_t>(header < 0 ? -header : header);
    negative = header < 0;
  }
  if (ndigits > limits.max_int_digits) {
    return absl::StrFormat("<int at 0x%x, %u bits>", object, ndigits * 30);
  }
  std::vector<uint32_t> digits(ndigits);
  if (ndigits > 0) {
    RETURN_IF_ERROR(reader_.Read(object + offsets_.long_digits,
                                 absl::MakeSpan(reinterpret_cast<std::byte*>(digits.data()),
                                                ndigits * sizeof(uint32_t))));
  }
  // Repeated division by 10^9 of the base-2^30 number, most significant first.
  std::string decimal;
  while (!digits.empty()) {
    uint64_t remainder = 0;
    for (size_t i = digits.size(); i-- > 0;) {
      uint64_t current = (remainder << 30) | (digits[i] & 0x3fffffff);
      digits[i] = static_cast<uint32_t>(current / 1000000000);
      remainder = current % 1000000000;
    }
    while (!digits.empty() && digits.back() == 0) digits.pop_back();
    std::string chunk = std::to_string(remainder);
    if (!digits.empty()) chunk.insert(0, 9 - chunk.size(), '0');
    decimal.insert(0, chunk);
  }
  if (decimal.empty()) decimal = "0";
  return negative ? "-" + decimal : decimal;
}

std::string PythonFloatRepr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  if (value == 0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-trip digits, then Python's layout rule (float_repr_style
  // 'short'): exponent notation when decpt <= -4 or decpt > 16.
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value,
                                 std::chars_format::scientific);
  std::string text(buffer, end);
  bool negative = text[0] == '-';
  if (negative) text.erase(0, 1);
  size_t e = text.find('e');
  std::string digits = text.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(text.substr(e + 1));
  int decpt = exponent + 1;
  std::string result;
  if (decpt <= -4 || decpt > 16) {
    result = digits.substr(0, 1);
    if (digits.size() > 1) result += "." + digits.substr(1);
    result += absl::StrFormat("e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  } else if (decpt <= 0) {
    result = "0." + std::string(static_cast<size_t>(-decpt), '0') + digits;
  } else if (static_cast<size_t>(decpt) >= digits.size()) {
    result = digits + std::string(decpt - digits.size(), '0') + ".0";
  } else {
    result = digits.substr(0, decpt) + "." + digits.substr(decpt);
  }
  return negative ? "-" + result : result;
}

absl::StatusOr<std::string> ObjectReader::FloatRepr(uint64_t object) {
  ASSIGN_OR_RETURN(double value, ReadValue<double>(reader_, object + offsets_.float_value));
  return PythonFloatRepr(value);
}

std::string PythonStringRepr(absl::string_view utf8, bool truncated) {
  bool has_single = utf8.find('\'') != absl::string_view::npos;
  bool has_double = utf8.find('"') != absl::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : utf8) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(quote)) {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          out += absl::StrFormat("\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += quote;
  if (truncated) out += "...";
  return out;
}

std::string PythonBytesRepr(absl::string_view bytes, bool truncated) {
  // Like str: double quotes when the value has ' but no ".
  bool has_single = bytes.find('\'') != absl::string_view::npos;
  bool has_double = bytes.find('"') != absl::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out = absl::StrCat("b", std::string(1, quote));
  for (unsigned char c : bytes) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\x%02x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  if (truncated) out += "...";
  return out;
}

absl::Status ObjectReader::ForEachDictEntry(uint64_t dict, size_t max_entries,
                                            const DictVisitor& visit) {
  ASSIGN_OR_RETURN(std::string header, ReadBytes(reader_, dict, offsets_.dict_values + 8));
  uint64_t keys = LoadAt<uint64_t>(header, offsets_.dict_keys);
  uint64_t values = LoadAt<uint64_t>(header, offsets_.dict_values);
  // 3.13's split values are a struct _dictvalues with the array at +8.
  if (values != 0 && offsets_.instance_dict_format == PYHANG_DICT_MANAGED_313) values += 8;
  if (keys == 0) return Garbage("dict", dict);
  return ForEachKeysEntry(keys, values, max_entries, visit);
}

absl::Status ObjectReader::ForEachKeysEntry(uint64_t keys, uint64_t values, size_t max_entries,
                                            const DictVisitor& visit) {
  if (offsets_.dict_keys_format == PYHANG_DICT_KEYS_SIZE) {
    return ForEachKeysEntryOld(keys, values, max_entries, visit);
  }
  ASSIGN_OR_RETURN(std::string header, ReadBytes(reader_, keys, kKeysIndices));
  uint8_t log2_index_bytes = LoadAt<uint8_t>(header, kKeysLog2IndexBytes);
  uint8_t kind = LoadAt<uint8_t>(header, kKeysKind);
  int64_t nentries = LoadAt<int64_t>(header, kKeysNentries);
  if (log2_index_bytes > 40 || kind > 2 || nentries < 0) return Garbage("dict keys", keys);
  size_t count = std::min({static_cast<size_t>(nentries), max_entries, kMaxDictEntries});
  size_t entry_size = kind == 0 ? 24 : 16;  // {hash, key, value} or {key, value}
  uint64_t entries = keys + kKeysIndices + (uint64_t{1} << log2_index_bytes);
  // 3.13+ split values keep their own insertion order: `size` bytes after
  // the `capacity` value slots, each an index into the shared keys (which
  // 3.14 fills ahead of time from the class's __init__).
  std::string order;
  if (values != 0 && offsets_.instance_dict_format == PYHANG_DICT_MANAGED_313) {
    ASSIGN_OR_RETURN(std::string counts, ReadBytes(reader_, values - 8, 2));
    uint8_t capacity = LoadAt<uint8_t>(counts, 0);
    uint8_t size = LoadAt<uint8_t>(counts, 1);
    if (size > capacity) return Garbage("dict values", values);
    ASSIGN_OR_RETURN(order, ReadBytes(reader_, values + uint64_t{capacity} * 8, size));
    count = std::min<size_t>(size, max_entries);
  }
  // Entries (and split values) are read a chunk at a time, in order of
  // index; with an order array, one by one.
  constexpr size_t kChunk = 32;
  std::array<uint64_t, kChunk * 3> chunk;
  std::array<uint64_t, kChunk> value_chunk;
  size_t chunk_first = 0;
  for (size_t n = 0; n < count; ++n) {
    size_t i = order.empty() ? n : static_cast<uint8_t>(order[n]);
    if (!order.empty() || i % kChunk == 0) {  // i == 0 first: the first pass always loads
      size_t in_chunk = order.empty() ? std::min(kChunk, count - i) : 1;
      RETURN_IF_ERROR(reader_.Read(entries + i * entry_size,
                                   absl::MakeSpan(reinterpret_cast<std::byte*>(chunk.data()), in_chunk * entry_size)));
      if (values != 0) {
        RETURN_IF_ERROR(reader_.Read(values + i * 8, absl::MakeSpan(reinterpret_cast<std::byte*>(value_chunk.data()),
                                                                  in_chunk * 8)));
      }
      chunk_first = i;
    }
    size_t slot = (i - chunk_first) * (entry_size / 8);
    uint64_t key = chunk[slot + (kind == 0 ? 1 : 0)];
    uint64_t value = values != 0 ? value_chunk[i - chunk_first] : chunk[slot + (kind == 0 ? 2 : 1)];
    if (key == 0 || value == 0) continue;
    if (!visit(key, value)) break;
  }
  return absl::OkStatus();
}

absl::Status ObjectReader::ForEachKeysEntryOld(uint64_t keys, uint64_t values,
                                               size_t max_entries, const DictVisitor& visit) {
  ASSIGN_OR_RETURN(std::string header, ReadBytes(reader_, keys, kOldKeysIndices));
  int64_t size = LoadAt<int64_t>(header, kOldKeysSize);
  int64_t nentries = LoadAt<int64_t>(header, kOldKeysNentries);
  if (size <= 0 || size > (int64_t{1} << 32) || nentries < 0 || nentries > size) {
    return Garbage("dict keys", keys);
  }
  size_t index_width = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffll ? 4 : 8;
  uint64_t entries = keys + kOldKeysIndices + static_cast<uint64_t>(size) * index_width;
  size_t count = std::min({static_cast<size_t>(nentries), max_entries, kMaxDictEntries});
  for (size_t i = 0; i < count; ++i) {
    ASSIGN_OR_RETURN(std::string entry, ReadBytes(reader_, entries + i * 24, 24));
    uint64_t key = LoadAt<uint64_t>(entry, 8);
    uint64_t value = LoadAt<uint64_t>(entry, 16);
    if (values != 0) {
      ASSIGN_OR_RETURN(value, ReadPointer(reader_, values + i * 8));
    }
    if (key == 0 || value == 0) continue;
    if (!visit(key, value)) break;
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ObjectReader::DictGetString(uint64_t dict, absl::string_view key) {
  uint64_t found = 0;
  RETURN_IF_ERROR(ForEachDictEntry(dict, kMaxDictEntries, [&](uint64_t k, uint64_t v) {
    absl::StatusOr<std::string> name = ReadString(k, key.size() + 1);
    if (name.ok() && *name == key) {
      found = v;
      return false;
    }
    return true;
  }));
  return found;
}

absl::StatusOr<ObjectReader::AttributeStore> ObjectReader::FindAttributeStore(uint64_t object) {
  ASSIGN_OR_RETURN(uint64_t type, TypeOf(object));
  if (offsets_.instance_dict_format != PYHANG_DICT_TP_DICTOFFSET) {
    ASSIGN_OR_RETURN(uint64_t flags, ReadValue<uint64_t>(reader_, type + offsets_.type_flags));
    if (flags & kTpFlagsManagedDict) return FindManagedStore(object, type);
  }
  AttributeStore store;
  ASSIGN_OR_RETURN(int64_t dictoffset, ReadValue<int64_t>(reader_, type + offsets_.type_dictoffset));
  if (dictoffset <= 0 || dictoffset > 4096) return store;  // no (simple) __dict__
  store.has_dict = true;
  ASSIGN_OR_RETURN(store.dict, ReadPointer(reader_, object + dictoffset));
  return store;
}

absl::StatusOr<ObjectReader::AttributeStore> ObjectReader::FindManagedStore(uint64_t object,
                                                                            uint64_t type) {
  AttributeStore store;
  store.has_dict = true;
  ASSIGN_OR_RETURN(uint64_t word, ReadPointer(reader_, object + kManagedDictOffset));
  switch (offsets_.instance_dict_format) {
    case PYHANG_DICT_MANAGED_311: {
      store.dict = word;
      ASSIGN_OR_RETURN(store.values, ReadPointer(reader_, object + kManagedValuesOffset));
      break;
    }
    case PYHANG_DICT_MANAGED_312: {
      // _PyDictOrValues: a values pointer is stored minus one (bit 0 set).
      if (word & 1) store.values = word + 1; else store.dict = word;
      break;
    }
    case PYHANG_DICT_MANAGED_313: {
      store.dict = word;
      if (store.dict != 0) break;
      ASSIGN_OR_RETURN(uint64_t flags, ReadValue<uint64_t>(reader_, type + offsets_.type_flags));
      if ((flags & kTpFlagsInlineValues) == 0) return store;
      ASSIGN_OR_RETURN(int64_t basicsize,
                       ReadValue<int64_t>(reader_, type + offsets_.type_basicsize));
      uint64_t inline_values = object + basicsize;
      ASSIGN_OR_RETURN(uint8_t valid, ReadValue<uint8_t>(reader_, inline_values + 3));
      if (!valid) return store;
      store.values = inline_values + 8;  // struct _dictvalues: 4 bytes of header, padding, values[]
      break;
    }
    default:
      return store;
  }
  if (store.values != 0) {
    // Split values have a dict only as a view onto them: the values win.
    store.dict = 0;
    ASSIGN_OR_RETURN(store.keys, ReadPointer(reader_, type + offsets_.heaptype_cached_keys));
    if (store.keys == 0) store.values = 0;
  }
  return store;
}

absl::Status ObjectReader::ForEachInstanceAttribute(uint64_t object, size_t max_entries,
                                                    const DictVisitor& visit, bool* has_dict) {
  ASSIGN_OR_RETURN(AttributeStore store, FindAttributeStore(object));
  if (has_dict != nullptr) *has_dict = store.has_dict;
  if (store.values != 0) return ForEachKeysEntry(store.keys, store.values, max_entries, visit);
  if (store.dict != 0) return ForEachDictEntry(store.dict, max_entries, visit);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ObjectReader::InstanceAttribute(uint64_t object, absl::string_view name) {
  uint64_t found = 0;
  RETURN_IF_ERROR(ForEachInstanceAttribute(object, kMaxDictEntries, [&](uint64_t k, uint64_t v) {
    absl::StatusOr<std::string> key = ReadString(k, name.size() + 1);
    if (key.ok() && *key == name) {
      found = v;
      return false;
    }
    return true;
  }));
  return found;
}

}  // namespace pyhang::python
