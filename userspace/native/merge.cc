#include "userspace/native/merge.h"

#include "userspace/native/unwinder.h"

namespace pyhang::native {
namespace {

// Where an activation of the eval loop stands in the native stack: the
// eval loop's own frame; or JIT code with the eval loop's caller right
// outside it (the unwinder, having no unwind info for JIT code, stepped
// from it over the eval loop's frame using frame pointers) or nothing
// (the unwind could not leave the JIT code).
bool RunsPythonFrames(const std::vector<python::PyFrame>& native, size_t i) {
  if (IsEvalLoop(native[i].function)) return true;
  if (native[i].function != kJitCode) return false;
  if (i + 1 >= native.size() || native[i + 1].function == kUnwindEnded) return true;
  return !IsEvalLoop(native[i + 1].function) && CallsEvalLoop(native[i + 1].function);
}

}  // namespace

MergedStack MergeStacks(const std::vector<python::PyFrame>& native,
                        const std::vector<python::PyFrame>& python) {
  MergedStack merged;
  merged.frames.reserve(native.size() + python.size());
  size_t next = 0;  // the first Python frame not placed yet
  for (size_t i = 0; i < native.size(); ++i) {
    const python::PyFrame& frame = native[i];
    if (!RunsPythonFrames(native, i)) {
      merged.frames.push_back(frame);
      continue;
    }
    // JIT code stays in the stack, above the Python frames it runs.
    if (!IsEvalLoop(frame.function)) merged.frames.push_back(frame);
    if (next >= python.size()) {
      merged.consistent = false;  // an activation with no Python frame left
      if (IsEvalLoop(frame.function)) merged.frames.push_back(frame);
      continue;
    }
    // This activation's frames: up to and including its entry frame.
    while (next < python.size()) {
      merged.frames.push_back(python[next]);
      if (python[next++].entry) break;
    }
  }
  if (next < python.size()) {
    merged.consistent = false;
    // Above a marker that says the native stack was cut, if there is one.
    auto at = merged.frames.end();
    if (!merged.frames.empty() && merged.frames.back().function == kUnwindEnded) --at;
    merged.frames.insert(at, python.begin() + next, python.end());
  }
  return merged;
}

}  // namespace pyhang::native
