// Reading Python objects out of target memory: strings, numbers, tuples,
// dicts, instance attributes, and short bounded reprs for --locals.
// Everything read is untrusted: lengths are capped, types are checked
// against the exported type objects, and garbage gives an error or a
// placeholder, never a crash.
#ifndef PYHANG_USERSPACE_PYTHON_OBJECTS_H_
#define PYHANG_USERSPACE_PYTHON_OBJECTS_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/python/py_offsets.h"

namespace pyhang::python {

// Addresses of exported type objects and singletons in the target (0 when
// a symbol was not found).
struct KnownTypes {
  uint64_t code = 0;
  uint64_t unicode = 0;
  uint64_t bytes = 0;
  uint64_t long_int = 0;
  uint64_t boolean = 0;
  uint64_t floating = 0;
  uint64_t tuple = 0;
  uint64_t list = 0;
  uint64_t dict = 0;
  uint64_t set = 0;
  uint64_t frozenset = 0;
  uint64_t cell = 0;
  uint64_t method = 0;
  uint64_t cfunction = 0;
  uint64_t bytearray = 0;
  uint64_t complex = 0;
  uint64_t range = 0;
  uint64_t module = 0;
  uint64_t function = 0;
  uint64_t type = 0;  // PyType_Type: the class of classes
  uint64_t none_object = 0;
  uint64_t true_object = 0;
  uint64_t false_object = 0;
  uint64_t ellipsis_object = 0;
};

// The bounds of one value's repr (values.h says how each one cuts).
struct ReprLimits {
  size_t max_string = 256;     // characters of a str, bytes of a bytes/bytearray
  size_t max_items = 16;       // items of a container, attributes of an object
  int max_depth = 3;           // containers inside containers
  size_t max_repr = 1024;      // characters of the whole repr
  size_t max_objects = 512;    // objects read for one value
  size_t max_int_digits = 128; // 30-bit digits of an int (about 1,150 decimal digits)
  // Keep each value's items, entries and attributes (JSON); text needs
  // only the repr, and a dump of 50,000 locals is faster without them.
  bool structure = true;
};

class ObjectReader {
 public:
  // Caps on what a single object read may cost.
  static constexpr size_t kMaxStringBytes = 1 << 16;
  static constexpr size_t kMaxTupleItems = 1 << 16;
  static constexpr size_t kMaxDictEntries = 1 << 16;

  ObjectReader(memory::MemoryReader& reader, const PyOffsets& offsets, const KnownTypes& types)
      : reader_(reader), offsets_(offsets), types_(types) {}

  memory::MemoryReader& reader() { return reader_; }
  const PyOffsets& offsets() const { return offsets_; }
  const KnownTypes& types() const { return types_; }

  absl::StatusOr<uint64_t> TypeOf(uint64_t object);
  // tp_name of the object's type ("int", "_thread.lock", ...), cached per type.
  absl::StatusOr<std::string> TypeName(uint64_t object);
  absl::StatusOr<std::string> NameOfType(uint64_t type);
  absl::StatusOr<bool> IsInstance(uint64_t object, uint64_t type);

  // str -> UTF-8, at most `max_chars` code points (`truncated` tells).
  absl::StatusOr<std::string> ReadString(uint64_t object, size_t max_chars = kMaxStringBytes,
                                         bool* truncated = nullptr);
  absl::StatusOr<std::string> ReadBytesObject(uint64_t object, size_t max_bytes,
                                              bool* truncated = nullptr);
  // int -> int64 (nullopt if it does not fit).
  absl::StatusOr<std::optional<int64_t>> ReadSmallInt(uint64_t object);
  absl::StatusOr<std::vector<uint64_t>> ReadTupleItems(uint64_t tuple, size_t max_items);
  absl::StatusOr<int64_t> ReadVarSize(uint64_t object);

  // Calls `visit(key, value)` for up to `max_entries` live entries of a dict.
  using DictVisitor = std::function<bool(uint64_t key, uint64_t value)>;  // false = stop
  absl::Status ForEachDictEntry(uint64_t dict, size_t max_entries, const DictVisitor& visit);
  // Value for a str key, or 0 if absent.
  absl::StatusOr<uint64_t> DictGetString(uint64_t dict, absl::string_view key);

  // An attribute from an ordinary instance's __dict__, or 0 if absent.
  absl::StatusOr<uint64_t> InstanceAttribute(uint64_t object, absl::string_view name);
  // Calls `visit(key, value)` for the instance's __dict__ entries, in order,
  // wherever this version keeps them (a dict, split or inline values).
  // `has_dict` (if given) tells whether the instance has a __dict__ at all.
  absl::Status ForEachInstanceAttribute(uint64_t object, size_t max_entries,
                                        const DictVisitor& visit, bool* has_dict = nullptr);

  // int -> decimal text (an int of more than max_int_digits digits gives
  // "<int at 0x..., N bits>"); float -> Python's repr.
  absl::StatusOr<std::string> IntRepr(uint64_t object, const ReprLimits& limits);
  absl::StatusOr<std::string> FloatRepr(uint64_t object);

 private:
  absl::Status ForEachKeysEntry(uint64_t keys, uint64_t values, size_t max_entries,
                                const DictVisitor& visit);
  absl::Status ForEachKeysEntryOld(uint64_t keys, uint64_t values, size_t max_entries,
                                   const DictVisitor& visit);
  // Where an instance keeps its attributes: a dict, or values over the
  // type's shared keys (managed dicts, 3.11+); all 0 if it has neither.
  struct AttributeStore {
    uint64_t dict = 0;
    uint64_t keys = 0;
    uint64_t values = 0;
    bool has_dict = false;
  };
  absl::StatusOr<AttributeStore> FindAttributeStore(uint64_t object);
  absl::StatusOr<AttributeStore> FindManagedStore(uint64_t object, uint64_t type);

  memory::MemoryReader& reader_;
  const PyOffsets& offsets_;
  const KnownTypes& types_;
  absl::flat_hash_map<uint64_t, std::string> type_names_;
};

// Python's repr() of a float, e.g. 1.5, 1e+16, 1e-05, inf, nan.
std::string PythonFloatRepr(double value);
// Python's repr() of a str already decoded to UTF-8 (quotes and escapes),
// and of bytes; `truncated` adds "..." after the closing quote.
std::string PythonStringRepr(absl::string_view utf8, bool truncated);
std::string PythonBytesRepr(absl::string_view bytes, bool truncated);
// Appends code point `cp` as UTF-8 (invalid code points as U+FFFD).
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_OBJECTS_H_
