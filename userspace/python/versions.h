// The one list of the CPython versions pyhang reads, and where each one's
// offsets come from. The version check, `pyhang versions` (which the tests
// and the README table follow) and the offsets lookup all read this list;
// supporting a new version starts here (see docs/ADDING-A-PYTHON.md).
#ifndef PYHANG_USERSPACE_PYTHON_VERSIONS_H_
#define PYHANG_USERSPACE_PYTHON_VERSIONS_H_

#include <string>

#include "absl/types/span.h"
#include "userspace/python/python_version.h"

namespace pyhang::python {

enum class OffsetsSource {
  // Built-in table only (no _Py_DebugOffsets in these versions).
  kTable,
  // Built-in table, overlaid and cross-checked with the target's
  // _Py_DebugOffsets (mismatches become warnings; the target wins).
  kTableCheckedByTarget,
  // The target's own _Py_DebugOffsets, validated; the built-in table only
  // fills the few fields CPython does not publish (fields of structs whose
  // layout is fixed within a minor version, checked against DWARF).
  // Needed where layouts drift within a minor version (3.14.5 moved every
  // interpreter field after `gc`).
  kTarget,
};

struct SupportedVersion {
  int major;
  int minor;
  OffsetsSource offsets;
};

// Oldest first. Default (GIL) builds on x86_64 Linux with glibc.
inline constexpr SupportedVersion kSupportedVersions[] = {
    {3, 8, OffsetsSource::kTable},
    {3, 9, OffsetsSource::kTable},
    {3, 10, OffsetsSource::kTable},
    {3, 11, OffsetsSource::kTable},
    {3, 12, OffsetsSource::kTable},
    {3, 13, OffsetsSource::kTableCheckedByTarget},
    {3, 14, OffsetsSource::kTarget},
    {3, 15, OffsetsSource::kTarget},
};

// The entry for `version`'s major.minor, or nullptr if unsupported.
const SupportedVersion* FindSupportedVersion(const PythonVersion& version);
bool IsSupported(const PythonVersion& version);
// "3.8-3.15", for messages.
std::string SupportedRangeText();
const char* OffsetsSourceName(OffsetsSource source);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_VERSIONS_H_
