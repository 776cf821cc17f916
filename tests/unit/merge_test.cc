// The rule that puts a thread's Python frames into its native stack
// (native/merge.h), over stacks of the shapes the unwinder gives: each
// eval-loop activation replaced by its Python frames; JIT code kept above
// the Python frames it runs, also where the unwinder stepped over the eval
// loop's frame or could not leave the JIT code; leftovers above the
// marker of a cut stack.
#include "userspace/native/merge.h"

#include "gtest/gtest.h"
#include "userspace/native/unwinder.h"

namespace pyhang::native {
namespace {

python::PyFrame Native(const std::string& function) {
  python::PyFrame frame;
  frame.kind = python::FrameKind::kNative;
  frame.function = function;
  return frame;
}

python::PyFrame Python(const std::string& function, bool entry) {
  python::PyFrame frame;
  frame.function = function;
  frame.entry = entry;
  return frame;
}

std::vector<std::string> Names(const MergedStack& merged) {
  std::vector<std::string> names;
  for (const python::PyFrame& frame : merged.frames) names.push_back(frame.function);
  return names;
}

const std::vector<python::PyFrame> kPython = {Python("inner", false), Python("outer", true),
                                              Python("main", true)};

TEST(MergeTest, EachEvalLoopBecomesItsActivation) {
  MergedStack merged = MergeStacks({Native("spin"), Native("_PyEval_EvalFrameDefault"), Native("call"),
                                    Native("_PyEval_EvalFrameDefault"), Native("_start")},
                                   kPython);
  EXPECT_TRUE(merged.consistent);
  EXPECT_EQ(Names(merged), (std::vector<std::string>{"spin", "inner", "outer", "call", "main", "_start"}));
}

TEST(MergeTest, JitCodeAboveTheEvalLoopStays) {
  MergedStack merged = MergeStacks({Native("helper"), Native(kJitCode), Native("_PyEval_EvalFrameDefault"),
                                    Native("call"), Native("_PyEval_EvalFrameDefault"), Native("_start")},
                                   kPython);
  EXPECT_TRUE(merged.consistent);
  EXPECT_EQ(Names(merged),
            (std::vector<std::string>{"helper", kJitCode, "inner", "outer", "call", "main", "_start"}));
}

TEST(MergeTest, JitCodeStandsInForAnEvalLoopSteppedOver) {
  MergedStack merged = MergeStacks({Native("helper"), Native(kJitCode), Native("_PyEval_EvalFrame"),
                                    Native("call"), Native("_PyEval_EvalFrameDefault"), Native("_start")},
                                   kPython);
  EXPECT_TRUE(merged.consistent);
  EXPECT_EQ(Names(merged), (std::vector<std::string>{"helper", kJitCode, "inner", "outer", "_PyEval_EvalFrame",
                                                     "call", "main", "_start"}));
}

TEST(MergeTest, CutStackKeepsItsMarkerOutermost) {
  MergedStack merged = MergeStacks({Native("helper"), Native(kJitCode), Native(kUnwindEnded)}, kPython);
  EXPECT_FALSE(merged.consistent);  // "main" had no eval loop left
  EXPECT_EQ(Names(merged), (std::vector<std::string>{"helper", kJitCode, "inner", "outer", "main", kUnwindEnded}));
}

TEST(MergeTest, AnonymousCodeOfOthersIsNotAnActivation) {
  // A trampoline in anonymous memory called by libffi, not by the eval loop.
  MergedStack merged = MergeStacks({Native("callback"), Native(kJitCode), Native("ffi_call"),
                                    Native("_PyEval_EvalFrameDefault"), Native("_start")},
                                   {Python("main", true)});
  EXPECT_TRUE(merged.consistent);
  EXPECT_EQ(Names(merged), (std::vector<std::string>{"callback", kJitCode, "ffi_call", "main", "_start"}));
}

}  // namespace
}  // namespace pyhang::native
