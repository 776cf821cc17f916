#include "tests/unit/offset_expressions.h"

#include "absl/strings/str_cat.h"

namespace pyhang::testing {
namespace {

using python::PyOffsets;
using Range = FieldTruth::Range;

// Open end: a field keeps its name until a range says otherwise (a renamed
// field then fails in gdb, so the map must be updated).
constexpr int kLatest = 99;

// offsetof(TYPE, MEMBER); MEMBER may be a path ("threads.head").
DwarfExpression O(const char* type, const char* member) {
  return {DwarfExpression::kValue, absl::StrCat("(long)&((", type, "*)0)->", member)};
}
DwarfExpression S(const char* type) {
  return {DwarfExpression::kValue, absl::StrCat("(long)sizeof(", type, ")")};
}
// An enumerator's value (enum _frameowner).
DwarfExpression E(const char* name) { return {DwarfExpression::kValue, absl::StrCat("(long)", name)}; }
DwarfExpression Bit(const char* type, const char* word, const char* bit) {
  return {DwarfExpression::kBitfield, absl::StrCat(type, " ", word, " ", bit)};
}
Range All(DwarfExpression truth) { return {8, kLatest, {std::move(truth)}}; }

#define FIELD(name)                                                                \
  #name, [](const PyOffsets& o) -> int64_t { return o.name; }, sizeof(PyOffsets::name)

constexpr char kRuntime[] = "_PyRuntimeState";
constexpr char kInterp[] = "PyInterpreterState";
constexpr char kGil[] = "struct _gil_runtime_state";
constexpr char kTstate[] = "PyThreadState";
constexpr char kFrameObject[] = "PyFrameObject";     // <= 3.10
constexpr char kFrame[] = "_PyInterpreterFrame";     // >= 3.11
constexpr char kCode[] = "PyCodeObject";

std::vector<FieldTruth> RuntimeAndInterpreter() {
  return {
      {FIELD(runtime_interpreters_head), {All(O(kRuntime, "interpreters.head"))}},
      {FIELD(runtime_tstate_current), {{8, 11, {O(kRuntime, "gilstate.tstate_current")}}}},
      {FIELD(runtime_tss_key),
       {{8, 11, {O(kRuntime, "gilstate.autoTSSkey")}}, {12, kLatest, {O(kRuntime, "autoTSSkey")}}}},
      {FIELD(runtime_gil), {{8, 11, {O(kRuntime, "ceval.gil")}}}},
      {FIELD(interp_next), {All(O(kInterp, "next"))}},
      {FIELD(interp_id), {All(O(kInterp, "id"))}},
      {FIELD(interp_threads_head),
       {{8, 10, {O(kInterp, "tstate_head")}}, {11, kLatest, {O(kInterp, "threads.head")}}}},
      {FIELD(interp_modules),
       {{8, 11, {O(kInterp, "modules")}}, {12, kLatest, {O(kInterp, "imports.modules")}}}},
      {FIELD(interp_gil), {{12, kLatest, {O(kInterp, "ceval.gil")}}}},
      {FIELD(gil_last_holder), {All(O(kGil, "last_holder"))}},
      {FIELD(gil_locked), {All(O(kGil, "locked"))}},
      {FIELD(gil_switch_number), {All(O(kGil, "switch_number"))}},
      {FIELD(gil_size), {All(S(kGil))}},
  };
}

std::vector<FieldTruth> ThreadState() {
  return {
      {FIELD(tstate_next), {All(O(kTstate, "next"))}},
      {FIELD(tstate_interp), {All(O(kTstate, "interp"))}},
      {FIELD(tstate_frame),
       {{8, 10, {O(kTstate, "frame")}},
        {11, 12, {O(kTstate, "cframe")}},
        {13, kLatest, {O(kTstate, "current_frame")}}}},
      {FIELD(cframe_current_frame), {{11, 12, {O("_PyCFrame", "current_frame")}}}},
      {FIELD(tstate_thread_id), {All(O(kTstate, "thread_id"))}},
      {FIELD(tstate_native_thread_id), {{11, kLatest, {O(kTstate, "native_thread_id")}}}},
      {FIELD(tstate_status), {{12, kLatest, {O(kTstate, "_status")}}}},
      {FIELD(tstate_state), {{13, kLatest, {O(kTstate, "state")}}}},
      {FIELD(tstate_holds_gil), {{14, kLatest, {O(kTstate, "holds_gil")}}}},
      {FIELD(holds_gil_bit), {{13, 13, {Bit(kTstate, "_status", "holds_gil")}}}},
  };
}

std::vector<FieldTruth> Frames() {
  return {
      {FIELD(owner_thread), {{11, kLatest, {E("FRAME_OWNED_BY_THREAD")}}}},
      {FIELD(owner_generator), {{11, kLatest, {E("FRAME_OWNED_BY_GENERATOR")}}}},
      {FIELD(owner_frame_object), {{11, kLatest, {E("FRAME_OWNED_BY_FRAME_OBJECT")}}}},
      {FIELD(owner_cstack), {{12, 14, {E("FRAME_OWNED_BY_CSTACK")}}}},
      {FIELD(owner_interpreter), {{14, kLatest, {E("FRAME_OWNED_BY_INTERPRETER")}}}},
      {FIELD(frame_previous),
       {{8, 10, {O(kFrameObject, "f_back")}}, {11, kLatest, {O(kFrame, "previous")}}}},
      {FIELD(frame_code),
       {{8, 10, {O(kFrameObject, "f_code")}},
        {11, 12, {O(kFrame, "f_code")}},
        {13, kLatest, {O(kFrame, "f_executable")}}}},
      {FIELD(frame_instr),
       {{8, 10, {O(kFrameObject, "f_lasti")}},
        {11, 12, {O(kFrame, "prev_instr")}},
        {13, kLatest, {O(kFrame, "instr_ptr")}}}},
      {FIELD(frame_owner), {{11, kLatest, {O(kFrame, "owner")}}}},
      {FIELD(frame_is_entry), {{11, 11, {O(kFrame, "is_entry")}}}},
      {FIELD(frame_localsplus),
       {{8, 10, {O(kFrameObject, "f_localsplus")}}, {11, kLatest, {O(kFrame, "localsplus")}}}},
      {FIELD(frame_stacktop),
       {{8, 9, {O(kFrameObject, "f_stacktop")}},
        {10, 10, {O(kFrameObject, "f_stackdepth")}},
        {11, 13, {O(kFrame, "stacktop")}},
        {14, kLatest, {O(kFrame, "stackpointer")}}}},
      {FIELD(frame_valuestack), {{8, 10, {O(kFrameObject, "f_valuestack")}}}},
      // The fixed part: up to the locals (3.14+: the whole struct, whose
      // one-element localsplus array is read with it).
      {FIELD(frame_size),
       {{8, 10, {O(kFrameObject, "f_localsplus")}},
        {11, 13, {O(kFrame, "localsplus")}},
        {14, kLatest, {S(kFrame)}}}},
      {FIELD(frame_globals),
       {{8, 10, {O(kFrameObject, "f_globals")}}, {11, kLatest, {O(kFrame, "f_globals")}}}},
  };
}

std::vector<FieldTruth> Code() {
  return {
      {FIELD(code_argcount), {All(O(kCode, "co_argcount"))}},
      {FIELD(code_posonlyargcount), {All(O(kCode, "co_posonlyargcount"))}},
      {FIELD(code_kwonlyargcount), {All(O(kCode, "co_kwonlyargcount"))}},
      {FIELD(code_flags), {All(O(kCode, "co_flags"))}},
      {FIELD(code_nlocals), {All(O(kCode, "co_nlocals"))}},
      {FIELD(code_nlocalsplus), {{11, kLatest, {O(kCode, "co_nlocalsplus")}}}},
      {FIELD(code_stacksize), {All(O(kCode, "co_stacksize"))}},
      {FIELD(code_firstlineno), {All(O(kCode, "co_firstlineno"))}},
      {FIELD(code_varnames),
       {{8, 10, {O(kCode, "co_varnames")}}, {11, kLatest, {O(kCode, "co_localsplusnames")}}}},
      {FIELD(code_localspluskinds), {{11, kLatest, {O(kCode, "co_localspluskinds")}}}},
      {FIELD(code_cellvars), {{8, 10, {O(kCode, "co_cellvars")}}}},
      {FIELD(code_freevars), {{8, 10, {O(kCode, "co_freevars")}}}},
      {FIELD(code_filename), {All(O(kCode, "co_filename"))}},
      {FIELD(code_name), {All(O(kCode, "co_name"))}},
      {FIELD(code_qualname), {{11, kLatest, {O(kCode, "co_qualname")}}}},
      {FIELD(code_linetable),
       {{8, 9, {O(kCode, "co_lnotab")}}, {10, kLatest, {O(kCode, "co_linetable")}}}},
      {FIELD(code_firsttraceable), {{11, kLatest, {O(kCode, "_co_firsttraceable")}}}},
      {FIELD(code_adaptive), {{11, kLatest, {O(kCode, "co_code_adaptive")}}}},
      // The fixed part: the whole struct (<= 3.10, 3.14+), up to the
      // bytecode (3.11-3.13).
      {FIELD(code_size),
       {{8, 10, {S(kCode)}}, {11, 13, {O(kCode, "co_code_adaptive")}}, {14, kLatest, {S(kCode)}}}},
      {FIELD(code_names), {All(O(kCode, "co_names"))}},
  };
}

// The value objects --locals shows (Objects/*.c, Include/cpython/*.h).
std::vector<FieldTruth> Values() {
  return {
      {FIELD(function_qualname), {All(O("PyFunctionObject", "func_qualname"))}},
      {FIELD(set_mask), {All(O("PySetObject", "mask"))}},
      {FIELD(set_table), {All(O("PySetObject", "table"))}},
      {FIELD(bytearray_start), {All(O("PyByteArrayObject", "ob_start"))}},
      {FIELD(complex_value), {All(O("PyComplexObject", "cval"))}},
      {FIELD(range_start), {All(O("rangeobject", "start"))}},
      {FIELD(range_stop), {All(O("rangeobject", "stop"))}},
      {FIELD(range_step), {All(O("rangeobject", "step"))}},
      {FIELD(exception_args), {All(O("PyBaseExceptionObject", "args"))}},
      {FIELD(type_members), {All(O("PyTypeObject", "tp_members"))}},
      {FIELD(type_base), {All(O("PyTypeObject", "tp_base"))}},
      {FIELD(type_dict), {All(O("PyTypeObject", "tp_dict"))}},
      {FIELD(list_allocated), {All(O("PyListObject", "allocated"))}},
  };
}

std::vector<FieldTruth> Objects() {
  return {
      {FIELD(object_type), {All(O("PyObject", "ob_type"))}},
      {FIELD(varobject_size), {All(O("PyVarObject", "ob_size"))}},
      {FIELD(type_name), {All(O("PyTypeObject", "tp_name"))}},
      {FIELD(type_basicsize), {All(O("PyTypeObject", "tp_basicsize"))}},
      {FIELD(type_flags), {All(O("PyTypeObject", "tp_flags"))}},
      {FIELD(type_dictoffset), {All(O("PyTypeObject", "tp_dictoffset"))}},
      {FIELD(heaptype_cached_keys), {All(O("PyHeapTypeObject", "ht_cached_keys"))}},
      {FIELD(unicode_length), {All(O("PyASCIIObject", "length"))}},
      {FIELD(unicode_state), {All(O("PyASCIIObject", "state"))}},
      {FIELD(unicode_ascii_data), {All(S("PyASCIIObject"))}},
      {FIELD(unicode_compact_data), {All(S("PyCompactUnicodeObject"))}},
      {FIELD(bytes_size), {All(O("PyBytesObject", "ob_base.ob_size"))}},
      {FIELD(bytes_data), {All(O("PyBytesObject", "ob_sval"))}},
      {FIELD(tuple_items), {All(O("PyTupleObject", "ob_item"))}},
      {FIELD(list_items), {All(O("PyListObject", "ob_item"))}},
      {FIELD(long_digits),
       {{8, 11, {O("PyLongObject", "ob_digit")}}, {12, kLatest, {O("PyLongObject", "long_value.ob_digit")}}}},
      {FIELD(float_value), {All(O("PyFloatObject", "ob_fval"))}},
      {FIELD(dict_keys), {All(O("PyDictObject", "ma_keys"))}},
      {FIELD(dict_values), {All(O("PyDictObject", "ma_values"))}},
      {FIELD(module_dict), {All(O("PyModuleObject", "md_dict"))}},
      {FIELD(cell_ref), {All(O("PyCellObject", "ob_ref"))}},
      {FIELD(method_func), {All(O("PyMethodObject", "im_func"))}},
      {FIELD(method_self), {All(O("PyMethodObject", "im_self"))}},
      {FIELD(cfunction_self), {All(O("PyCFunctionObject", "m_self"))}},
      {FIELD(gen_frame),
       {{8, 10, {O("PyGenObject", "gi_frame")}}, {11, kLatest, {O("PyGenObject", "gi_iframe")}}}},
      {FIELD(gen_frame_state), {{11, kLatest, {O("PyGenObject", "gi_frame_state")}}}},
  };
}

// _thread.lock and _thread.RLock (Modules/_threadmodule.c): a sem_t-based
// PyThread_type_lock up to 3.13, PyMutex / _PyRecursiveMutex from 3.14.
std::vector<FieldTruth> Locks() {
  return {
      {FIELD(lock_locked),
       {{8, 13, {O("lockobject", "locked")}}, {14, kLatest, {O("lockobject", "lock")}}}},
      {FIELD(rlock_owner),
       {{8, 13, {O("rlockobject", "rlock_owner")}}, {14, kLatest, {O("rlockobject", "lock.thread")}}}},
      {FIELD(rlock_count),
       {{8, 13, {O("rlockobject", "rlock_count")}}, {14, kLatest, {O("rlockobject", "lock.level")}}}},
      {FIELD(lock_sem),
       {{8, 13, {O("lockobject", "lock_lock"), O("rlockobject", "rlock_lock")}}}},
  };
}

// The exception a thread handles (sys.exc_info()) and its chain.
std::vector<FieldTruth> Exceptions() {
  constexpr char kException[] = "PyBaseExceptionObject";
  constexpr char kOsError[] = "PyOSErrorObject";
  return {
      {FIELD(tstate_exc_info), {All(O(kTstate, "exc_info"))}},
      {FIELD(stackitem_exc_value), {All(O("_PyErr_StackItem", "exc_value"))}},
      {FIELD(stackitem_previous), {All(O("_PyErr_StackItem", "previous_item"))}},
      {FIELD(exception_context), {All(O(kException, "context"))}},
      {FIELD(exception_cause), {All(O(kException, "cause"))}},
      {FIELD(exception_suppress_context), {All(O(kException, "suppress_context"))}},
      {FIELD(oserror_errno), {All(O(kOsError, "myerrno"))}},
      {FIELD(oserror_strerror), {All(O(kOsError, "strerror"))}},
      {FIELD(oserror_filename), {All(O(kOsError, "filename"))}},
      {FIELD(oserror_filename2), {All(O(kOsError, "filename2"))}},
  };
}

#undef FIELD

}  // namespace

const std::vector<DwarfExpression>* FieldTruth::For(int minor) const {
  for (const Range& range : ranges) {
    if (range.first_minor <= minor && minor <= range.last_minor) return &range.truths;
  }
  return nullptr;
}

bool FieldTruth::IsAbsent(int64_t value) const {
  return size == 1 ? value == PYHANG_NO_OWNER : value == PYHANG_ABSENT;
}

const std::vector<FieldTruth>& FieldTruths() {
  static const std::vector<FieldTruth>* truths = [] {
    auto* all = new std::vector<FieldTruth>();
    for (auto part : {RuntimeAndInterpreter, ThreadState, Frames, Code, Objects, Locks, Values, Exceptions}) {
      std::vector<FieldTruth> fields = part();
      all->insert(all->end(), fields.begin(), fields.end());
    }
    return all;
  }();
  return *truths;
}

const std::vector<UncheckedField>& UncheckedFields() {
  static const std::vector<UncheckedField> fields = {
      {"version_hex", sizeof(PyOffsets::version_hex)},
      {"frame_model", 1}, {"instr_encoding", 1}, {"linetable_format", 1},
      {"gil_location", 1}, {"stacktop_format", 1}, {"long_format", 1},
      {"dict_keys_format", 1}, {"instance_dict_format", 1}, {"tagged_frame_refs", 1},
      {"pad0", sizeof(PyOffsets::pad0)},
  };
  return fields;
}

}  // namespace pyhang::testing
