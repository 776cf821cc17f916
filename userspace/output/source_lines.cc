#include "userspace/output/source_lines.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"

namespace pyhang::output {

absl::StatusOr<std::string> SourceLines::Read(const std::string& file) const {
  if (root_.empty()) return ReadRegularFile(file, kMaxFileBytes);
  if (file[0] == '/') return ReadRegularFileInRoot(root_, file, kMaxFileBytes);
  if (cwd_.empty()) return absl::NotFoundError(absl::StrCat(file, ": the target's working directory is unknown"));
  return ReadRegularFileInRoot(root_, absl::StrCat(cwd_, "/", file), kMaxFileBytes);
}

const std::vector<std::string>* SourceLines::Load(const std::string& file) {
  if (auto it = files_.find(file); it != files_.end()) {
    return it->second ? &*it->second : nullptr;
  }
  if (files_.size() >= kMaxFiles || file.empty() || file[0] == '<') return nullptr;
  absl::StatusOr<std::string> text = Read(file);
  auto& entry = files_[file];
  if (!text.ok()) return nullptr;
  entry = std::vector<std::string>(absl::StrSplit(*text, '\n'));
  return &*entry;
}

std::optional<std::string> SourceLines::Line(const std::string& file, int line) {
  const std::vector<std::string>* lines = Load(file);
  if (lines == nullptr || line <= 0 || static_cast<size_t>(line) > lines->size()) {
    return std::nullopt;
  }
  std::string text(absl::StripAsciiWhitespace((*lines)[line - 1]));
  if (text.size() > kMaxLineChars) text = text.substr(0, kMaxLineChars) + "...";
  return text;
}

}  // namespace pyhang::output
