#include "userspace/core/binary_locator.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/process/build_id.h"

namespace pyhang::core {
namespace {

constexpr size_t kMaxWarnings = 64;

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

BinaryLocator::BinaryLocator(LocatorOptions options) : options_(std::move(options)) {
  while (options_.sysroot.size() > 1 && absl::EndsWith(options_.sysroot, "/")) options_.sysroot.pop_back();
  if (options_.sysroot == "/") options_.sysroot.clear();
}

std::vector<std::string> BinaryLocator::DebugRoots() const {
  std::vector<std::string> roots;
  if (!options_.sysroot.empty()) roots.push_back(options_.sysroot + "/usr/lib/debug");
  roots.push_back("/usr/lib/debug");
  return roots;
}

std::string BinaryLocator::DebugFile(const std::string& build_id) const {
  for (const std::string& root : DebugRoots()) {
    std::string path = process::BuildIdPath(root, build_id, ".debug");
    if (!path.empty() && IsRegularFile(path)) return path;
  }
  return "";
}

std::vector<std::string> BinaryLocator::Candidates(const std::string& target_path,
                                                   const std::string& build_id) const {
  std::vector<std::string> candidates;
  if (!options_.executable.empty() && target_path == options_.executable_path) {
    candidates.push_back(options_.executable);
  }
  // A container image's file first when one is given: the host's file at
  // the same path is most likely another build.
  if (!options_.sysroot.empty()) candidates.push_back(options_.sysroot + target_path);
  candidates.push_back(target_path);
  for (const std::string& root : DebugRoots()) {
    std::string link = process::BuildIdPath(root, build_id, "");
    if (!link.empty()) candidates.push_back(link);
  }
  return candidates;
}

const LocatedFile& BinaryLocator::Locate(const std::string& target_path,
                                         const std::string& build_id) {
  if (auto it = located_.find(target_path); it != located_.end()) return it->second;
  LocatedFile located;
  located.build_id = build_id;
  for (const std::string& candidate : Candidates(target_path, build_id)) {
    if (!absl::StartsWith(candidate, "/") && !absl::StartsWith(candidate, ".")) continue;
    if (!IsRegularFile(candidate)) continue;
    if (build_id.empty()) {
      located.path = candidate;
      break;
    }
    absl::StatusOr<std::string> id = process::FileBuildId(candidate);
    if (id.ok() && *id == build_id) {
      located.path = candidate;
      located.verified = true;
      break;
    }
    if (warnings_.size() < kMaxWarnings) {
      warnings_.push_back(absl::StrCat(
          candidate, " is not the file the core's process mapped at ", target_path,
          ": its build id is ", id.ok() ? (id->empty() ? "missing" : *id) : "unreadable",
          ", the core's ", build_id, "; not used"));
    }
  }
  if (located.path.empty() && warnings_.size() < kMaxWarnings && absl::StartsWith(target_path, "/")) {
    warnings_.push_back(absl::StrCat(target_path, " (build id ", build_id.empty() ? "unknown" : build_id,
                                     ") was not found on this machine",
                                     options_.sysroot.empty() ? "" : absl::StrCat(" nor under ", options_.sysroot)));
  }
  return located_.emplace(target_path, std::move(located)).first->second;
}

}  // namespace pyhang::core
