#include "absl/strings/string_view.h"
#include "userspace/process/maps.h"

#include <cinttypes>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"

namespace pyhang::process {
namespace {

constexpr absl::string_view kDeletedSuffix = " (deleted)";

bool ParseHex(absl::string_view text, uint64_t* value) {
  return absl::SimpleHexAtoi(text, value);
}

// One line: "start-end perms offset dev inode   path".
bool ParseLine(absl::string_view line, MemoryMap* map) {
  std::vector<absl::string_view> fields =
      absl::StrSplit(line, absl::MaxSplits(' ', 5), absl::SkipEmpty());
  if (fields.size() < 5) return false;
  std::pair<absl::string_view, absl::string_view> range = absl::StrSplit(fields[0], '-');
  if (!ParseHex(range.first, &map->start) || !ParseHex(range.second, &map->end)) return false;
  if (fields[1].size() < 3) return false;
  map->readable = fields[1][0] == 'r';
  map->writable = fields[1][1] == 'w';
  map->executable = fields[1][2] == 'x';
  if (!ParseHex(fields[2], &map->offset)) return false;
  if (!absl::SimpleAtoi(fields[4], &map->inode)) return false;
  if (fields.size() == 6) {
    absl::string_view path = absl::StripLeadingAsciiWhitespace(fields[5]);
    map->deleted = absl::ConsumeSuffix(&path, kDeletedSuffix);
    map->path = std::string(path);
  }
  return true;
}

}  // namespace

std::vector<MemoryMap> ParseMaps(absl::string_view text) {
  std::vector<MemoryMap> maps;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    MemoryMap map;
    if (ParseLine(line, &map)) maps.push_back(std::move(map));
  }
  return maps;
}

absl::StatusOr<std::vector<MemoryMap>> ReadMaps(pid_t pid) {
  absl::StatusOr<std::string> text = ReadFileToString(absl::StrCat("/proc/", pid, "/maps"));
  if (!text.ok()) {
    if (absl::IsNotFound(text.status())) {
      return absl::NotFoundError(absl::StrCat("no process with pid ", pid));
    }
    return text.status();
  }
  return ParseMaps(*text);
}

const MemoryMap* FindMap(const std::vector<MemoryMap>& maps, uint64_t address) {
  for (const MemoryMap& map : maps) {
    if (map.Contains(address)) return &map;
  }
  return nullptr;
}

absl::string_view Basename(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace pyhang::process
