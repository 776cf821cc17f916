// Instruction offset -> source line, for each line-table format CPython has
// used (Objects/lnotab_notes.txt, Objects/locations.md).
#ifndef PYHANG_USERSPACE_PYTHON_LINE_TABLE_H_
#define PYHANG_USERSPACE_PYTHON_LINE_TABLE_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>

#include "bpf/pyhang_abi.h"

namespace pyhang::python {

// The line of the instruction at `offset`, or nullopt if the table says the
// instruction has no line or the table is malformed.
//  - PYHANG_LNOTAB (3.8, 3.9): `offset` in bytes.
//  - PYHANG_LINETABLE_310 (3.10): `offset` in bytes (f_lasti * 2).
//  - PYHANG_LOCATIONS (3.11+): `offset` in 2-byte code units.
// A negative offset (frame not started) gives `first_line`.
std::optional<int> LineForOffset(pyhang_linetable_format format, absl::string_view table,
                                 int first_line, int64_t offset);

// The per-format functions, exposed for tests.
std::optional<int> LineFromLnotab(absl::string_view table, int first_line, int64_t byte_offset);
std::optional<int> LineFromLinetable310(absl::string_view table, int first_line,
                                        int64_t byte_offset);
std::optional<int> LineFromLocations(absl::string_view table, int first_line, int64_t unit_offset);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_LINE_TABLE_H_
