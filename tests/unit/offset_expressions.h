// Where each field of pyhang's built-in offset tables (struct
// pyhang_py_offsets, bpf/pyhang_abi.h) lives in CPython's own types, per
// range of minor versions: C expressions that gdb evaluates over an
// interpreter's DWARF. The names are CPython's, so they change between
// versions (PyThreadState.frame, then cframe, then current_frame); the
// values are never typed here, they come from the debug info.
#ifndef PYHANG_TESTS_UNIT_OFFSET_EXPRESSIONS_H_
#define PYHANG_TESTS_UNIT_OFFSET_EXPRESSIONS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "userspace/python/py_offsets.h"

namespace pyhang::testing {

struct DwarfExpression {
  enum Kind {
    kValue,     // `text` is a C expression: offsetof, sizeof or an enum value
    kBitfield,  // `text` is "TYPE WORD BIT": the bit number of bit-field
                // WORD.BIT inside WORD (from gdb's `ptype/o TYPE`)
  };
  Kind kind = kValue;
  std::string text;
};

struct FieldTruth {
  std::string field;                       // "tstate_native_thread_id"
  int64_t (*table)(const python::PyOffsets&);  // the table's value
  size_t size;                             // sizeof the field (4, or 1 for __u8 ones)
  struct Range {
    int first_minor;
    int last_minor;
    // Each must equal the table's value (lock_sem stands for two fields).
    std::vector<DwarfExpression> truths;
  };
  std::vector<Range> ranges;

  // The truths for 3.<minor>; empty if CPython has no such field there.
  const std::vector<DwarfExpression>* For(int minor) const;
  // PYHANG_ABSENT for offsets, PYHANG_NO_OWNER for the __u8 fields.
  bool IsAbsent(int64_t value) const;
};

// Every offset field of struct pyhang_py_offsets.
const std::vector<FieldTruth>& FieldTruths();

// The fields that are not offsets into CPython's structs (format switches,
// the version, padding), with their sizes: together with FieldTruths()
// they must cover sizeof(PyOffsets), so a new field cannot go unchecked.
struct UncheckedField {
  const char* field;
  size_t size;
};
const std::vector<UncheckedField>& UncheckedFields();

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_UNIT_OFFSET_EXPRESSIONS_H_
