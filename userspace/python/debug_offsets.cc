#include "userspace/python/debug_offsets.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace pyhang::python {
namespace {

constexpr char kCookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};
constexpr size_t kHeaderBytes = 24;  // cookie, version, free_threaded
// Generous cap on the size of any struct described: larger is not real.
constexpr uint64_t kMaxStructSize = 1 << 20;

// The layout of _Py_DebugOffsets in each minor version that has one, as
// the header declares it (Include/internal/pycore_debug_offsets.h; 3.13:
// pycore_runtime.h): after the 24-byte header, groups of uint64_t fields in
// order, one line per group, "group: field field ...". A group whose first
// field is `size` describes a struct of that size, and every offset in it
// must fall inside it. Adding a version means adding its layout here.
const char* const kLayout313[] = {
    "runtime_state: size finalizing interpreters_head",
    "interpreter_state: size id next threads_head gc imports_modules sysdict builtins ceval_gil "
    "gil_runtime_state gil_runtime_state_enabled gil_runtime_state_locked gil_runtime_state_holder",
    "thread_state: size prev next interp current_frame thread_id native_thread_id datastack_chunk "
    "status",
    "interpreter_frame: size previous executable instr_ptr localsplus owner",
    "code_object: size filename name qualname linetable firstlineno argcount localsplusnames "
    "localspluskinds co_code_adaptive",
    "pyobject: size ob_type",
    "type_object: size tp_name tp_repr tp_flags",
    "tuple_object: size ob_item ob_size",
    "list_object: size ob_item ob_size",
    "dict_object: size ma_keys ma_values",
    "float_object: size ob_fval",
    "long_object: size lv_tag ob_digit",
    "bytes_object: size ob_size ob_sval",
    "unicode_object: size state length asciiobject_size",
    "gc: size collecting",
};

const char* const kLayout314[] = {
    "runtime_state: size finalizing interpreters_head",
    "interpreter_state: size id next threads_head threads_main gc imports_modules sysdict builtins "
    "ceval_gil gil_runtime_state gil_runtime_state_enabled gil_runtime_state_locked "
    "gil_runtime_state_holder code_object_generation tlbc_generation",
    "thread_state: size prev next interp current_frame thread_id native_thread_id datastack_chunk "
    "status",
    "interpreter_frame: size previous executable instr_ptr localsplus owner stackpointer tlbc_index",
    "code_object: size filename name qualname linetable firstlineno argcount localsplusnames "
    "localspluskinds co_code_adaptive co_tlbc",
    "pyobject: size ob_type",
    "type_object: size tp_name tp_repr tp_flags",
    "tuple_object: size ob_item ob_size",
    "list_object: size ob_item ob_size",
    "set_object: size used table mask",
    "dict_object: size ma_keys ma_values",
    "float_object: size ob_fval",
    "long_object: size lv_tag ob_digit",
    "bytes_object: size ob_size ob_sval",
    "unicode_object: size state length asciiobject_size",
    "gc: size collecting",
    "gen_object: size gi_name gi_iframe gi_frame_state",
    "llist_node: next prev",
    "debugger_support: eval_breaker remote_debugger_support remote_debugging_enabled "
    "debugger_pending_call debugger_script_path debugger_script_path_size",
};

// 3.15.0b4 and later (b4 inserted last_profiled_frame_seq).
const char* const kLayout315[] = {
    "runtime_state: size finalizing interpreters_head",
    "interpreter_state: size id next threads_head threads_main gc imports_modules sysdict builtins "
    "ceval_gil gil_runtime_state gil_runtime_state_enabled gil_runtime_state_locked "
    "gil_runtime_state_holder code_object_generation tlbc_generation",
    "thread_state: size prev next interp current_frame base_frame last_profiled_frame "
    "last_profiled_frame_seq thread_id native_thread_id datastack_chunk status holds_gil "
    "gil_requested current_exception exc_state",
    "err_stackitem: exc_value",
    "interpreter_frame: size previous executable instr_ptr localsplus owner stackpointer tlbc_index",
    "code_object: size filename name qualname linetable firstlineno argcount localsplusnames "
    "localspluskinds co_code_adaptive co_tlbc",
    "pyobject: size ob_type",
    "type_object: size tp_name tp_repr tp_flags tp_basicsize tp_dictoffset",
    "heap_type_object: size ht_cached_keys",
    "tuple_object: size ob_item ob_size",
    "list_object: size ob_item ob_size",
    "set_object: size used table mask",
    "dict_object: size ma_keys ma_values",
    "float_object: size ob_fval",
    "long_object: size lv_tag ob_digit",
    "bytes_object: size ob_size ob_sval",
    "unicode_object: size state length asciiobject_size compactunicodeobject_size",
    "gc: size collecting frame generation_stats_size generation_stats",
    "gen_object: size gi_name gi_iframe gi_frame_state",
    "llist_node: next prev",
    "debugger_support: eval_breaker remote_debugger_support remote_debugging_enabled "
    "debugger_pending_call debugger_script_path debugger_script_path_size",
};

struct Layout {
  int minor;
  absl::Span<const char* const> groups;
};

constexpr Layout kLayouts[] = {{13, kLayout313}, {14, kLayout314}, {15, kLayout315}};

// What pyhang takes from the record: "group.field" -> our field, and the
// width of the target field (an offset plus its width must lie inside its
// struct, and be aligned to the width, as CPython's own reader requires).
struct FieldUse {
  const char* name;
  int32_t PyOffsets::*field;
  uint32_t width;
};

constexpr FieldUse kUses[] = {
    {"runtime_state.interpreters_head", &PyOffsets::runtime_interpreters_head, 8},
    {"interpreter_state.id", &PyOffsets::interp_id, 8},
    {"interpreter_state.next", &PyOffsets::interp_next, 8},
    {"interpreter_state.threads_head", &PyOffsets::interp_threads_head, 8},
    {"interpreter_state.imports_modules", &PyOffsets::interp_modules, 8},
    {"interpreter_state.ceval_gil", &PyOffsets::interp_gil, 8},
    {"thread_state.next", &PyOffsets::tstate_next, 8},
    {"thread_state.interp", &PyOffsets::tstate_interp, 8},
    {"thread_state.current_frame", &PyOffsets::tstate_frame, 8},
    {"thread_state.thread_id", &PyOffsets::tstate_thread_id, 8},
    {"thread_state.native_thread_id", &PyOffsets::tstate_native_thread_id, 8},
    {"thread_state.status", &PyOffsets::tstate_status, 4},
    {"thread_state.holds_gil", &PyOffsets::tstate_holds_gil, 4},
    {"err_stackitem.exc_value", &PyOffsets::stackitem_exc_value, 8},
    {"interpreter_frame.previous", &PyOffsets::frame_previous, 8},
    {"interpreter_frame.executable", &PyOffsets::frame_code, 8},
    {"interpreter_frame.instr_ptr", &PyOffsets::frame_instr, 8},
    {"interpreter_frame.localsplus", &PyOffsets::frame_localsplus, 8},
    {"interpreter_frame.owner", &PyOffsets::frame_owner, 1},
    {"interpreter_frame.stackpointer", &PyOffsets::frame_stacktop, 8},
    {"code_object.filename", &PyOffsets::code_filename, 8},
    {"code_object.name", &PyOffsets::code_name, 8},
    {"code_object.qualname", &PyOffsets::code_qualname, 8},
    {"code_object.linetable", &PyOffsets::code_linetable, 8},
    {"code_object.firstlineno", &PyOffsets::code_firstlineno, 4},
    {"code_object.argcount", &PyOffsets::code_argcount, 4},
    {"code_object.localsplusnames", &PyOffsets::code_varnames, 8},
    {"code_object.localspluskinds", &PyOffsets::code_localspluskinds, 8},
    {"code_object.co_code_adaptive", &PyOffsets::code_adaptive, 2},
    {"pyobject.ob_type", &PyOffsets::object_type, 8},
    {"type_object.tp_name", &PyOffsets::type_name, 8},
    {"type_object.tp_flags", &PyOffsets::type_flags, 8},
    {"type_object.tp_basicsize", &PyOffsets::type_basicsize, 8},
    {"type_object.tp_dictoffset", &PyOffsets::type_dictoffset, 8},
    {"heap_type_object.ht_cached_keys", &PyOffsets::heaptype_cached_keys, 8},
    {"tuple_object.ob_item", &PyOffsets::tuple_items, 8},
    {"list_object.ob_item", &PyOffsets::list_items, 8},
    {"set_object.table", &PyOffsets::set_table, 8},
    {"set_object.mask", &PyOffsets::set_mask, 8},
    {"dict_object.ma_keys", &PyOffsets::dict_keys, 8},
    {"dict_object.ma_values", &PyOffsets::dict_values, 8},
    {"float_object.ob_fval", &PyOffsets::float_value, 8},
    {"long_object.ob_digit", &PyOffsets::long_digits, 4},
    {"bytes_object.ob_size", &PyOffsets::bytes_size, 8},
    {"bytes_object.ob_sval", &PyOffsets::bytes_data, 1},
    {"unicode_object.state", &PyOffsets::unicode_state, 4},
    {"unicode_object.length", &PyOffsets::unicode_length, 8},
    {"gen_object.gi_iframe", &PyOffsets::gen_frame, 8},
    {"gen_object.gi_frame_state", &PyOffsets::gen_frame_state, 1},
};

// A field's position in the record and the position of its group's size
// (nullopt for groups that describe no single struct).
struct Slot {
  size_t position = 0;
  std::optional<size_t> size_position;
};

absl::flat_hash_map<std::string, Slot> SlotsOf(const Layout& layout, size_t* record_size) {
  absl::flat_hash_map<std::string, Slot> slots;
  size_t position = kHeaderBytes;
  for (const char* line : layout.groups) {
    std::vector<std::string> parts = absl::StrSplit(line, ':');
    const std::string& group = parts[0];
    std::vector<std::string> fields = absl::StrSplit(parts[1], ' ', absl::SkipEmpty());
    std::optional<size_t> size_position;
    if (!fields.empty() && fields[0] == "size") size_position = position;
    for (const std::string& field : fields) {
      slots[absl::StrCat(group, ".", field)] = Slot{position, size_position};
      position += 8;
    }
  }
  *record_size = position;
  return slots;
}

uint64_t U64At(const std::string& bytes, size_t position) {
  return memory::LoadAt<uint64_t>(bytes, static_cast<int64_t>(position));
}

absl::Status Malformed(absl::string_view why) {
  return absl::DataLossError(absl::StrCat("_Py_DebugOffsets: ", why));
}

// Whether `width` bytes at `offset` lie inside a struct of `struct_size`
// bytes, aligned to the width. Written so that a huge offset cannot wrap
// around (offset + width overflowing to a small number).
bool FitsIn(uint64_t offset, uint64_t width, uint64_t struct_size) {
  return width <= struct_size && offset <= struct_size - width && offset % width == 0;
}

// Offsets the record gives relative to a containing struct, turned into
// the offsets our record wants. They are checked like the fields taken as
// they are: inside their struct (whose size the caller has checked).
absl::Status ApplyDerived(const absl::flat_hash_map<std::string, Slot>& slots, const std::string& bytes,
                          PyOffsets* offsets) {
  auto value = [&](const char* name) -> std::optional<uint64_t> {
    auto it = slots.find(name);
    if (it == slots.end()) return std::nullopt;
    return U64At(bytes, it->second.position);
  };
  auto struct_size = [&](const char* name) -> uint64_t {
    auto it = slots.find(name);
    return it != slots.end() && it->second.size_position ? U64At(bytes, *it->second.size_position) : 0;
  };
  // The GIL's fields are published relative to the interpreter that embeds
  // it; our record reads them relative to the GIL struct itself.
  std::optional<uint64_t> gil = value("interpreter_state.gil_runtime_state");
  std::optional<uint64_t> locked = value("interpreter_state.gil_runtime_state_locked");
  std::optional<uint64_t> holder = value("interpreter_state.gil_runtime_state_holder");
  if (gil && locked && holder && *locked > *gil && *holder > *gil) {
    uint64_t interp_size = struct_size("interpreter_state.gil_runtime_state");
    if (!FitsIn(*locked, 4, interp_size) || !FitsIn(*holder, 8, interp_size)) {
      return Malformed(absl::StrFormat(
          "interpreter_state.gil_runtime_state_locked = %u, _holder = %u: outside their struct "
          "(size %u) or misaligned", *locked, *holder, interp_size));
    }
    offsets->gil_locked = static_cast<int32_t>(*locked - *gil);
    offsets->gil_last_holder = static_cast<int32_t>(*holder - *gil);
  }
  // The thread's exception stack (3.15): CPython's own reader takes
  // exc_info as the word after current_exception, and previous_item as the
  // word after exc_value (_PyRemoteDebug_ValidateDebugOffsetsLayout).
  if (std::optional<uint64_t> current = value("thread_state.current_exception")) {
    uint64_t tstate_size = struct_size("thread_state.current_exception");
    if (!FitsIn(*current + 8, 8, tstate_size)) {
      return Malformed(absl::StrFormat("thread_state.current_exception = %u: no exc_info after it (size %u)",
                                       *current, tstate_size));
    }
    offsets->tstate_exc_info = static_cast<int32_t>(*current + 8);
  }
  if (Has(offsets->stackitem_exc_value)) offsets->stackitem_previous = offsets->stackitem_exc_value + 8;
  // A compact str's data follows PyCompactUnicodeObject (3.15 publishes its
  // size; before, it is two words past the ASCII header: utf8_length, utf8).
  // Both headers start a PyUnicodeObject, so they cannot be larger.
  uint64_t unicode_size = struct_size("unicode_object.asciiobject_size");
  if (std::optional<uint64_t> ascii = value("unicode_object.asciiobject_size")) {
    if (*ascii > unicode_size || unicode_size - *ascii < 16) {
      return Malformed(absl::StrFormat("unicode_object.asciiobject_size = %u: larger than its struct (size %u)",
                                       *ascii, unicode_size));
    }
    offsets->unicode_ascii_data = static_cast<int32_t>(*ascii);
    offsets->unicode_compact_data = static_cast<int32_t>(*ascii + 16);
  }
  if (std::optional<uint64_t> compact = value("unicode_object.compactunicodeobject_size")) {
    if (*compact > unicode_size) {
      return Malformed(absl::StrFormat(
          "unicode_object.compactunicodeobject_size = %u: larger than its struct (size %u)", *compact,
          unicode_size));
    }
    offsets->unicode_compact_data = static_cast<int32_t>(*compact);
  }
  return absl::OkStatus();
}

const Layout* LayoutFor(int minor) {
  for (const Layout& layout : kLayouts) {
    if (layout.minor == minor) return &layout;
  }
  return nullptr;
}

}  // namespace

std::vector<std::pair<std::string, size_t>> DebugOffsetsFields(int minor, size_t* record_size) {
  std::vector<std::pair<std::string, size_t>> fields;
  *record_size = 0;
  const Layout* layout = LayoutFor(minor);
  if (layout == nullptr) return fields;
  for (const auto& [name, slot] : SlotsOf(*layout, record_size)) fields.emplace_back(name, slot.position);
  std::sort(fields.begin(), fields.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  return fields;
}

bool HasDebugOffsetsLayout(const PythonVersion& version) {
  return version.major == 3 && LayoutFor(version.minor) != nullptr;
}

absl::StatusOr<std::optional<DebugOffsetsHeader>> ReadDebugOffsetsHeader(
    memory::MemoryReader& reader, uint64_t runtime_address) {
  absl::StatusOr<std::string> head = memory::ReadBytes(reader, runtime_address, kHeaderBytes);
  if (!head.ok()) return head.status();
  return ParseDebugOffsetsHeader(*head);
}

std::optional<DebugOffsetsHeader> ParseDebugOffsetsHeader(absl::string_view bytes) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kCookie, sizeof(kCookie)) != 0) {
    return std::nullopt;
  }
  DebugOffsetsHeader header;
  header.version_hex = static_cast<uint32_t>(memory::LoadAt<uint64_t>(bytes, 8));
  header.free_threaded = memory::LoadAt<uint64_t>(bytes, 16) != 0;
  return header;
}

absl::StatusOr<std::vector<std::string>> ApplyDebugOffsets(memory::MemoryReader& reader,
                                                           uint64_t runtime_address,
                                                           const PythonVersion& version,
                                                           PyOffsets* offsets) {
  const Layout* layout = version.major == 3 ? LayoutFor(version.minor) : nullptr;
  if (layout == nullptr) {
    return absl::UnimplementedError(absl::StrCat(
        "_Py_DebugOffsets: no layout known for Python ", version.ToString()));
  }
  size_t record_size = 0;
  absl::flat_hash_map<std::string, Slot> slots = SlotsOf(*layout, &record_size);
  absl::StatusOr<std::string> bytes = memory::ReadBytes(reader, runtime_address, record_size);
  if (!bytes.ok()) return bytes.status();
  std::optional<DebugOffsetsHeader> header = ParseDebugOffsetsHeader(*bytes);
  if (!header) return Malformed("cookie \"xdebugpy\" not found");
  PythonVersion published = PythonVersion::FromHex(header->version_hex);
  if (published.major != version.major || published.minor != version.minor) {
    return Malformed(absl::StrCat("the record is for Python ", published.ToString(),
                                  ", the process runs ", version.ToString()));
  }
  if (header->free_threaded) return Malformed("free-threaded build");
  std::vector<std::string> mismatches;
  for (const FieldUse& use : kUses) {
    auto slot = slots.find(use.name);
    if (slot == slots.end()) continue;  // not published in this version
    uint64_t value = U64At(*bytes, slot->second.position);
    if (slot->second.size_position) {
      uint64_t struct_size = U64At(*bytes, *slot->second.size_position);
      if (struct_size == 0 || struct_size > kMaxStructSize) {
        return Malformed(absl::StrFormat("%s: impossible struct size %u", use.name, struct_size));
      }
      if (!FitsIn(value, use.width, struct_size)) {
        return Malformed(absl::StrFormat("%s = %u is outside its struct (size %u) or misaligned",
                                         use.name, value, struct_size));
      }
    } else if (value > kMaxStructSize) {
      return Malformed(absl::StrFormat("%s = %u is impossible", use.name, value));
    }
    int32_t& field = offsets->*use.field;
    if (Has(field) && field != static_cast<int32_t>(value)) {
      mismatches.push_back(absl::StrFormat("%s: table %d, target %u", use.name, field, value));
    }
    field = static_cast<int32_t>(value);
  }
  if (absl::Status derived = ApplyDerived(slots, *bytes, offsets); !derived.ok()) return derived;
  return mismatches;
}

}  // namespace pyhang::python
