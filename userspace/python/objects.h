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
  uint64_t none_object = 0;
  uint64_t true_object = 0;
  uint64_t false_object = 0;
};

struct ReprLimits {
  size_t max_string = 256;   // characters shown of a str/bytes value
  size_t max_int_digits = 64;  // 30-bit digits decoded (about 580 decimal digits)
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

  // repr()-like text: None, True, 42, 1.5, 'text', b'bytes'; for anything
  // else "<type at 0x...>" plus len=N for containers.
  std::string Repr(uint64_t object, const ReprLimits& limits = {});

 private:
  absl::Status ForEachKeysEntry(uint64_t keys, uint64_t values, size_t max_entries,
                                const DictVisitor& visit);
  absl::Status ForEachKeysEntryOld(uint64_t keys, uint64_t values, size_t max_entries,
                                   const DictVisitor& visit);
  absl::StatusOr<std::string> IntRepr(uint64_t object, const ReprLimits& limits);
  absl::StatusOr<std::string> FloatRepr(uint64_t object);
  // The instance's keys/values pair for managed dicts; dict pointer otherwise.
  absl::StatusOr<uint64_t> InstanceAttributeManaged(uint64_t object, uint64_t type,
                                                    absl::string_view name);

  memory::MemoryReader& reader_;
  const PyOffsets& offsets_;
  const KnownTypes& types_;
  absl::flat_hash_map<uint64_t, std::string> type_names_;
};

// Python's repr() of a float, e.g. 1.5, 1e+16, 1e-05, inf, nan.
std::string PythonFloatRepr(double value);
// Python's repr() of a str already decoded to UTF-8 (quotes and escapes).
std::string PythonStringRepr(absl::string_view utf8, bool truncated);
// Appends code point `cp` as UTF-8 (invalid code points as U+FFFD).
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_OBJECTS_H_
