// Walks one thread's chain of interpreter frames, innermost first, and turns
// raw frames (code object + instruction) into function, file and line.
//
// Bounded and defensive: a depth cap, cycle detection, and an unreadable or
// implausible link ends the chain (keeping what was read) instead of
// failing the walk.
#ifndef PYHANG_USERSPACE_PYTHON_FRAME_WALKER_H_
#define PYHANG_USERSPACE_PYTHON_FRAME_WALKER_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/python/code_cache.h"
#include "userspace/python/objects.h"
#include "userspace/python/runtime_info.h"
#include "userspace/python/stack.h"

namespace pyhang::python {

struct WalkLimits {
  size_t max_depth = 4096;
};

struct RawWalk {
  std::vector<RawFrame> frames;  // innermost first
  bool truncated = false;        // stopped at max_depth
  std::string error;             // why the chain ended early, if it did
};

class FrameWalker {
 public:
  FrameWalker(ObjectReader& objects, CodeCache& codes, const RuntimeInfo& runtime)
      : objects_(objects), codes_(codes), runtime_(runtime) {}

  // The newest frame of a thread state (0 if it runs no Python code).
  absl::StatusOr<uint64_t> TopFrame(uint64_t tstate);

  // Raw chain from `top_frame`. Only a vanished target is an error; every
  // other problem ends the chain and is described in RawWalk::error.
  absl::StatusOr<RawWalk> WalkRaw(uint64_t top_frame, const WalkLimits& limits);

  // Interprets copied frame fields: masks tags, converts the instruction to
  // line-table units, and decides whether the frame is user-visible (not a
  // shim, not a non-code executable, not a frame still in its prologue).
  // Returns nullopt for frames to skip; an error for a chain that is broken
  // (the executable is not a code object). The same rules serve frames
  // walked here and frames captured by BPF at sample time.
  absl::StatusOr<std::optional<RawFrame>> Interpret(const FrameFields& fields);

  // One step of a walk, the same for frames read here and copied by BPF:
  // Interpret(fields), then append the frame to walk->frames, or, for a
  // 3.12+ entry shim, mark the frame before it as an eval-loop entry.
  // An error status only for a broken chain or a vanished target.
  absl::Status AppendFrame(const FrameFields& fields, RawWalk* walk);

  // Function, file and line of a raw frame. The line is 0 (with a logged
  // reason) if the line table cannot be decoded.
  absl::StatusOr<PyFrame> Symbolize(const RawFrame& raw);

  // Fills frame->locals from the frame's fast-locals array.
  absl::Status ReadLocals(const RawFrame& raw, PyFrame* frame, const ReprLimits& limits);
  // Fills frame->globals: the names the frame's code reads (co_names) that
  // its module's globals hold, in co_names order. Module dicts are read
  // once until ForgetValues().
  absl::Status ReadGlobals(const RawFrame& raw, PyFrame* frame, const ReprLimits& limits);
  // Forgets module dicts and values read before: call before each look.
  void ForgetValues() {
    globals_by_dict_.clear();
    values_by_object_.clear();
  }

  static constexpr size_t kMaxGlobalsPerFrame = 64;
  static constexpr size_t kMaxGlobalNames = 4096;  // entries read of one module dict

 private:
  // A frame C code pushes where the eval loop starts (3.12+ shims).
  bool IsEntryShim(const FrameFields& fields) const;
  int64_t InstructionOffset(uint64_t instr_field, uint64_t code) const;

  // A module's globals: name -> object.
  using GlobalNames = absl::flat_hash_map<std::string, uint64_t>;
  absl::StatusOr<const GlobalNames*> GlobalsOf(uint64_t dict);
  // The value of `object`, read once per look: the same object (self, a
  // shared Event, a config dict) is often a local of many frames.
  std::shared_ptr<const PyValue> ValueOf(uint64_t object, const ReprLimits& limits);
  static constexpr size_t kMaxValuesRemembered = 1 << 16;

  ObjectReader& objects_;
  CodeCache& codes_;
  const RuntimeInfo& runtime_;
  absl::flat_hash_map<uint64_t, GlobalNames> globals_by_dict_;
  absl::flat_hash_map<uint64_t, std::shared_ptr<const PyValue>> values_by_object_;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_FRAME_WALKER_H_
