// What the decoder produces: threads and their Python frames.
#ifndef PYHANG_USERSPACE_PYTHON_STACK_H_
#define PYHANG_USERSPACE_PYTHON_STACK_H_

#include <cstdint>
#include <string>
#include <vector>

namespace pyhang::python {

struct LocalVariable {
  std::string name;
  std::string repr;
  bool is_argument = false;
  uint64_t address = 0;
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
};

// The fields of one frame as a reader (userspace or BPF) copies them out of
// the target, before any interpretation.
struct FrameFields {
  uint64_t frame_address = 0;
  uint64_t code = 0;         // frame_code slot (tag bits not yet masked)
  uint64_t instr_field = 0;  // frame_instr slot: int f_lasti or instruction pointer
  uint8_t owner = 0;         // frame_owner byte (3.11+), else 0
};

struct PyFrame {
  std::string function;  // co_name
  std::string qualname;  // co_qualname (3.11+); co_name on older versions
  std::string file;      // co_filename
  int line = 0;          // 0 if the line table could not be read
  uint64_t code_address = 0;
  uint64_t frame_address = 0;
  int64_t instruction = -1;
  std::vector<LocalVariable> locals;  // filled with --locals
};

struct PyThread {
  uint64_t tstate_address = 0;
  int64_t interpreter_id = 0;
  uint64_t thread_id = 0;  // pthread_self() of the thread
  int64_t tid = 0;         // OS thread id as the host sees it; 0 if unknown
  int64_t ns_tid = 0;      // as the target sees it (its pid namespace); 0 if unknown
  std::string name;        // threading.Thread.name; empty if unknown
  bool holds_gil = false;
  std::vector<PyFrame> frames;  // innermost first
  bool truncated = false;       // the walk stopped at the depth cap
  std::string walk_error;       // why the walk ended early, if it did
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_STACK_H_
