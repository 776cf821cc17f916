// Reads one Python value out of target memory as Python's repr() would
// print it, within the bounds of ReprLimits. The cut rules, which the
// integration tests reproduce with the interpreter's own repr():
//  - str, bytes, bytearray: the first max_string characters (bytes), then
//    "..." after the closing quote: 'abc'...
//  - list, tuple, dict, set, frozenset, an object's attributes: the first
//    max_items items, then ", ..." before the closing bracket: [1, 2, ...]
//  - a container nested max_depth containers deep, or inside itself:
//    [...], (...), {...}, frozenset({...}), Name(...)
//  - the whole repr: its first max_repr characters, then "..."
//  - more than max_objects objects read: the rest of each open container
//    is ", ..." (the value is marked truncated).
// Types: None, bool, int (any size up to max_int_digits), float, complex,
// str, bytes, bytearray, range, list, tuple, dict, set, frozenset as
// Python prints them; instances of Python classes as Name(attr=value, ...)
// from __dict__ and __slots__ (<Name at 0x...> when they have neither);
// exceptions as Name(args...); functions, code objects and locks exactly as
// Python prints them; modules as <module 'name'>, classes as
// <class 'module.Name'>; anything else as <type at 0x...>. Memory that
// does not look like the object it claims to be ends that value with a
// marker (<list at 0x..., corrupt: ...>), never the dump.
#ifndef PYHANG_USERSPACE_PYTHON_VALUE_READER_H_
#define PYHANG_USERSPACE_PYTHON_VALUE_READER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/python/objects.h"
#include "userspace/python/value.h"

namespace pyhang::python {

class ValueReader {
 public:
  ValueReader(ObjectReader& objects, const ReprLimits& limits) : objects_(objects), limits_(limits) {}

  // The value at `object` (0 gives "<NULL>"). Each call has its own budget.
  PyValue Read(uint64_t object);
  // A class's name as <class '...'> shows it: "module.Name" for a class
  // defined in Python (its __module__), the bare name for builtins.
  absl::StatusOr<std::string> QualifiedTypeName(uint64_t type);

 private:
  enum class Container { kList, kTuple, kDict, kSet, kFrozenSet, kObject };

  PyValue Value(uint64_t object, int depth);
  bool ReadScalar(uint64_t object, uint64_t type, PyValue* value);
  void ReadOther(uint64_t object, uint64_t type, int depth, PyValue* value);
  // What a container shows when it is too deep or inside itself.
  static std::string Marker(Container kind, const std::string& name);
  // Whether a container may be read (not too deep, not inside itself);
  // if not, its repr becomes its marker.
  bool Open(uint64_t object, Container kind, int depth, PyValue* value);
  void ReadSequence(uint64_t object, Container kind, int depth, PyValue* value);
  void ReadDict(uint64_t object, int depth, PyValue* value);
  void ReadSet(uint64_t object, Container kind, int depth, PyValue* value);
  void ReadInstance(uint64_t object, uint64_t type, int depth, PyValue* value);
  void ReadException(uint64_t object, int depth, PyValue* value);
  void ReadSlots(uint64_t object, uint64_t type, int depth, size_t* shown, PyValue* value);
  // Keeps a part for the JSON structure, unless only the repr is wanted.
  template <typename T>
  void Keep(T&& part, std::vector<T>* parts) {
    if (limits_.structure) parts->push_back(std::forward<T>(part));
  }
  // Appends an item's text to a container's, after ", " unless first;
  // false when the container must stop (length or object budget).
  bool Append(const std::string& text, bool first, PyValue* container);
  // Closes a container whose items were not all shown: ", ..." or "...".
  void MarkCut(bool first, PyValue* container);

  absl::StatusOr<uint64_t> Flags(uint64_t type);
  std::string ClassRepr(uint64_t type);
  std::string LockRepr(uint64_t object, const std::string& type_name);
  std::string Corrupt(const std::string& type_name, uint64_t object, const std::string& why);
  bool OutOfBudget() const { return visited_ >= limits_.max_objects; }

  ObjectReader& objects_;
  const ReprLimits& limits_;
  size_t visited_ = 0;
  std::vector<uint64_t> open_;  // containers being read, outermost first
};

// The number of code points in UTF-8 text, and its first `count` of them.
size_t CodePoints(const std::string& utf8);
std::string FirstCodePoints(const std::string& utf8, size_t count);
// Python's repr() of a complex from its two parts: 1j, (1+2j), (-0-1.5j).
std::string PythonComplexRepr(double real, double imag);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_VALUE_READER_H_
