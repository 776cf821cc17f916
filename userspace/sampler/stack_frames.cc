#include "userspace/sampler/stack_frames.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::sampler {

absl::StatusOr<python::RawWalk> InterpretStack(python::FrameWalker& walker,
                                               const PythonStack& stack) {
  python::RawWalk walk;
  walk.truncated = stack.truncated;
  absl::flat_hash_set<uint64_t> seen;
  for (const python::FrameFields& fields : stack.frames) {
    if (!seen.insert(fields.frame_address).second) {
      walk.error = absl::StrFormat("frame chain loops at 0x%x", fields.frame_address);
      walk.truncated = false;
      return walk;
    }
    if (absl::Status appended = walker.AppendFrame(fields, &walk); !appended.ok()) {
      if (memory::IsTargetGone(appended)) return appended;
      walk.error = std::string(appended.message());
      walk.truncated = false;
      return walk;
    }
  }
  if (stack.error != PYHANG_OK && stack.error != PYHANG_ERR_TRUNCATED) {
    walk.error = absl::StrCat("BPF walk: ", ErrorName(stack.error));
  }
  return walk;
}

absl::StatusOr<SymbolizedStack> SymbolizeStack(python::FrameWalker& walker,
                                               const PythonStack& stack) {
  absl::StatusOr<python::RawWalk> walk = InterpretStack(walker, stack);
  if (!walk.ok()) return walk.status();
  SymbolizedStack result;
  result.truncated = walk->truncated;
  result.error = walk->error;
  for (const python::RawFrame& raw : walk->frames) {
    absl::StatusOr<python::PyFrame> frame = walker.Symbolize(raw);
    if (!frame.ok()) {
      if (memory::IsTargetGone(frame.status())) return frame.status();
      result.error = std::string(frame.status().message());
      break;
    }
    result.frames.push_back(*std::move(frame));
  }
  return result;
}

}  // namespace pyhang::sampler
