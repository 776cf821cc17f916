#include "userspace/python/value_reader.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
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
constexpr uint64_t kTpFlagsHeapType = 1ull << 9;
constexpr uint64_t kTpFlagsBaseExcSubclass = 1ull << 30;
constexpr uint64_t kTpFlagsTypeSubclass = 1ull << 31;

// Fields that have not moved in 3.8-3.15 (default builds).
constexpr int kDictUsed = 16;  // PyDictObject.ma_used
constexpr int kSetUsed = 24;   // PySetObject.used
constexpr int kSetEntrySize = 16;  // setentry {key, hash}
constexpr int kMemberDefSize = 40;  // PyMemberDef {name, type, offset, flags, doc}
constexpr int kMemberTypeObject = 6;     // T_OBJECT / Py_T_OBJECT
constexpr int kMemberTypeObjectEx = 16;  // T_OBJECT_EX / Py_T_OBJECT_EX (__slots__)

// Sizes no real object reaches; beyond them the header is garbage.
constexpr int64_t kMaxPlausibleLength = int64_t{1} << 40;
constexpr size_t kMaxSetSlotsScanned = 1 << 16;
constexpr size_t kMaxDictEntriesScanned = 1 << 16;
constexpr size_t kMaxMembers = 64;
constexpr int kMaxBases = 8;

std::string Address(uint64_t address) { return absl::StrFormat("0x%x", address); }


std::string ShortName(const std::string& tp_name) {
  size_t dot = tp_name.rfind('.');
  return dot == std::string::npos ? tp_name : tp_name.substr(dot + 1);
}

// Python's float repr without the ".0" that makes 1.0 look like a float:
// how complex() prints each part.
std::string ComplexPart(double x) {
  std::string text = PythonFloatRepr(x);
  if (absl::EndsWith(text, ".0") && text.find('e') == std::string::npos) text.resize(text.size() - 2);
  return text;
}

}  // namespace

size_t CodePoints(const std::string& utf8) {
  size_t count = 0;
  for (unsigned char c : utf8) count += (c & 0xc0) != 0x80;
  return count;
}

std::string FirstCodePoints(const std::string& utf8, size_t count) {
  size_t seen = 0;
  for (size_t i = 0; i < utf8.size(); ++i) {
    if ((static_cast<unsigned char>(utf8[i]) & 0xc0) != 0x80 && seen++ == count) return utf8.substr(0, i);
  }
  return utf8;
}

std::string PythonComplexRepr(double real, double imag) {
  if (real == 0 && !std::signbit(real)) return ComplexPart(imag) + "j";
  std::string im = ComplexPart(imag);
  if (im[0] != '-') im.insert(0, "+");
  return absl::StrCat("(", ComplexPart(real), im, "j)");
}

PyValue ValueReader::Read(uint64_t object) {
  visited_ = 0;
  open_.clear();
  PyValue value = Value(object, 0);
  if (CodePoints(value.repr) > limits_.max_repr) {
    value.repr = FirstCodePoints(value.repr, limits_.max_repr) + "...";
    value.truncated = true;
  }
  return value;
}

PyValue ValueReader::Value(uint64_t object, int depth) {
  const KnownTypes& types = objects_.types();
  PyValue value;
  value.address = object;
  ++visited_;
  if (object == 0) {
    value.repr = "<NULL>";
    value.truncated = true;
    return value;
  }
  if (object == types.none_object) {
    value.type = "NoneType";
    value.repr = "None";
    return value;
  }
  if (object == types.true_object || object == types.false_object) {
    value.type = "bool";
    value.repr = object == types.true_object ? "True" : "False";
    return value;
  }
  if (object == types.ellipsis_object) {
    value.type = "ellipsis";
    value.repr = "Ellipsis";
    return value;
  }
  absl::StatusOr<uint64_t> type = objects_.TypeOf(object);
  absl::StatusOr<std::string> name =
      type.ok() && *type != 0 ? objects_.NameOfType(*type) : absl::StatusOr<std::string>(absl::NotFoundError(""));
  if (!type.ok() || *type == 0 || !name.ok()) {
    value.repr = absl::StrCat("<unreadable at ", Address(object), ">");
    value.truncated = true;
    return value;
  }
  value.type = *name;
  if (ReadScalar(object, *type, &value)) return value;
  if (*type == types.list) {
    ReadSequence(object, Container::kList, depth, &value);
  } else if (*type == types.tuple) {
    ReadSequence(object, Container::kTuple, depth, &value);
  } else if (*type == types.dict) {
    ReadDict(object, depth, &value);
  } else if (*type == types.set) {
    ReadSet(object, Container::kSet, depth, &value);
  } else if (*type == types.frozenset) {
    ReadSet(object, Container::kFrozenSet, depth, &value);
  } else {
    ReadOther(object, *type, depth, &value);
  }
  return value;
}

bool ValueReader::ReadScalar(uint64_t object, uint64_t type, PyValue* value) {
  const KnownTypes& types = objects_.types();
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  absl::StatusOr<std::string> text = absl::UnknownError("");
  bool cut = false;
  if (type == types.unicode) {
    absl::StatusOr<std::string> chars = objects_.ReadString(object, limits_.max_string, &cut);
    if (chars.ok()) text = PythonStringRepr(*chars, cut);
  } else if (type == types.bytes) {
    absl::StatusOr<std::string> bytes = objects_.ReadBytesObject(object, limits_.max_string, &cut);
    if (bytes.ok()) text = PythonBytesRepr(*bytes, cut);
  } else if (type == types.long_int) {
    text = objects_.IntRepr(object, limits_);
    cut = text.ok() && absl::StartsWith(*text, "<");
  } else if (type == types.floating) {
    text = objects_.FloatRepr(object);
  } else if (type == types.complex && Has(o.complex_value)) {
    absl::StatusOr<std::string> parts = ReadBytes(reader, object + o.complex_value, 16);
    if (parts.ok()) text = PythonComplexRepr(LoadAt<double>(*parts, 0), LoadAt<double>(*parts, 8));
  } else if (type == types.bytearray && Has(o.bytearray_start)) {
    absl::StatusOr<int64_t> size = objects_.ReadVarSize(object);
    absl::StatusOr<uint64_t> start = ReadPointer(reader, object + o.bytearray_start);
    if (size.ok() && start.ok()) {
      if (*size < 0 || *size > kMaxPlausibleLength) {
        text = Corrupt(value->type, object, absl::StrCat("size ", *size));
        cut = true;
      } else {
        size_t count = std::min<size_t>(static_cast<size_t>(*size), limits_.max_string);
        cut = count < static_cast<size_t>(*size);
        absl::StatusOr<std::string> bytes = count == 0 ? std::string() : ReadBytes(reader, *start, count);
        if (bytes.ok()) text = absl::StrCat("bytearray(", PythonBytesRepr(*bytes, cut), ")");
      }
    }
  } else if (type == types.range && Has(o.range_start)) {
    std::string parts[3];
    int32_t fields[3] = {o.range_start, o.range_stop, o.range_step};
    bool ok = true;
    for (int i = 0; i < 3 && ok; ++i) {
      absl::StatusOr<uint64_t> number = ReadPointer(reader, object + fields[i]);
      absl::StatusOr<std::string> digits =
          number.ok() ? objects_.IntRepr(*number, limits_) : absl::StatusOr<std::string>(number.status());
      ok = digits.ok();
      if (ok) parts[i] = *digits;
    }
    if (ok) {
      text = parts[2] == "1" ? absl::StrCat("range(", parts[0], ", ", parts[1], ")")
                             : absl::StrCat("range(", parts[0], ", ", parts[1], ", ", parts[2], ")");
    }
  } else {
    return false;
  }
  if (text.ok()) {
    value->repr = *std::move(text);
    value->truncated = cut;
  } else {
    value->repr = Corrupt(value->type, object, "unreadable");
    value->truncated = true;
  }
  return true;
}

std::string ValueReader::Corrupt(const std::string& type_name, uint64_t object, const std::string& why) {
  return absl::StrCat("<", type_name, " at ", Address(object), ", ", why, ">");
}

std::string ValueReader::Marker(Container kind, const std::string& name) {
  switch (kind) {
    case Container::kList: return "[...]";
    case Container::kTuple: return "(...)";
    case Container::kDict: case Container::kSet: return "{...}";
    case Container::kFrozenSet: return "frozenset({...})";
    case Container::kObject: break;
  }
  return absl::StrCat(name, "(...)");
}

bool ValueReader::Open(uint64_t object, Container kind, int depth, PyValue* value) {
  bool cycle = std::find(open_.begin(), open_.end(), object) != open_.end();
  if (!cycle && depth < limits_.max_depth) return true;
  value->repr = Marker(kind, ShortName(value->type));
  value->truncated = !cycle;  // a cycle is printed so by Python too
  return false;
}

bool ValueReader::Append(const std::string& text, bool first, PyValue* container) {
  if (!first) container->repr += ", ";
  container->repr += text;
  // Bytes bound code points from above: count them only when it matters.
  if (container->repr.size() <= limits_.max_repr || CodePoints(container->repr) <= limits_.max_repr) return true;
  container->truncated = true;  // cut at the top (Read), where the length bound applies
  return false;
}

void ValueReader::MarkCut(bool first, PyValue* container) {
  container->repr += first ? "..." : ", ...";
  container->truncated = true;
}

void ValueReader::ReadSequence(uint64_t object, Container kind, int depth, PyValue* value) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  bool list = kind == Container::kList;
  absl::StatusOr<int64_t> size = objects_.ReadVarSize(object);
  if (!size.ok()) {
    value->repr = Corrupt(value->type, object, "unreadable");
    value->truncated = true;
    return;
  }
  uint64_t items = object + o.tuple_items;
  if (list) {
    absl::StatusOr<int64_t> allocated = ReadValue<int64_t>(reader, object + o.list_allocated);
    absl::StatusOr<uint64_t> array = ReadPointer(reader, object + o.list_items);
    if (!allocated.ok() || !array.ok()) {
      value->repr = Corrupt(value->type, object, "unreadable");
      value->truncated = true;
      return;
    }
    if (*size < 0 || *size > *allocated || *allocated > kMaxPlausibleLength) {
      value->repr = Corrupt(value->type, object, absl::StrCat("corrupt: size ", *size, " of ", *allocated, " allocated"));
      value->truncated = true;
      return;
    }
    items = *array;
  } else if (*size < 0 || *size > kMaxPlausibleLength) {
    value->repr = Corrupt(value->type, object, absl::StrCat("corrupt: size ", *size));
    value->truncated = true;
    return;
  }
  if (!Open(object, kind, depth, value)) return;
  open_.push_back(object);
  size_t count = std::min(static_cast<size_t>(*size), limits_.max_items);
  std::vector<uint64_t> pointers(count);
  absl::Status status = count == 0 ? absl::OkStatus()
                                   : reader.Read(items, absl::MakeSpan(reinterpret_cast<std::byte*>(pointers.data()),
                                                                       count * sizeof(uint64_t)));
  value->repr = list ? "[" : "(";
  bool cut = static_cast<size_t>(*size) > count || !status.ok();
  size_t shown = 0;
  if (status.ok()) {
    for (size_t i = 0; i < count; ++i) {
      if (OutOfBudget()) {
        cut = true;
        break;
      }
      PyValue item = Value(pointers[i], depth + 1);
      value->truncated |= item.truncated;
      bool room = Append(item.repr, shown++ == 0, value);
      Keep(std::move(item), &value->items);
      if (!room) break;
    }
  }
  if (cut) MarkCut(shown == 0, value);
  if (!list && *size == 1 && shown == 1) value->repr += ",";
  value->repr += list ? "]" : ")";
  open_.pop_back();
}

void ValueReader::ReadDict(uint64_t object, int depth, PyValue* value) {
  absl::StatusOr<int64_t> used = ReadValue<int64_t>(objects_.reader(), object + kDictUsed);
  if (!used.ok() || *used < 0 || *used > kMaxPlausibleLength) {
    value->repr = Corrupt(value->type, object, used.ok() ? absl::StrCat("corrupt: size ", *used) : "unreadable");
    value->truncated = true;
    return;
  }
  if (!Open(object, Container::kDict, depth, value)) return;
  open_.push_back(object);
  value->repr = "{";
  bool cut = false;
  size_t shown = 0;
  absl::Status status = objects_.ForEachDictEntry(object, kMaxDictEntriesScanned, [&](uint64_t k, uint64_t v) {
    if (shown >= limits_.max_items || OutOfBudget()) {
      cut = true;
      return false;
    }
    PyValueEntry entry{Value(k, depth + 1), Value(v, depth + 1)};
    value->truncated |= entry.key.truncated || entry.value.truncated;
    bool room = Append(absl::StrCat(entry.key.repr, ": ", entry.value.repr), shown++ == 0, value);
    Keep(std::move(entry), &value->entries);
    return room;
  });
  open_.pop_back();
  if (!status.ok() && shown == 0) {
    value->repr = Corrupt(value->type, object, absl::StrCat("unreadable: ", status.message()));
    value->truncated = true;
    return;
  }
  if (!status.ok() || cut || (static_cast<size_t>(*used) > shown && !value->truncated)) {
    MarkCut(shown == 0, value);
  }
  value->repr += "}";
}

void ValueReader::ReadSet(uint64_t object, Container kind, int depth, PyValue* value) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  bool frozen = kind == Container::kFrozenSet;
  absl::StatusOr<int64_t> used = ReadValue<int64_t>(reader, object + kSetUsed);
  absl::StatusOr<int64_t> mask = ReadValue<int64_t>(reader, object + o.set_mask);
  absl::StatusOr<uint64_t> table = ReadPointer(reader, object + o.set_table);
  if (!used.ok() || !mask.ok() || !table.ok()) {
    value->repr = Corrupt(value->type, object, "unreadable");
    value->truncated = true;
    return;
  }
  uint64_t slots = static_cast<uint64_t>(*mask) + 1;
  if (*used < 0 || *mask < 0 || *mask > kMaxPlausibleLength || (slots & (slots - 1)) != 0 ||
      static_cast<uint64_t>(*used) > slots) {
    value->repr = Corrupt(value->type, object, absl::StrCat("corrupt: ", *used, " used of mask ", *mask));
    value->truncated = true;
    return;
  }
  if (!Open(object, kind, depth, value)) return;
  if (*used == 0) {
    value->repr = frozen ? "frozenset()" : "set()";
    return;
  }
  open_.push_back(object);
  value->repr = frozen ? "frozenset({" : "{";
  bool cut = false;
  bool room = true;
  size_t shown = 0;
  size_t scan = std::min<uint64_t>(slots, kMaxSetSlotsScanned);
  constexpr size_t kChunk = 256;
  for (size_t first = 0; first < scan && room && !cut; first += kChunk) {
    size_t count = std::min(kChunk, scan - first);
    absl::StatusOr<std::string> entries = ReadBytes(reader, *table + first * kSetEntrySize, count * kSetEntrySize);
    if (!entries.ok()) {
      cut = true;
      break;
    }
    for (size_t i = 0; i < count; ++i) {
      uint64_t key = LoadAt<uint64_t>(*entries, static_cast<int64_t>(i * kSetEntrySize));
      int64_t hash = LoadAt<int64_t>(*entries, static_cast<int64_t>(i * kSetEntrySize + 8));
      if (key == 0 || hash == -1) continue;  // empty, or the dummy of a deleted key
      if (shown >= limits_.max_items || OutOfBudget()) {
        cut = true;
        break;
      }
      PyValue item = Value(key, depth + 1);
      value->truncated |= item.truncated;
      room = Append(item.repr, shown++ == 0, value);
      Keep(std::move(item), &value->items);
      if (!room) break;
    }
  }
  open_.pop_back();
  if (cut || (room && static_cast<size_t>(*used) > shown)) MarkCut(shown == 0, value);
  value->repr += frozen ? "})" : "}";
}

absl::StatusOr<uint64_t> ValueReader::Flags(uint64_t type) {
  return ReadValue<uint64_t>(objects_.reader(), type + objects_.offsets().type_flags);
}

void ValueReader::ReadOther(uint64_t object, uint64_t type, int depth, PyValue* value) {
  const KnownTypes& types = objects_.types();
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  std::string fallback = absl::StrCat("<", value->type, " at ", Address(object), ">");
  value->repr = fallback;
  absl::StatusOr<uint64_t> flags = Flags(type);
  if (!flags.ok()) return;
  if (type == types.module) {
    absl::StatusOr<uint64_t> dict = ReadPointer(reader, object + o.module_dict);
    absl::StatusOr<uint64_t> name = dict.ok() && *dict != 0 ? objects_.DictGetString(*dict, "__name__")
                                                            : absl::StatusOr<uint64_t>(0);
    absl::StatusOr<std::string> text = name.ok() && *name != 0 ? objects_.ReadString(*name, limits_.max_string)
                                                               : absl::StatusOr<std::string>(absl::NotFoundError(""));
    if (text.ok()) value->repr = absl::StrCat("<module ", PythonStringRepr(*text, false), ">");
  } else if (type == types.function && Has(o.function_qualname)) {
    absl::StatusOr<uint64_t> qualname = ReadPointer(reader, object + o.function_qualname);
    absl::StatusOr<std::string> text = qualname.ok() ? objects_.ReadString(*qualname, limits_.max_string)
                                                     : absl::StatusOr<std::string>(qualname.status());
    if (text.ok()) value->repr = absl::StrCat("<function ", *text, " at ", Address(object), ">");
  } else if (type == types.code) {
    absl::StatusOr<uint64_t> name = ReadPointer(reader, object + o.code_name);
    absl::StatusOr<uint64_t> file = ReadPointer(reader, object + o.code_filename);
    absl::StatusOr<int32_t> line = ReadValue<int32_t>(reader, object + o.code_firstlineno);
    if (name.ok() && file.ok() && line.ok()) {
      absl::StatusOr<std::string> name_text = objects_.ReadString(*name, limits_.max_string);
      absl::StatusOr<std::string> file_text = objects_.ReadString(*file, limits_.max_string);
      if (name_text.ok() && file_text.ok()) {
        value->repr = absl::StrCat("<code object ", *name_text, " at ", Address(object), ", file \"", *file_text,
                                   "\", line ", *line, ">");
      }
    }
  } else if (*flags & kTpFlagsTypeSubclass) {
    value->repr = ClassRepr(object);
  } else if (value->type == "_thread.lock" || value->type == "_thread.RLock") {
    value->repr = LockRepr(object, value->type);
  } else if (*flags & kTpFlagsBaseExcSubclass) {
    ReadException(object, depth, value);
  } else if (*flags & kTpFlagsHeapType) {
    ReadInstance(object, type, depth, value);
  }
}

std::string ValueReader::ClassRepr(uint64_t type) {
  absl::StatusOr<std::string> name = QualifiedTypeName(type);
  if (!name.ok()) return absl::StrCat("<class at ", Address(type), ">");
  return absl::StrCat("<class '", *name, "'>");
}

absl::StatusOr<std::string> ValueReader::QualifiedTypeName(uint64_t type) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  ASSIGN_OR_RETURN(uint64_t name_address, ReadPointer(reader, type + o.type_name));
  ASSIGN_OR_RETURN(std::string name, memory::ReadCString(reader, name_address, limits_.max_string));
  std::string module;
  absl::StatusOr<uint64_t> flags = Flags(type);
  if (flags.ok() && (*flags & kTpFlagsHeapType) && Has(o.type_dict)) {
    absl::StatusOr<uint64_t> dict = ReadPointer(reader, type + o.type_dict);
    absl::StatusOr<uint64_t> entry = dict.ok() && *dict != 0 ? objects_.DictGetString(*dict, "__module__")
                                                             : absl::StatusOr<uint64_t>(0);
    if (entry.ok() && *entry != 0) module = objects_.ReadString(*entry, limits_.max_string).value_or("");
  }
  if (module.empty() || module == "builtins") return name;
  return absl::StrCat(module, ".", name);
}

// As _thread's lock_repr/rlock_repr print them.
std::string ValueReader::LockRepr(uint64_t object, const std::string& type_name) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  std::string fallback = absl::StrCat("<", type_name, " at ", Address(object), ">");
  if (type_name == "_thread.lock") {
    absl::StatusOr<uint8_t> locked = ReadValue<uint8_t>(reader, object + o.lock_locked);
    if (!locked.ok()) return fallback;
    return absl::StrCat("<", (*locked & 1) ? "locked" : "unlocked", " ", type_name, " object at ", Address(object), ">");
  }
  absl::StatusOr<uint64_t> owner = ReadValue<uint64_t>(reader, object + o.rlock_owner);
  absl::StatusOr<uint64_t> count = ReadValue<uint64_t>(reader, object + o.rlock_count);
  if (!owner.ok() || !count.ok()) return fallback;
  uint64_t shown = *count;
  bool locked = *count != 0;
  if (!Has(o.lock_sem)) {
    // 3.14+: a _PyRecursiveMutex, whose level counts the acquisitions after
    // the first; it is held when its owner is set.
    locked = *owner != 0;
    shown = locked ? *count + 1 : 0;
  }
  return absl::StrCat("<", locked ? "locked" : "unlocked", " ", type_name, " object owner=", locked ? *owner : 0,
                      " count=", shown, " at ", Address(object), ">");
}

void ValueReader::ReadException(uint64_t object, int depth, PyValue* value) {
  const PyOffsets& o = objects_.offsets();
  std::string name = ShortName(value->type);
  if (!Open(object, Container::kObject, depth, value)) return;
  absl::StatusOr<uint64_t> args = ReadPointer(objects_.reader(), object + o.exception_args);
  absl::StatusOr<bool> tuple = args.ok() && *args != 0 ? objects_.IsInstance(*args, objects_.types().tuple)
                                                       : absl::StatusOr<bool>(false);
  absl::StatusOr<int64_t> size = tuple.ok() && *tuple ? objects_.ReadVarSize(*args) : absl::StatusOr<int64_t>(0);
  if (!size.ok() || *size < 0 || *size > kMaxPlausibleLength) return;  // keeps <Name at 0x...>
  open_.push_back(object);
  value->repr = name + "(";
  size_t count = std::min(static_cast<size_t>(*size), limits_.max_items);
  absl::StatusOr<std::vector<uint64_t>> items =
      count == 0 ? std::vector<uint64_t>() : objects_.ReadTupleItems(*args, count);
  bool cut = !items.ok() || count < static_cast<size_t>(*size);
  size_t shown = 0;
  if (items.ok()) {
    for (size_t i = 0; i < items->size(); ++i) {
      if (OutOfBudget()) {
        cut = true;
        break;
      }
      PyValue item = Value((*items)[i], depth + 1);
      value->truncated |= item.truncated;
      bool room = Append(item.repr, shown++ == 0, value);
      Keep(std::move(item), &value->items);
      if (!room) break;
    }
  }
  if (cut) MarkCut(shown == 0, value);
  value->repr += ")";
  open_.pop_back();
}

void ValueReader::ReadInstance(uint64_t object, uint64_t type, int depth, PyValue* value) {
  std::string name = ShortName(value->type);
  std::string opaque = absl::StrCat("<", name, " at ", Address(object), ">");
  if (!Open(object, Container::kObject, depth, value)) return;
  open_.push_back(object);
  value->repr = name + "(";
  bool cut = false;
  bool has_dict = false;
  size_t shown = 0;
  absl::Status status = objects_.ForEachInstanceAttribute(
      object, kMaxDictEntriesScanned,
      [&](uint64_t k, uint64_t v) {
        if (shown >= limits_.max_items || OutOfBudget()) {
          cut = true;
          return false;
        }
        absl::StatusOr<std::string> key = objects_.ReadString(k, limits_.max_string);
        if (!key.ok()) return true;  // not a str key: not an attribute to show
        PyValueAttribute attribute{*key, Value(v, depth + 1)};
        value->truncated |= attribute.value.truncated;
        bool room = Append(absl::StrCat(attribute.name, "=", attribute.value.repr), shown++ == 0, value);
        Keep(std::move(attribute), &value->attributes);
        return room;
      },
      &has_dict);
  if (!status.ok()) cut = true;
  if (!cut && CodePoints(value->repr) <= limits_.max_repr) ReadSlots(object, type, depth, &shown, value);
  open_.pop_back();
  if (!has_dict && shown == 0 && !cut) {
    value->repr = opaque;  // neither __dict__ nor set __slots__
    return;
  }
  if (cut) MarkCut(shown == 0, value);
  value->repr += ")";
}

// Set __slots__ of the object's class and its Python base classes.
void ValueReader::ReadSlots(uint64_t object, uint64_t type, int depth, size_t* shown, PyValue* value) {
  const PyOffsets& o = objects_.offsets();
  memory::MemoryReader& reader = objects_.reader();
  if (!Has(o.type_members) || !Has(o.type_base)) return;
  for (int level = 0; level < kMaxBases && type != 0; ++level) {
    absl::StatusOr<uint64_t> flags = Flags(type);
    if (!flags.ok() || !(*flags & kTpFlagsHeapType)) return;  // builtin bases keep no slots of ours
    absl::StatusOr<uint64_t> members = ReadPointer(reader, type + o.type_members);
    for (size_t i = 0; members.ok() && *members != 0 && i < kMaxMembers; ++i) {
      absl::StatusOr<std::string> member = ReadBytes(reader, *members + i * kMemberDefSize, kMemberDefSize);
      if (!member.ok()) break;
      uint64_t name_address = LoadAt<uint64_t>(*member, 0);
      int32_t kind = LoadAt<int32_t>(*member, 8);
      int64_t offset = LoadAt<int64_t>(*member, 16);
      if (name_address == 0) break;
      if ((kind != kMemberTypeObjectEx && kind != kMemberTypeObject) || offset <= 0 || offset > (1 << 16)) continue;
      absl::StatusOr<std::string> name = memory::ReadCString(reader, name_address, 256);
      if (!name.ok() || absl::StartsWith(*name, "__")) continue;  // __weakref__, __dict__
      absl::StatusOr<uint64_t> slot = ReadPointer(reader, object + offset);
      if (!slot.ok() || *slot == 0) continue;  // never set
      if (*shown >= limits_.max_items || OutOfBudget()) {
        MarkCut(*shown == 0, value);
        return;
      }
      PyValueAttribute attribute{*name, Value(*slot, depth + 1)};
      value->truncated |= attribute.value.truncated;
      bool room = Append(absl::StrCat(attribute.name, "=", attribute.value.repr), (*shown)++ == 0, value);
      Keep(std::move(attribute), &value->attributes);
      if (!room) return;
    }
    absl::StatusOr<uint64_t> base = ReadPointer(reader, type + o.type_base);
    if (!base.ok()) return;
    type = *base;
  }
}

}  // namespace pyhang::python
