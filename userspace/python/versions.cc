#include "userspace/python/versions.h"

#include "absl/strings/str_cat.h"

namespace pyhang::python {

const SupportedVersion* FindSupportedVersion(const PythonVersion& version) {
  for (const SupportedVersion& supported : kSupportedVersions) {
    if (supported.major == version.major && supported.minor == version.minor) return &supported;
  }
  return nullptr;
}

bool IsSupported(const PythonVersion& version) { return FindSupportedVersion(version) != nullptr; }

std::string SupportedRangeText() {
  const SupportedVersion& oldest = kSupportedVersions[0];
  const SupportedVersion& newest = kSupportedVersions[std::size(kSupportedVersions) - 1];
  return absl::StrCat(oldest.major, ".", oldest.minor, "-", newest.major, ".", newest.minor);
}

const char* OffsetsSourceName(OffsetsSource source) {
  switch (source) {
    case OffsetsSource::kTable: return "table";
    case OffsetsSource::kTableCheckedByTarget: return "table+debug_offsets";
    case OffsetsSource::kTarget: return "debug_offsets";
  }
  return "?";
}

}  // namespace pyhang::python
