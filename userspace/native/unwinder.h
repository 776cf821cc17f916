// Native stacks of a target's threads, unwound with DWARF CFI (.eh_frame,
// which stripped binaries keep; .debug_frame where a debug file has it) by
// elfutils' libdwfl, and named from .symtab/.dynsym or a debug file,
// inlined functions included (as gdb shows them).
//
// It works on any Target that holds registers: everything it reads goes
// through the Target (its maps, its files, its memory), so a core's files
// come from wherever its BinaryLocator found them.
#ifndef PYHANG_USERSPACE_NATIVE_UNWINDER_H_
#define PYHANG_USERSPACE_NATIVE_UNWINDER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/python/stack.h"
#include "userspace/target/target.h"

namespace pyhang::native {

struct UnwindOptions {
  size_t max_depth = 512;
  // Extra roots with /usr/lib/debug/.build-id trees (a core's --sysroot).
  std::vector<std::string> debug_roots;
};

class Unwinder {
 public:
  // kFailedPrecondition if libdwfl cannot be set up for the target.
  static absl::StatusOr<std::unique_ptr<Unwinder>> Create(target::Target& target,
                                                         const UnwindOptions& options);
  ~Unwinder();

  // Thread `tid`'s native frames, innermost first (kind kNative). A stack
  // that cannot be unwound to its outermost frame (no unwind info, a copy
  // that ends mid-frame, garbage, a loop, the depth bound) ends with a
  // marker frame: function kUnwindEnded, module the reason. kNotFound if
  // the target has no registers for the thread.
  absl::StatusOr<std::vector<python::PyFrame>> Unwind(int64_t tid);

  // Whether `pc` lies in a file this unwinder knows (one mapped when it
  // was created).
  bool Covers(uint64_t pc);

  // "strlen (libc.so.6)": the innermost function at instruction `pc`, as
  // Unwind names it; "0x7f.. (libc.so.6)" without a symbol; "" outside
  // every mapped file.
  std::string Describe(uint64_t pc);

  struct State;

 private:
  explicit Unwinder(std::unique_ptr<State> state);
  // A frame for `pc` in executable memory of no file; nullopt elsewhere.
  std::optional<python::PyFrame> UnnamedCode(uint64_t pc);
  std::unique_ptr<State> state_;
};

// True for the native function that runs Python frames: the eval loop.
bool IsEvalLoop(const std::string& function);
// True for the functions that call it (the inlined wrapper, as named with
// debug info, and its callers, as named without).
bool CallsEvalLoop(const std::string& function);

// The function name of the marker frame that ends a cut native stack.
inline constexpr char kUnwindEnded[] = "[unwind ended]";
// The function name of a frame in anonymous executable memory: code a JIT
// made (CPython 3.14+'s with PYTHON_JIT=1, or another's); module
// "[anonymous]". Frames in the vDSO have module "[vdso]".
inline constexpr char kJitCode[] = "[JIT]";

// True if `frames` (innermost first) end where a thread begins: _start for
// the main thread, clone/clone3 (or start_thread) for the others.
bool ReachesThreadRoot(const std::vector<python::PyFrame>& frames);

}  // namespace pyhang::native

#endif  // PYHANG_USERSPACE_NATIVE_UNWINDER_H_
