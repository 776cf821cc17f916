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

  // Runtime scaffolding: _PyRuntime, one interpreter, thread states, frames.
  uint64_t runtime_address() const { return runtime_.runtime_address; }
  uint64_t interp() const { return interp_; }
  uint64_t AddThread(uint64_t thread_id, int64_t native_id);
  // Pushes a frame running `code` on top of the thread's stack.
  uint64_t PushFrame(uint64_t tstate, uint64_t code);
  void SetPrevious(uint64_t frame, uint64_t previous);

 private:
  uint64_t Type(const char* name);
  uint64_t LineTable(int first_line, int line, size_t instructions);

  memory::ImageReader reader_;
  python::RuntimeInfo runtime_;
  uint64_t next_ = kBase;
  uint64_t interp_ = 0;
  uint64_t last_tstate_ = 0;
};

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_UNIT_FAKE_PYTHON_H_
