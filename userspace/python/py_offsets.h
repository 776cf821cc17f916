// The per-process description of a CPython build (struct pyhang_py_offsets,
// defined once in bpf/pyhang_abi.h) and where it comes from: built-in
// tables, overlaid with the target's own _Py_DebugOffsets on 3.13+ (see
// versions.h for which versions rely on which).
#ifndef PYHANG_USERSPACE_PYTHON_PY_OFFSETS_H_
#define PYHANG_USERSPACE_PYTHON_PY_OFFSETS_H_

#include <optional>
#include <string>
#include <vector>

#include "bpf/pyhang_abi.h"
#include "userspace/python/python_version.h"

namespace pyhang::python {

using PyOffsets = pyhang_py_offsets;

static_assert(sizeof(PyOffsets) == 440, "ABI record changed size: update both sides");
static_assert(offsetof(PyOffsets, runtime_interpreters_head) == 20, "ABI layout changed");

inline bool Has(int32_t offset) { return offset != PYHANG_ABSENT; }

// The built-in table for this minor version; nullopt if there is none.
// Values were verified against each installed interpreter's DWARF and by
// reproducing sys._current_frames() (see ../shared/docs/CPYTHON.md). For
// versions whose offsets come from the target (versions.h), the table has
// only the fields _Py_DebugOffsets does not publish.
std::optional<PyOffsets> BuiltinOffsets(const PythonVersion& version);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_PY_OFFSETS_H_
