#include "absl/strings/string_view.h"
#include "userspace/python/python_version.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pyhang::python {

PythonVersion PythonVersion::FromHex(uint32_t hex) {
  PythonVersion version;
  version.major = static_cast<int>((hex >> 24) & 0xff);
  version.minor = static_cast<int>((hex >> 16) & 0xff);
  version.micro = static_cast<int>((hex >> 8) & 0xff);
  version.release_level = static_cast<int>((hex >> 4) & 0xf);
  version.serial = static_cast<int>(hex & 0xf);
  return version;
}

uint32_t PythonVersion::ToHex() const {
  return (static_cast<uint32_t>(major) << 24) | (static_cast<uint32_t>(minor) << 16) |
         (static_cast<uint32_t>(micro) << 8) | (static_cast<uint32_t>(release_level) << 4) |
         static_cast<uint32_t>(serial);
}

std::optional<PythonVersion> PythonVersion::Parse(absl::string_view text) {
  // Split the release suffix ("rc1", "a2", "b3", "+") off the last number.
  size_t digits_end = 0;
  while (digits_end < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits_end])) || text[digits_end] == '.')) {
    ++digits_end;
  }
  std::vector<absl::string_view> parts = absl::StrSplit(text.substr(0, digits_end), '.');
  PythonVersion version;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[0], &version.major) ||
      !absl::SimpleAtoi(parts[1], &version.minor)) {
    return std::nullopt;
  }
  version.micro_known = parts.size() >= 3 && absl::SimpleAtoi(parts[2], &version.micro);
  absl::string_view suffix = text.substr(digits_end);
  int serial = 0;
  auto level_from = [&](absl::string_view prefix, int level) {
    if (suffix.substr(0, prefix.size()) != prefix) return false;
    if (!absl::SimpleAtoi(suffix.substr(prefix.size()), &serial)) return false;
    version.release_level = level;
    version.serial = serial;
    return true;
  };
  level_from("rc", 0xC) || level_from("a", 0xA) || level_from("b", 0xB);
  return version;
}

std::string PythonVersion::ToString() const {
  if (!micro_known) return absl::StrCat(major, ".", minor);
  std::string text = absl::StrCat(major, ".", minor, ".", micro);
  switch (release_level) {
    case 0xA: absl::StrAppend(&text, "a", serial); break;
    case 0xB: absl::StrAppend(&text, "b", serial); break;
    case 0xC: absl::StrAppend(&text, "rc", serial); break;
    default: break;
  }
  return text;
}

}  // namespace pyhang::python
