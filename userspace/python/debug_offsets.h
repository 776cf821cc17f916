// _Py_DebugOffsets (3.13+): the offsets CPython publishes about itself at
// the start of _PyRuntime. Read from the target, validated the way
// CPython's own remote reader validates them (cookie, version, build,
// every used field inside its struct and aligned), and laid over the
// built-in table so that the target's own build decides.
#ifndef PYHANG_USERSPACE_PYTHON_DEBUG_OFFSETS_H_
#define PYHANG_USERSPACE_PYTHON_DEBUG_OFFSETS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/python/py_offsets.h"

namespace pyhang::python {

struct DebugOffsetsHeader {
  uint32_t version_hex = 0;
  bool free_threaded = false;
};

// The header if `runtime_address` starts with the "xdebugpy" cookie,
// nullopt if it does not (pre-3.13), an error if memory is unreadable.
absl::StatusOr<std::optional<DebugOffsetsHeader>> ReadDebugOffsetsHeader(
    memory::MemoryReader& reader, uint64_t runtime_address);
std::optional<DebugOffsetsHeader> ParseDebugOffsetsHeader(absl::string_view bytes);

// The fields of `minor`'s _Py_DebugOffsets record ("group.field", byte
// position) in order, and the record's size; empty if the layout is
// unknown. For tests that forge records.
std::vector<std::pair<std::string, size_t>> DebugOffsetsFields(int minor, size_t* record_size);

// True if pyhang knows the layout of `version`'s _Py_DebugOffsets.
bool HasDebugOffsetsLayout(const PythonVersion& version);

// Overlays the target's debug offsets on `offsets` (the built-in fields
// for the same minor version). Returns one line per field where the
// target disagrees with a table value (the target wins). Fails
// (kDataLoss) if the record is malformed: a wrong cookie, another
// version, a free-threaded build, an impossible struct size, an offset
// past its struct or misaligned.
absl::StatusOr<std::vector<std::string>> ApplyDebugOffsets(memory::MemoryReader& reader,
                                                           uint64_t runtime_address,
                                                           const PythonVersion& version,
                                                           PyOffsets* offsets);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_DEBUG_OFFSETS_H_
