// One stack from two: a thread's native frames and its Python frames, the
// way the thread really runs. Each activation of the eval loop in the
// native stack is replaced by the Python frames it was running (those up
// to the next PyFrame::entry), so the stack reads top to bottom as the
// truth: `spin (libspin.so)` -> `ffi_call` -> ... -> `loop (app.py:27)`.
#ifndef PYHANG_USERSPACE_NATIVE_MERGE_H_
#define PYHANG_USERSPACE_NATIVE_MERGE_H_

#include <vector>

#include "userspace/python/stack.h"

namespace pyhang::native {

struct MergedStack {
  std::vector<python::PyFrame> frames;  // innermost first
  // Every eval-loop frame found Python frames and every Python frame an
  // eval-loop frame. False when the native unwind ended early (the rest
  // of the Python frames are then put at the bottom) or a Python stack
  // was cut short.
  bool consistent = true;
};

MergedStack MergeStacks(const std::vector<python::PyFrame>& native,
                        const std::vector<python::PyFrame>& python);

}  // namespace pyhang::native

#endif  // PYHANG_USERSPACE_NATIVE_MERGE_H_
