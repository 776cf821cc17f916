// How a profile frame is shown to a person: which kind of code it is (your
// code, the standard library, installed packages, native, a wait state) and a
// short label in py-spy's style. Pure functions of the Frame, so every
// output format classifies and labels frames the same way.
#ifndef PYHANG_USERSPACE_OUTPUT_FRAME_STYLE_H_
#define PYHANG_USERSPACE_OUTPUT_FRAME_STYLE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "userspace/profile/profile.h"

namespace pyhang::output {

enum class FrameCategory {
  kUser,     // the program's own Python code
  kStdlib,   // .../lib/pythonX.Y/... (not site-packages) or "<frozen ...>"
  kLibrary,  // site-packages or dist-packages
  kNative,   // native code of extensions and other libraries
  kNativeCPython,  // native code of the interpreter: libpython*, python3.X
  kNativeSystem,   // libc, the dynamic loader, libm, libgcc_s, libffi, the vDSO
  kKernel,         // kernel functions
  kState,    // pseudo-leaves such as "[lock_wait]"
  kRoot,     // "all", thread and process pseudo-roots
};

FrameCategory Classify(const profile::Frame& frame);

// Human name of a category for legends: "your code", "stdlib", ...
absl::string_view CategoryName(FrameCategory category);

// The part of a Python file path a reader needs, like py-spy without
// --full-filenames: the path inside site-packages/dist-packages or inside
// lib/pythonX.Y, the basename otherwise; "<frozen ...>" and similar as is.
// Decided from the path alone: the profile may be rendered on another host.
std::string ShortFileName(absl::string_view file);

// Frame::Label() with the file shortened by ShortFileName().
std::string ShortLabel(const profile::Frame& frame);

// The pseudo-root frame for a thread: `thread 123 "name"`.
profile::Frame ThreadRootFrame(const profile::ThreadInfo& thread);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_FRAME_STYLE_H_
