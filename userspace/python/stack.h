// What the decoder produces: threads and their Python frames.
#ifndef PYHANG_USERSPACE_PYTHON_STACK_H_
#define PYHANG_USERSPACE_PYTHON_STACK_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "userspace/python/value.h"

namespace pyhang::python {

// A local (or, with --globals, a module-level name a frame's code reads).
struct LocalVariable {
  std::string name;
  // value->repr is what dump prints. Shared: one object that is a local of
  // many frames (self, a shared Event) is read and kept once per look.
  std::shared_ptr<const PyValue> value;
  bool is_argument = false;
  uint64_t address = 0;
  // A lock some thread is known to hold (analysis::LockInspector): its tid.
  int64_t held_by = 0;
};

// One frame of the interpreter's chain as found in memory, before any
// symbolization: what a BPF walker can record at sample time.
struct RawFrame {
  uint64_t frame_address = 0;
  uint64_t code_address = 0;
  // In the unit the line table expects: bytes (<= 3.10), code units (3.11+).
  // Negative: the frame has not started executing.
  int64_t instruction = -1;
  bool is_generator = false;  // owned by a generator/coroutine
  bool entry = false;         // see PyFrame::entry
};

// The fields of one frame as a reader (userspace or BPF) copies them out of
// the target, before any interpretation.
struct FrameFields {
  uint64_t frame_address = 0;
  uint64_t code = 0;         // frame_code slot (tag bits not yet masked)
  uint64_t instr_field = 0;  // frame_instr slot: int f_lasti or instruction pointer
  uint8_t owner = 0;         // frame_owner byte (3.11+), else 0
  bool is_entry = false;     // frame_is_entry (3.11 only)
};

// A frame of the one stack model: Python frames from the decoder, and with
// --native the native frames they run on (merged by native/merge.h).
// kKernel: a kernel function of a sample taken in a system call
// (record --native); `function` is its kallsyms name.
enum class FrameKind : uint8_t { kPython, kNative, kKernel };

struct PyFrame {
  FrameKind kind = FrameKind::kPython;
  std::string function;  // co_name; for a native frame its symbol ("" if none)
  std::string qualname;  // co_qualname (3.11+); co_name on older versions
  std::string file;      // co_filename
  int line = 0;          // 0 if the line table could not be read
  uint64_t code_address = 0;
  uint64_t frame_address = 0;
  int64_t instruction = -1;
  std::vector<LocalVariable> locals;   // filled with --locals
  std::vector<LocalVariable> globals;  // filled with --globals
  // The outermost Python frame that one activation of the interpreter's
  // eval loop (_PyEval_EvalFrameDefault) runs: where a native stack's eval
  // frame is replaced by Python frames.
  bool entry = false;
  // Native frames: the object file ("libc.so.6") and instruction address.
  std::string module;
  uint64_t pc = 0;
};

// How an exception of a handled exception's chain relates to the one
// before it, as traceback prints the chain.
enum class ExceptionRelation : uint8_t {
  kHandled,  // the exception the thread is handling (sys.exc_info())
  kCause,    // the previous one was raised from it (__cause__)
  kContext,  // the previous one was raised while it was handled (__context__)
};

struct PyExceptionLink {
  ExceptionRelation relation = ExceptionRelation::kHandled;
  std::string type;     // as traceback names it: "ConnectionRefusedError", "mod.MyError"
  std::string message;  // str() of it, as far as memory shows (see exception_reader.h)
  uint64_t address = 0;
};

// The exception a thread is inside an `except` (or `finally`) block for,
// and the chain it came from, innermost first.
struct HandledException {
  std::vector<PyExceptionLink> chain;  // chain[0] is the handled exception
  // The chain leads back to chain[cycle_to]: printing it, CPython would loop.
  bool cycle = false;
  size_t cycle_to = 0;
  bool cut = false;  // longer than the reader's bound; the rest is not shown
};

struct PyThread {
  uint64_t tstate_address = 0;
  int64_t interpreter_id = 0;
  uint64_t thread_id = 0;  // pthread_self() of the thread
  int64_t tid = 0;         // OS thread id as the host sees it; 0 if unknown
  int64_t ns_tid = 0;      // as the target sees it (its pid namespace); 0 if unknown
  std::string name;        // threading.Thread.name; empty if unknown
  bool holds_gil = false;
  std::optional<HandledException> handling;  // DecodeOptions::exceptions
  std::vector<PyFrame> frames;  // innermost first
  bool truncated = false;       // the walk stopped at the depth cap
  std::string walk_error;       // why the walk ended early, if it did
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_STACK_H_
