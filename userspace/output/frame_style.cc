#include "userspace/output/frame_style.h"

#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace pyhang::output {
namespace {

using profile::Frame;
using profile::FrameKind;

constexpr absl::string_view kPackageDirs[] = {"/site-packages/", "/dist-packages/"};

// Position just past the last "/site-packages/" or "/dist-packages/", or npos.
size_t PackageDirEnd(absl::string_view file) {
  size_t best = absl::string_view::npos;
  for (absl::string_view dir : kPackageDirs) {
    const size_t at = file.rfind(dir);
    if (at != absl::string_view::npos && (best == absl::string_view::npos || at + dir.size() > best)) {
      best = at + dir.size();
    }
  }
  return best;
}

// Position just past "/lib/pythonX.Y/" (also lib64, "3.13t" builds), or npos.
size_t StdlibDirEnd(absl::string_view file) {
  for (size_t at = file.find("/lib"); at != absl::string_view::npos; at = file.find("/lib", at + 1)) {
    size_t i = at + 4;
    if (file.substr(i, 2) == "64") i += 2;
    if (file.substr(i, 7) != "/python") continue;
    i += 7;
    const size_t digits_start = i;
    while (i < file.size() && (std::isdigit(static_cast<unsigned char>(file[i])) || file[i] == '.')) ++i;
    if (i == digits_start || file.substr(digits_start, i - digits_start).find('.') == absl::string_view::npos) {
      continue;  // "/lib/python3/" is Debian's dist-packages root, not the stdlib
    }
    if (i < file.size() && file[i] == 't') ++i;
    if (i < file.size() && file[i] == '/') return i + 1;
  }
  return absl::string_view::npos;
}

// By the object file's name alone, like the Python files by their path.
FrameCategory ClassifyNative(absl::string_view module) {
  const absl::string_view base = module.substr(module.rfind('/') + 1);
  if (absl::StartsWith(base, "libpython")) return FrameCategory::kNativeCPython;
  if (absl::StartsWith(base, "python") && base.size() > 6 &&
      absl::ascii_isdigit(static_cast<unsigned char>(base[6]))) {
    return FrameCategory::kNativeCPython;  // python3, python3.14 (a static build)
  }
  for (absl::string_view system : {"libc.so", "libc-", "ld-linux", "ld64.so", "libm.so", "libpthread",
                                   "libdl.so", "librt.so", "libgcc_s", "libstdc++", "libffi",
                                   "linux-vdso", "[vdso]"}) {
    if (absl::StartsWith(base, system)) return FrameCategory::kNativeSystem;
  }
  return FrameCategory::kNative;
}

FrameCategory ClassifyPython(absl::string_view file) {
  if (absl::StartsWith(file, "<frozen ")) return FrameCategory::kStdlib;
  if (PackageDirEnd(file) != absl::string_view::npos) return FrameCategory::kLibrary;
  if (StdlibDirEnd(file) != absl::string_view::npos) return FrameCategory::kStdlib;
  return FrameCategory::kUser;
}

}  // namespace

FrameCategory Classify(const Frame& frame) {
  switch (frame.kind) {
    case FrameKind::kPython: return ClassifyPython(frame.file);
    case FrameKind::kNative: return ClassifyNative(frame.file);
    case FrameKind::kKernel: return FrameCategory::kKernel;
    case FrameKind::kState: return FrameCategory::kState;
    case FrameKind::kThread:
    case FrameKind::kProcess: return FrameCategory::kRoot;
  }
  return FrameCategory::kUser;
}

absl::string_view CategoryName(FrameCategory category) {
  switch (category) {
    case FrameCategory::kUser: return "your code";
    case FrameCategory::kStdlib: return "stdlib";
    case FrameCategory::kLibrary: return "site-packages";
    case FrameCategory::kNative: return "native";
    case FrameCategory::kNativeCPython: return "CPython (C)";
    case FrameCategory::kNativeSystem: return "libc & system";
    case FrameCategory::kKernel: return "kernel";
    case FrameCategory::kState: return "waiting";
    case FrameCategory::kRoot: return "thread/process";
  }
  return "";
}

std::string ShortFileName(absl::string_view file) {
  if (absl::StartsWith(file, "<")) return std::string(file);
  size_t start = PackageDirEnd(file);
  if (start == absl::string_view::npos) start = StdlibDirEnd(file);
  if (start == absl::string_view::npos) {
    const size_t slash = file.rfind('/');
    start = slash == absl::string_view::npos ? 0 : slash + 1;
  }
  return start < file.size() ? std::string(file.substr(start)) : std::string(file);
}

std::string ShortLabel(const Frame& frame) {
  Frame short_frame = frame;
  if (frame.kind == FrameKind::kPython) short_frame.file = ShortFileName(frame.file);
  return short_frame.Label();
}

Frame ThreadRootFrame(const profile::ThreadInfo& thread) {
  Frame frame;
  frame.kind = FrameKind::kThread;
  frame.name = thread.name.empty() ? absl::StrCat("thread ", thread.tid)
                                   : absl::StrCat("thread ", thread.tid, " \"", thread.name, "\"");
  return frame;
}

}  // namespace pyhang::output
