// A CPython version, decoded from PY_VERSION_HEX.
#ifndef PYHANG_USERSPACE_PYTHON_PYTHON_VERSION_H_
#define PYHANG_USERSPACE_PYTHON_PYTHON_VERSION_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>

namespace pyhang::python {

struct PythonVersion {
  int major = 0;
  int minor = 0;
  int micro = 0;
  int release_level = 0xF;  // 0xA alpha, 0xB beta, 0xC candidate, 0xF final
  int serial = 0;
  bool micro_known = true;  // false when only "3.X" could be determined

  static PythonVersion FromHex(uint32_t hex);
  // Parses "3.9.18", "3.13.0rc1", "3.10"; nullopt if not a version.
  static std::optional<PythonVersion> Parse(absl::string_view text);

  uint32_t ToHex() const;
  // "3.11.7", "3.13.0rc1", or "3.9" when the micro version is unknown.
  std::string ToString() const;
  bool AtLeast(int want_major, int want_minor) const {
    return major > want_major || (major == want_major && minor >= want_minor);
  }
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_PYTHON_VERSION_H_
