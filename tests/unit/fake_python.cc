#include "tests/unit/fake_python.h"

#include "tests/unit/debug_offsets_fixture.h"
#include "userspace/python/debug_offsets.h"
#include "userspace/python/versions.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace pyhang::testing {
namespace {

using python::Has;

void AppendSignedVarint(int64_t value, std::string* out) {
  uint64_t zigzag = value < 0 ? (static_cast<uint64_t>(-value) << 1) | 1
                              : static_cast<uint64_t>(value) << 1;
  do {
    uint8_t group = zigzag & 0x3f;
    zigzag >>= 6;
    if (zigzag) group |= 0x40;
    out->push_back(static_cast<char>(group));
  } while (zigzag);
}

}  // namespace

std::vector<int> SupportedMinors() {
  std::vector<int> minors;
  for (const python::SupportedVersion& version : python::kSupportedVersions) minors.push_back(version.minor);
  return minors;
}

FakePython::FakePython(python::PythonVersion version) {
  std::optional<python::PyOffsets> offsets = python::BuiltinOffsets(version);
  if (!offsets) throw std::invalid_argument("no table for this version");
  runtime_.version = version;
  reader_.AddRegion(kBase, std::string(kSize, '\0'));
  runtime_.runtime_address = Allocate(16384);
  // Versions whose offsets come from the target: publish a record the way
  // the real build does, and read it back the way pyhang reads a target.
  const python::SupportedVersion* supported = python::FindSupportedVersion(version);
  if (supported != nullptr && supported->offsets == python::OffsetsSource::kTarget) {
    std::string record = ForgeDebugOffsets(version.minor, version.ToHex(), false,
                                           PublishedDebugOffsets(version.minor));
    reader_.Poke(runtime_.runtime_address, record.data(), record.size());
    absl::StatusOr<std::vector<std::string>> applied = python::ApplyDebugOffsets(
        reader_, runtime_.runtime_address, version, &*offsets);
    if (!applied.ok()) throw std::invalid_argument(std::string(applied.status().message()));
  }
  runtime_.offsets = *offsets;
  runtime_.types.code = Type("code");
  runtime_.types.unicode = Type("str");
  runtime_.types.bytes = Type("bytes");
  runtime_.types.tuple = Type("tuple");
  runtime_.types.long_int = Type("int");
  runtime_.types.floating = Type("float");
  runtime_.types.list = Type("list");
  runtime_.types.dict = Type("dict");
  runtime_.types.none_object = Allocate(32);
  runtime_.types.true_object = Allocate(32);
  runtime_.types.false_object = Allocate(32);
  interp_ = Allocate(16384);
  const python::PyOffsets& o = offsets.value();
  PutU64(runtime_address() + o.runtime_interpreters_head, interp_);
  if (o.gil_location == PYHANG_GIL_INTERP_POINTER) PutU64(interp_ + o.interp_gil, Allocate(256));
}

uint64_t FakePython::Allocate(size_t size) {
  uint64_t address = next_;
  next_ += (size + 15) & ~size_t{15};
  if (next_ > kBase + kSize) throw std::length_error("fake image full");
  return address;
}

uint64_t FakePython::Type(const char* name) {
  uint64_t type = Allocate(1024);
  uint64_t text = Allocate(std::strlen(name) + 1);
  reader_.Poke(text, name, std::strlen(name) + 1);
  PutU64(type + offsets().type_name, text);
  return type;
}

uint64_t FakePython::Str(const std::u32string& text) {
  const python::PyOffsets& o = offsets();
  uint32_t max_cp = 0;
  for (char32_t c : text) max_cp = std::max<uint32_t>(max_cp, c);
  unsigned kind = max_cp < 0x100 ? 1 : max_cp < 0x10000 ? 2 : 4;
  bool ascii = max_cp < 0x80;
  uint64_t data_offset = ascii ? o.unicode_ascii_data : o.unicode_compact_data;
  uint64_t object = Allocate(data_offset + (text.size() + 1) * kind);
  PutU64(object + o.object_type, runtime_.types.unicode);
  PutU64(object + o.unicode_length, text.size());
  uint32_t state = (kind << 2) | (1u << 5) | (ascii ? 1u << 6 : 0) | (1u << 7);
  reader_.PokeValue(object + o.unicode_state, state);
  for (size_t i = 0; i < text.size(); ++i) {
    uint32_t cp = text[i];
    reader_.Poke(object + data_offset + i * kind, &cp, kind);
  }
  return object;
}

uint64_t FakePython::Bytes(const std::string& data) {
  const python::PyOffsets& o = offsets();
  uint64_t object = Allocate(o.bytes_data + data.size() + 1);
  PutU64(object + o.object_type, runtime_.types.bytes);
  PutU64(object + o.bytes_size, data.size());
  if (!data.empty()) reader_.Poke(object + o.bytes_data, data.data(), data.size());
  return object;
}

uint64_t FakePython::Tuple(const std::vector<uint64_t>& items) {
  const python::PyOffsets& o = offsets();
  uint64_t object = Allocate(o.tuple_items + items.size() * 8 + 8);
  PutU64(object + o.object_type, runtime_.types.tuple);
  PutU64(object + o.varobject_size, items.size());
  for (size_t i = 0; i < items.size(); ++i) PutU64(object + o.tuple_items + i * 8, items[i]);
  return object;
}

uint64_t FakePython::List(const std::vector<uint64_t>& items) {
  const python::PyOffsets& o = offsets();
  uint64_t object = Allocate(64);
  uint64_t array = Allocate(items.size() * 8 + 8);
  PutU64(object + o.object_type, runtime_.types.list);
  PutU64(object + o.varobject_size, items.size());
  PutU64(object + o.list_items, array);
  PutU64(object + o.list_allocated, items.size());
  for (size_t i = 0; i < items.size(); ++i) PutU64(array + i * 8, items[i]);
  return object;
}

uint64_t FakePython::Dict(const std::vector<std::pair<uint64_t, uint64_t>>& items) {
  const python::PyOffsets& o = offsets();
  constexpr size_t kSlots = 64;  // one byte per index
  uint64_t keys = Allocate(64 + kSlots + items.size() * 24);
  uint64_t entries;
  if (o.dict_keys_format == PYHANG_DICT_KEYS_SIZE) {
    PutU64(keys + 8, kSlots);            // dk_size
    PutU64(keys + 32, items.size());     // dk_nentries
    entries = keys + 40 + kSlots;
  } else {
    PutU8(keys + 8, 6);                  // dk_log2_size
    PutU8(keys + 9, 6);                  // dk_log2_index_bytes
    PutU8(keys + 10, 0);                 // dk_kind: general
    PutU64(keys + 24, items.size());     // dk_nentries
    entries = keys + 32 + kSlots;
  }
  for (size_t i = 0; i < items.size(); ++i) {
    PutU64(entries + i * 24 + 8, items[i].first);
    PutU64(entries + i * 24 + 16, items[i].second);
  }
  uint64_t object = Allocate(64);
  PutU64(object + o.object_type, runtime_.types.dict);
  PutU64(object + 16, items.size());     // ma_used
  PutU64(object + o.dict_keys, keys);
  PutU64(object + o.dict_values, 0);
  return object;
}

uint64_t FakePython::Int(int64_t value) {
  const python::PyOffsets& o = offsets();
  // 0 - x in unsigned arithmetic: -INT64_MIN does not fit an int64_t.
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  std::vector<uint32_t> digits;
  for (uint64_t m = magnitude; m != 0; m >>= 30) digits.push_back(m & 0x3fffffff);
  uint64_t object = Allocate(o.long_digits + 8 * (digits.size() + 1));
  PutU64(object + o.object_type, runtime_.types.long_int);
  int64_t header;
  if (o.long_format == PYHANG_LONG_LV_TAG) {
    header = static_cast<int64_t>(digits.size() << 3) | (value < 0 ? 2 : value == 0 ? 1 : 0);
  } else {
    header = value < 0 ? -static_cast<int64_t>(digits.size()) : static_cast<int64_t>(digits.size());
  }
  reader_.PokeValue(object + 16, header);
  for (size_t i = 0; i < digits.size(); ++i) reader_.PokeValue(object + o.long_digits + 4 * i, digits[i]);
  return object;
}

uint64_t FakePython::Float(double value) {
  uint64_t object = Allocate(32);
  PutU64(object + offsets().object_type, runtime_.types.floating);
  reader_.PokeValue(object + offsets().float_value, value);
  return object;
}

uint64_t FakePython::LineTable(int first_line, int line, size_t instructions) {
  std::string table;
  int delta = line - first_line;
  switch (offsets().linetable_format) {
    case PYHANG_LNOTAB:
      table += '\0';
      table += static_cast<char>(static_cast<int8_t>(delta));
      break;
    case PYHANG_LINETABLE_310:
      for (size_t left = instructions * 2; left > 0;) {
        size_t chunk = std::min<size_t>(left, 254);
        table += static_cast<char>(chunk);
        table += static_cast<char>(static_cast<int8_t>(table.size() == 1 ? delta : 0));
        left -= chunk;
      }
      break;
    case PYHANG_LOCATIONS:
      for (size_t left = instructions; left > 0;) {
        size_t chunk = std::min<size_t>(left, 8);
        table += static_cast<char>(0x80 | (13 << 3) | (chunk - 1));
        AppendSignedVarint(table.size() == 1 ? delta : 0, &table);
        left -= chunk;
      }
      break;
  }
  return Bytes(table);
}

uint64_t FakePython::Code(const std::string& name, const std::string& file, int line) {
  const python::PyOffsets& o = offsets();
  constexpr size_t kInstructions = 64;
  uint64_t code = Allocate(o.code_size + 2 * kInstructions + 64);
  PutU64(code + o.object_type, runtime_.types.code);
  std::u32string wide_name(name.begin(), name.end());
  std::u32string wide_file(file.begin(), file.end());
  PutU64(code + o.code_name, Str(wide_name));
  PutU64(code + o.code_filename, Str(wide_file));
  if (Has(o.code_qualname)) PutU64(code + o.code_qualname, Str(wide_name));
  const int first_line = line > 3 ? line - 3 : 1;
  PutI32(code + o.code_firstlineno, first_line);
  PutU64(code + o.code_linetable, LineTable(first_line, line, kInstructions));
  return code;
}

uint64_t FakePython::StrOf(const std::string& latin1) {
  return Str(std::u32string(latin1.begin(), latin1.end()));
}

uint64_t FakePython::Code(const std::string& name, const std::string& file, int line,
                          const std::vector<std::string>& local_names, int argcount,
                          const std::vector<std::string>& global_names) {
  const python::PyOffsets& o = offsets();
  uint64_t code = Code(name, file, line);
  std::vector<uint64_t> names;
  for (const std::string& local : local_names) names.push_back(StrOf(local));
  PutU64(code + o.code_varnames, Tuple(names));
  PutI32(code + o.code_argcount, argcount);
  if (Has(o.code_localspluskinds)) {  // 3.11+: one tuple, CO_FAST_LOCAL each
    PutU64(code + o.code_localspluskinds, Bytes(std::string(local_names.size(), '\x20')));
    PutI32(code + o.code_nlocalsplus, static_cast<int32_t>(local_names.size()));
  } else {
    PutI32(code + o.code_nlocals, static_cast<int32_t>(local_names.size()));
    PutU64(code + o.code_cellvars, Tuple({}));
    PutU64(code + o.code_freevars, Tuple({}));
  }
  if (Has(o.code_names)) {
    std::vector<uint64_t> globals;
    for (const std::string& global : global_names) globals.push_back(StrOf(global));
    PutU64(code + o.code_names, Tuple(globals));
  }
  return code;
}

uint64_t FakePython::Lock(bool locked) {
  const python::PyOffsets& o = offsets();
  if (lock_type_ == 0) lock_type_ = Type("_thread.lock");
  uint64_t lock = Allocate(64);
  PutU64(lock + o.object_type, lock_type_);
  if (Has(o.lock_locked)) PutU8(lock + o.lock_locked, locked ? 1 : 0);
  return lock;
}

uint64_t FakePython::RLock(uint64_t owner, uint64_t count) {
  const python::PyOffsets& o = offsets();
  if (rlock_type_ == 0) rlock_type_ = Type("_thread.RLock");
  uint64_t lock = Allocate(64);
  PutU64(lock + o.object_type, rlock_type_);
  if (Has(o.rlock_owner)) PutU64(lock + o.rlock_owner, owner);
  if (Has(o.rlock_count)) PutU64(lock + o.rlock_count, count);
  return lock;
}

uint64_t FakePython::ExceptionType(const char* name, uint64_t base) {
  constexpr uint64_t kTpFlagsBaseExcSubclass = 1ull << 30;
  uint64_t type = Type(name);
  PutU64(type + offsets().type_flags, kTpFlagsBaseExcSubclass);
  PutU64(type + offsets().type_base, base);
  return type;
}

uint64_t FakePython::Exception(uint64_t type, const std::vector<uint64_t>& args) {
  uint64_t exception = Allocate(128);
  PutU64(exception + offsets().object_type, type);
  PutU64(exception + offsets().exception_args, Tuple(args));
  return exception;
}

void FakePython::SetCause(uint64_t exception, uint64_t cause) {
  PutU64(exception + offsets().exception_cause, cause);
  PutU8(exception + offsets().exception_suppress_context, 1);  // as `raise ... from` sets it
}

void FakePython::SetContext(uint64_t exception, uint64_t context) {
  PutU64(exception + offsets().exception_context, context);
}

uint64_t FakePython::HandleException(uint64_t tstate, uint64_t exception) {
  const python::PyOffsets& o = offsets();
  uint64_t item = Allocate(32);
  uint64_t below = 0;
  reader_.Read(tstate + o.tstate_exc_info, absl::MakeSpan(reinterpret_cast<std::byte*>(&below), 8)).IgnoreError();
  PutU64(item + o.stackitem_exc_value, exception);
  PutU64(item + o.stackitem_previous, below);
  PutU64(tstate + o.tstate_exc_info, item);
  return item;
}

uint64_t FakePython::AddThread(uint64_t thread_id, int64_t native_id) {
  const python::PyOffsets& o = offsets();
  uint64_t tstate = Allocate(1024);
  PutU64(tstate + o.tstate_interp, interp_);
  PutU64(tstate + o.tstate_thread_id, thread_id);
  if (Has(o.tstate_native_thread_id)) reader_.PokeValue(tstate + o.tstate_native_thread_id, native_id);
  if (Has(o.cframe_current_frame)) PutU64(tstate + o.tstate_frame, Allocate(64));
  PutU64(tstate + o.tstate_next, last_tstate_);
  PutU64(interp_ + o.interp_threads_head, tstate);
  last_tstate_ = tstate;
  return tstate;
}

uint64_t FakePython::PushFrame(uint64_t tstate, uint64_t code, size_t local_count) {
  const python::PyOffsets& o = offsets();
  uint64_t slot = tstate + o.tstate_frame;
  if (Has(o.cframe_current_frame)) {
    uint64_t cframe = 0;
    reader_.Read(slot, absl::MakeSpan(reinterpret_cast<std::byte*>(&cframe), 8)).IgnoreError();
    slot = cframe + o.cframe_current_frame;
  }
  uint64_t previous = 0;
  reader_.Read(slot, absl::MakeSpan(reinterpret_cast<std::byte*>(&previous), 8)).IgnoreError();
  uint64_t frame = Allocate(std::max<size_t>(o.frame_size, o.frame_localsplus) + 64 + 8 * local_count);
  PutU64(frame + o.frame_code, code);
  PutU64(frame + o.frame_previous, previous);
  if (o.instr_encoding == PYHANG_INSTR_POINTER) {
    PutU64(frame + o.frame_instr, code + o.code_adaptive + 2);  // instruction 1
  } else {
    PutI32(frame + o.frame_instr, 2);
  }
  if (Has(o.frame_owner)) PutU8(frame + o.frame_owner, o.owner_thread);
  PutU64(slot, frame);
  return frame;
}

void FakePython::SetPrevious(uint64_t frame, uint64_t previous) {
  PutU64(frame + offsets().frame_previous, previous);
}

void FakePython::SetLocals(uint64_t frame, const std::vector<uint64_t>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    PutU64(frame + offsets().frame_localsplus + 8 * i, values[i]);
  }
}

void FakePython::SetGlobals(uint64_t frame, uint64_t dict) {
  if (Has(offsets().frame_globals)) PutU64(frame + offsets().frame_globals, dict);
}

}  // namespace pyhang::testing
