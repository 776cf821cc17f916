// Turns a frame chain copied by BPF into raw frames with exactly the rules
// FrameWalker::WalkRaw applies to frames it reads itself: the same
// Interpret() per frame, in the same order, stopping at the same broken
// link, and the same loop detection. So a BPF sample and a userspace walk
// of the same stopped thread give the same frames.
#ifndef PYHANG_USERSPACE_SAMPLER_STACK_FRAMES_H_
#define PYHANG_USERSPACE_SAMPLER_STACK_FRAMES_H_

#include "absl/status/statusor.h"
#include "userspace/python/frame_walker.h"
#include "userspace/sampler/events.h"

namespace pyhang::sampler {

// Raw frames of `stack`, innermost first. RawWalk::error is set when BPF
// could not walk (e.g. "no_tstate") or the chain broke; truncated mirrors
// the BPF depth cap. Fails only if the target is gone.
absl::StatusOr<python::RawWalk> InterpretStack(python::FrameWalker& walker,
                                               const PythonStack& stack);

// InterpretStack + Symbolize: function, file and line per frame. A frame
// that cannot be symbolized ends the stack (RawWalk-style, with `error`).
struct SymbolizedStack {
  std::vector<python::PyFrame> frames;  // innermost first
  bool truncated = false;
  std::string error;
};
absl::StatusOr<SymbolizedStack> SymbolizeStack(python::FrameWalker& walker,
                                               const PythonStack& stack);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_STACK_FRAMES_H_
