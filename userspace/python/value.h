// A Python value as dump --locals / --globals shows it: its repr() within
// bounds (ReprLimits, objects.h) and, for JSON, its structure.
#ifndef PYHANG_USERSPACE_PYTHON_VALUE_H_
#define PYHANG_USERSPACE_PYTHON_VALUE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pyhang::python {

struct PyValueEntry;
struct PyValueAttribute;

struct PyValue {
  std::string type;  // the type's tp_name: "list", "Job", "_thread.lock"; "" if unreadable
  std::string repr;
  uint64_t address = 0;
  std::vector<PyValue> items;                 // list, tuple, set, frozenset, exception args
  std::vector<PyValueEntry> entries;          // dict
  std::vector<PyValueAttribute> attributes;   // an instance's __dict__ and __slots__
  // Something of this value was cut by a bound, or is unreadable.
  bool truncated = false;
};

struct PyValueEntry {
  PyValue key;
  PyValue value;
};

struct PyValueAttribute {
  std::string name;
  PyValue value;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_VALUE_H_
