#include "userspace/python/debug_offsets.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pyhang::python {
namespace {

constexpr char kCookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};
constexpr size_t kDebugOffsetsSize313 = 584;  // sizeof(_Py_DebugOffsets) in 3.13

// Where a 3.13 _Py_DebugOffsets member goes in our record. `size_at` is the
// position of the `size` member of the struct the offset belongs to, used
// to reject offsets that point past their struct.
struct FieldMapping {
  size_t debug_position;
  int32_t PyOffsets::*field;
  size_t size_at;
  const char* name;
};

// Layout of _Py_DebugOffsets in 3.13 (Include/internal/pycore_runtime.h).
constexpr FieldMapping kFields313[] = {
    {40, &PyOffsets::runtime_interpreters_head, 24, "runtime_state.interpreters_head"},
    {56, &PyOffsets::interp_id, 48, "interpreter_state.id"},
    {64, &PyOffsets::interp_next, 48, "interpreter_state.next"},
    {72, &PyOffsets::interp_threads_head, 48, "interpreter_state.threads_head"},
    {88, &PyOffsets::interp_modules, 48, "interpreter_state.imports_modules"},
    {112, &PyOffsets::interp_gil, 48, "interpreter_state.ceval_gil"},
    {184, &PyOffsets::tstate_frame, 152, "thread_state.current_frame"},
    {192, &PyOffsets::tstate_thread_id, 152, "thread_state.thread_id"},
    {200, &PyOffsets::tstate_native_thread_id, 152, "thread_state.native_thread_id"},
    {216, &PyOffsets::tstate_status, 152, "thread_state.status"},
    {232, &PyOffsets::frame_previous, 224, "interpreter_frame.previous"},
    {240, &PyOffsets::frame_code, 224, "interpreter_frame.executable"},
    {248, &PyOffsets::frame_instr, 224, "interpreter_frame.instr_ptr"},
    {256, &PyOffsets::frame_localsplus, 224, "interpreter_frame.localsplus"},
    {264, &PyOffsets::frame_owner, 224, "interpreter_frame.owner"},
    {280, &PyOffsets::code_filename, 272, "code_object.filename"},
    {288, &PyOffsets::code_name, 272, "code_object.name"},
    {296, &PyOffsets::code_qualname, 272, "code_object.qualname"},
    {304, &PyOffsets::code_linetable, 272, "code_object.linetable"},
    {312, &PyOffsets::code_firstlineno, 272, "code_object.firstlineno"},
    {320, &PyOffsets::code_argcount, 272, "code_object.argcount"},
    {328, &PyOffsets::code_varnames, 272, "code_object.localsplusnames"},
    {336, &PyOffsets::code_localspluskinds, 272, "code_object.localspluskinds"},
    {344, &PyOffsets::code_adaptive, 272, "code_object.co_code_adaptive"},
    {360, &PyOffsets::object_type, 352, "pyobject.ob_type"},
    {376, &PyOffsets::type_name, 368, "type_object.tp_name"},
    {392, &PyOffsets::type_flags, 368, "type_object.tp_flags"},
    {408, &PyOffsets::tuple_items, 400, "tuple_object.ob_item"},
    {432, &PyOffsets::list_items, 424, "list_object.ob_item"},
    {456, &PyOffsets::dict_keys, 448, "dict_object.ma_keys"},
    {464, &PyOffsets::dict_values, 448, "dict_object.ma_values"},
    {480, &PyOffsets::float_value, 472, "float_object.ob_fval"},
    {504, &PyOffsets::long_digits, 488, "long_object.ob_digit"},
    {520, &PyOffsets::bytes_size, 512, "bytes_object.ob_size"},
    {528, &PyOffsets::bytes_data, 512, "bytes_object.ob_sval"},
    {544, &PyOffsets::unicode_state, 536, "unicode_object.state"},
    {552, &PyOffsets::unicode_length, 536, "unicode_object.length"},
    {560, &PyOffsets::unicode_ascii_data, 536, "unicode_object.asciiobject_size"},
};

// Generous caps on struct sizes: anything larger is not a real record.
constexpr uint64_t kMaxStructSize = 1 << 20;

uint64_t U64At(const std::string& bytes, size_t position) {
  return memory::LoadAt<uint64_t>(bytes, static_cast<int64_t>(position));
}

}  // namespace

absl::StatusOr<std::optional<DebugOffsetsHeader>> ReadDebugOffsetsHeader(
    memory::MemoryReader& reader, uint64_t runtime_address) {
  absl::StatusOr<std::string> head = memory::ReadBytes(reader, runtime_address, 24);
  if (!head.ok()) return head.status();
  if (std::memcmp(head->data(), kCookie, sizeof(kCookie)) != 0) return std::nullopt;
  DebugOffsetsHeader header;
  header.version_hex = static_cast<uint32_t>(U64At(*head, 8));
  header.free_threaded = U64At(*head, 16) != 0;
  return header;
}

absl::StatusOr<std::vector<std::string>> ApplyDebugOffsets(memory::MemoryReader& reader,
                                                           uint64_t runtime_address,
                                                           PyOffsets* offsets) {
  absl::StatusOr<std::string> bytes =
      memory::ReadBytes(reader, runtime_address, kDebugOffsetsSize313);
  if (!bytes.ok()) return bytes.status();
  if (std::memcmp(bytes->data(), kCookie, sizeof(kCookie)) != 0) {
    return absl::DataLossError("_Py_DebugOffsets: cookie \"xdebugpy\" not found");
  }
  std::vector<std::string> mismatches;
  for (const FieldMapping& mapping : kFields313) {
    uint64_t struct_size = U64At(*bytes, mapping.size_at);
    uint64_t value = U64At(*bytes, mapping.debug_position);
    if (struct_size == 0 || struct_size > kMaxStructSize || value >= struct_size) {
      return absl::DataLossError(absl::StrFormat(
          "_Py_DebugOffsets: %s = %u is outside its struct (size %u)", mapping.name, value,
          struct_size));
    }
    int32_t& field = offsets->*mapping.field;
    if (field != static_cast<int32_t>(value)) {
      mismatches.push_back(absl::StrFormat("%s: table %d, target %u", mapping.name, field, value));
    }
    field = static_cast<int32_t>(value);
  }
  // Not in the record: PyCompactUnicodeObject adds two words after the ASCII
  // header (utf8_length, utf8), in every version that has debug offsets.
  offsets->unicode_compact_data = offsets->unicode_ascii_data + 16;
  return mismatches;
}

}  // namespace pyhang::python
