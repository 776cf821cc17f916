// Builds CPython-shaped objects inside an ImageReader, laid out by a
// PyOffsets record, so decoder logic can be tested without an interpreter.
#ifndef PYHANG_TESTS_UNIT_FAKE_PYTHON_H_
#define PYHANG_TESTS_UNIT_FAKE_PYTHON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "userspace/memory/image_reader.h"
#include "userspace/python/runtime_info.h"

namespace pyhang::testing {

// The minor versions of every supported 3.x (python/versions.h), so each
// layout test covers every layout pyhang reads.
std::vector<int> SupportedMinors();

// Bump allocator over one big region of an ImageReader.
class FakePython {
 public:
  static constexpr uint64_t kBase = 0x10000000;
  static constexpr uint64_t kSize = 1 << 20;

  explicit FakePython(python::PythonVersion version);

  memory::ImageReader& reader() { return reader_; }
  const python::RuntimeInfo& runtime() const { return runtime_; }
  python::RuntimeInfo& runtime() { return runtime_; }
  const python::PyOffsets& offsets() const { return runtime_.offsets; }

  uint64_t Allocate(size_t size);
  void PutU64(uint64_t address, uint64_t value) { reader_.PokeValue(address, value); }
  void PutI32(uint64_t address, int32_t value) { reader_.PokeValue(address, value); }
  void PutU8(uint64_t address, uint8_t value) { reader_.PokeValue(address, value); }

  // Objects. Strings: kind 1 (ASCII/Latin-1), 2 or 4 chosen from the code points.
  uint64_t Str(const std::u32string& text);
  uint64_t Bytes(const std::string& data);
  uint64_t Tuple(const std::vector<uint64_t>& items);
  uint64_t List(const std::vector<uint64_t>& items);
  // A dict with a general (hash, key, value) table, in insertion order.
  uint64_t Dict(const std::vector<std::pair<uint64_t, uint64_t>>& items);
  uint64_t Int(int64_t value);
  uint64_t Float(double value);
  // A code object whose line table maps every instruction to `line`.
  uint64_t Code(const std::string& name, const std::string& file, int line);
  // The same with fast locals `local_names` (the first `argcount` of them
  // arguments) and co_names `global_names`, as the version lays them out.
  uint64_t Code(const std::string& name, const std::string& file, int line,
                const std::vector<std::string>& local_names, int argcount,
                const std::vector<std::string>& global_names);
  // A _thread.lock, and a _thread.RLock held `count` times by `owner` (a
  // thread id; 0: free), with the fields this version's locks have.
  uint64_t Lock(bool locked);
  // A class deriving from BaseException (`base` its tp_base, 0 for none),
  // an instance with `args`, and its __cause__ / __context__.
  uint64_t ExceptionType(const char* name, uint64_t base = 0);
  uint64_t Exception(uint64_t type, const std::vector<uint64_t>& args);
  void SetCause(uint64_t exception, uint64_t cause);
  void SetContext(uint64_t exception, uint64_t context);
  // Puts one item holding `exception` on the thread's exception stack, as
  // an `except` block does; returns the item.
  uint64_t HandleException(uint64_t tstate, uint64_t exception);
  uint64_t RLock(uint64_t owner, uint64_t count);

  // Runtime scaffolding: _PyRuntime, one interpreter, thread states, frames.
  uint64_t runtime_address() const { return runtime_.runtime_address; }
  uint64_t interp() const { return interp_; }
  uint64_t AddThread(uint64_t thread_id, int64_t native_id);
  // Pushes a frame running `code` on top of the thread's stack, with room
  // for `local_count` fast locals.
  uint64_t PushFrame(uint64_t tstate, uint64_t code, size_t local_count = 0);
  void SetPrevious(uint64_t frame, uint64_t previous);
  // A frame's fast locals (at most the room PushFrame gave it), and its
  // globals dict where this version's frames point to one.
  void SetLocals(uint64_t frame, const std::vector<uint64_t>& values);
  void SetGlobals(uint64_t frame, uint64_t dict);

 private:
  uint64_t Type(const char* name);
  uint64_t LineTable(int first_line, int line, size_t instructions);
  uint64_t StrOf(const std::string& latin1);

  memory::ImageReader reader_;
  python::RuntimeInfo runtime_;
  uint64_t next_ = kBase;
  uint64_t interp_ = 0;
  uint64_t last_tstate_ = 0;
  uint64_t lock_type_ = 0;
  uint64_t rlock_type_ = 0;
};

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_UNIT_FAKE_PYTHON_H_
