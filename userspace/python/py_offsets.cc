// Per-version field offsets for x86_64 Linux, default (GIL) builds.
// Each version starts from the previous one and lists what changed, so the
// differences between versions are visible in one place. Every number is
// the CPython field it stands for.
#include "userspace/python/py_offsets.h"

#include <cstring>

namespace pyhang::python {
namespace {

PyOffsets AllAbsent() {
  PyOffsets o;
  std::memset(&o, 0xff, sizeof(o));  // every __s32 = PYHANG_ABSENT, every __u8 = 0xff
  o.pad0 = 0;
  o.tagged_frame_refs = 0;
  return o;
}

// Fields of value objects (--locals) that have not moved in 3.8-3.15.
void ValueFields(PyOffsets* o) {
  o->function_qualname = 40;     // PyFunctionObject.func_qualname (3.10+)
  o->set_mask = 32;              // PySetObject.mask
  o->set_table = 40;             // PySetObject.table
  o->bytearray_start = 40;       // PyByteArrayObject.ob_start
  o->complex_value = 16;         // PyComplexObject.cval
  o->range_start = 16;           // PyRangeObject.start
  o->range_stop = 24;            // PyRangeObject.stop
  o->range_step = 32;            // PyRangeObject.step
  o->exception_args = 24;        // PyBaseExceptionObject.args
  o->type_members = 240;         // PyTypeObject.tp_members
  o->type_base = 256;            // PyTypeObject.tp_base
  o->type_dict = 264;            // PyTypeObject.tp_dict
  o->list_allocated = 32;        // PyListObject.allocated
}

// The exception stack and the exception objects a handled exception's
// chain is read from. 3.11 dropped _PyErr_StackItem's exc_type and
// exc_traceback, and added PyBaseExceptionObject.notes before traceback,
// moving every later field by one word.
void ExceptionFields(PyOffsets* o, bool since_311) {
  const int32_t notes = since_311 ? 8 : 0;
  o->stackitem_exc_value = since_311 ? 0 : 8;   // _PyErr_StackItem.exc_value
  o->stackitem_previous = since_311 ? 8 : 24;   // _PyErr_StackItem.previous_item
  o->exception_context = 40 + notes;            // PyBaseExceptionObject.context
  o->exception_cause = 48 + notes;              // PyBaseExceptionObject.cause
  o->exception_suppress_context = 56 + notes;   // PyBaseExceptionObject.suppress_context
  o->oserror_errno = 64 + notes;                // PyOSErrorObject.myerrno
  o->oserror_strerror = 72 + notes;             // PyOSErrorObject.strerror
  o->oserror_filename = 80 + notes;             // PyOSErrorObject.filename
  o->oserror_filename2 = 88 + notes;            // PyOSErrorObject.filename2
}

// Fields that have not moved in 3.8-3.13.
PyOffsets Common() {
  PyOffsets o = AllAbsent();
  o.tstate_next = 8;             // PyThreadState.next
  o.tstate_interp = 16;          // PyThreadState.interp
  o.object_type = 8;             // PyObject.ob_type
  o.varobject_size = 16;         // PyVarObject.ob_size
  o.type_name = 24;              // PyTypeObject.tp_name
  o.type_basicsize = 32;         // PyTypeObject.tp_basicsize
  o.type_flags = 168;            // PyTypeObject.tp_flags
  o.type_dictoffset = 288;       // PyTypeObject.tp_dictoffset
  o.unicode_length = 16;         // PyASCIIObject.length
  o.unicode_state = 32;          // PyASCIIObject.state
  o.bytes_size = 16;             // PyBytesObject.ob_size
  o.bytes_data = 32;             // PyBytesObject.ob_sval
  o.tuple_items = 24;            // PyTupleObject.ob_item
  o.list_items = 24;             // PyListObject.ob_item
  o.long_digits = 24;            // PyLongObject.ob_digit / long_value.ob_digit
  o.float_value = 16;            // PyFloatObject.ob_fval
  o.dict_keys = 32;              // PyDictObject.ma_keys
  o.dict_values = 40;            // PyDictObject.ma_values
  o.module_dict = 16;            // PyModuleObject.md_dict
  o.cell_ref = 16;               // PyCellObject.ob_ref
  o.method_func = 16;            // PyMethodObject.im_func
  o.method_self = 24;            // PyMethodObject.im_self
  o.cfunction_self = 24;         // PyCFunctionObject.m_self
  o.gil_last_holder = 8;         // _gil_runtime_state.last_holder
  o.gil_locked = 16;             // _gil_runtime_state.locked
  o.gil_switch_number = 24;      // _gil_runtime_state.switch_number
  o.gil_size = 208;              // sizeof(struct _gil_runtime_state)
  o.lock_locked = 32;            // lockobject.locked (char)
  o.rlock_owner = 24;            // rlockobject.rlock_owner
  o.rlock_count = 32;            // rlockobject.rlock_count
  o.lock_sem = 16;               // lockobject.lock_lock / rlockobject.rlock_lock
  ValueFields(&o);
  return o;
}

PyOffsets Python38() {
  PyOffsets o = Common();
  o.version_hex = 0x030800f0;
  o.frame_model = PYHANG_FRAME_OBJECT;
  o.instr_encoding = PYHANG_LASTI_BYTES;
  o.linetable_format = PYHANG_LNOTAB;
  o.gil_location = PYHANG_GIL_IN_RUNTIME;
  o.stacktop_format = PYHANG_STACKTOP_POINTER;
  o.long_format = PYHANG_LONG_OB_SIZE;
  o.dict_keys_format = PYHANG_DICT_KEYS_SIZE;
  o.instance_dict_format = PYHANG_DICT_TP_DICTOFFSET;

  o.runtime_interpreters_head = 32;   // _PyRuntime.interpreters.head
  o.runtime_tstate_current = 1368;    // _PyRuntime.gilstate.tstate_current
  o.runtime_tss_key = 1392;           // _PyRuntime.gilstate.autoTSSkey
  o.runtime_gil = 1152;               // _PyRuntime.ceval.gil
  o.interp_next = 0;                  // PyInterpreterState.next
  o.interp_threads_head = 8;          // PyInterpreterState.tstate_head
  o.interp_id = 16;                   // PyInterpreterState.id
  o.interp_modules = 56;              // PyInterpreterState.modules

  o.tstate_frame = 24;                // PyThreadState.frame
  o.tstate_thread_id = 176;           // PyThreadState.thread_id
  o.tstate_exc_info = 144;            // PyThreadState.exc_info
  ExceptionFields(&o, /*since_311=*/false);

  o.frame_previous = 24;              // PyFrameObject.f_back
  o.frame_code = 32;                  // PyFrameObject.f_code
  o.frame_globals = 48;               // PyFrameObject.f_globals
  o.function_qualname = 104;          // PyFunctionObject.func_qualname (before COMMON_FIELDS)
  o.frame_valuestack = 64;            // PyFrameObject.f_valuestack
  o.frame_stacktop = 72;              // PyFrameObject.f_stacktop
  o.frame_instr = 104;                // PyFrameObject.f_lasti
  o.frame_localsplus = 360;           // PyFrameObject.f_localsplus
  o.frame_size = 360;

  o.code_argcount = 16;               // PyCodeObject.co_argcount
  o.code_posonlyargcount = 20;        // co_posonlyargcount
  o.code_kwonlyargcount = 24;         // co_kwonlyargcount
  o.code_nlocals = 28;                // co_nlocals
  o.code_stacksize = 32;              // co_stacksize
  o.code_flags = 36;                  // co_flags
  o.code_firstlineno = 40;            // co_firstlineno
  o.code_names = 64;                  // co_names
  o.code_varnames = 72;               // co_varnames
  o.code_freevars = 80;               // co_freevars
  o.code_cellvars = 88;               // co_cellvars
  o.code_filename = 104;              // co_filename
  o.code_name = 112;                  // co_name
  o.code_linetable = 120;             // co_lnotab
  o.code_size = 176;

  o.unicode_ascii_data = 48;          // sizeof(PyASCIIObject)
  o.unicode_compact_data = 72;        // sizeof(PyCompactUnicodeObject)
  o.heaptype_cached_keys = 872;       // PyHeapTypeObject.ht_cached_keys
  o.gen_frame = 16;                   // PyGenObject.gi_frame
  return o;
}

PyOffsets Python39() {
  PyOffsets o = Python38();
  o.version_hex = 0x030900f0;
  o.runtime_tstate_current = 568;     // _PyRuntime.gilstate.tstate_current
  o.runtime_tss_key = 584;            // _PyRuntime.gilstate.autoTSSkey
  o.runtime_gil = 352;                // _PyRuntime.ceval.gil
  o.interp_id = 24;                   // PyInterpreterState.id
  o.interp_modules = 856;             // PyInterpreterState.modules
  o.heaptype_cached_keys = 864;       // PyHeapTypeObject.ht_cached_keys
  return o;
}

PyOffsets Python310() {
  PyOffsets o = Python39();
  o.version_hex = 0x030a00f0;
  o.instr_encoding = PYHANG_LASTI_UNITS;
  o.linetable_format = PYHANG_LINETABLE_310;
  o.stacktop_format = PYHANG_STACKTOP_DEPTH;
  o.frame_stacktop = 80;              // PyFrameObject.f_stackdepth
  o.frame_instr = 96;                 // PyFrameObject.f_lasti (code units)
  o.frame_localsplus = 352;           // PyFrameObject.f_localsplus
  o.frame_size = 352;
  o.code_linetable = 120;             // co_linetable
  o.heaptype_cached_keys = 872;
  o.function_qualname = 40;           // PyFunctionObject.func_qualname (COMMON_FIELDS)
  return o;
}

PyOffsets Python311() {
  PyOffsets o = Common();
  o.version_hex = 0x030b00f0;
  o.frame_model = PYHANG_FRAME_INTERPRETER;
  o.instr_encoding = PYHANG_INSTR_POINTER;
  o.linetable_format = PYHANG_LOCATIONS;
  o.gil_location = PYHANG_GIL_IN_RUNTIME;
  o.stacktop_format = PYHANG_STACKTOP_INDEX;
  o.long_format = PYHANG_LONG_OB_SIZE;
  o.dict_keys_format = PYHANG_DICT_KEYS_LOG2;
  o.instance_dict_format = PYHANG_DICT_MANAGED_311;
  o.owner_thread = 0;                 // FRAME_OWNED_BY_THREAD
  o.owner_generator = 1;              // FRAME_OWNED_BY_GENERATOR
  o.owner_frame_object = 2;           // FRAME_OWNED_BY_FRAME_OBJECT

  o.runtime_interpreters_head = 40;   // _PyRuntime.interpreters.head
  o.runtime_tstate_current = 576;     // _PyRuntime.gilstate.tstate_current
  o.runtime_tss_key = 592;            // _PyRuntime.gilstate.autoTSSkey
  o.runtime_gil = 360;                // _PyRuntime.ceval.gil
  o.interp_next = 0;                  // PyInterpreterState.next
  o.interp_threads_head = 16;         // PyInterpreterState.threads.head
  o.interp_id = 48;                   // PyInterpreterState.id
  o.interp_modules = 888;             // PyInterpreterState.modules

  o.tstate_frame = 56;                // PyThreadState.cframe
  o.cframe_current_frame = 8;         // _PyCFrame.current_frame
  o.tstate_thread_id = 152;           // PyThreadState.thread_id
  o.tstate_native_thread_id = 160;    // PyThreadState.native_thread_id
  o.tstate_exc_info = 120;            // PyThreadState.exc_info
  ExceptionFields(&o, /*since_311=*/true);

  o.frame_globals = 8;                // _PyInterpreterFrame.f_globals
  o.frame_code = 32;                  // _PyInterpreterFrame.f_code
  o.frame_previous = 48;              // _PyInterpreterFrame.previous
  o.frame_instr = 56;                 // _PyInterpreterFrame.prev_instr
  o.frame_stacktop = 64;              // _PyInterpreterFrame.stacktop
  o.frame_is_entry = 68;              // _PyInterpreterFrame.is_entry
  o.frame_owner = 69;                 // _PyInterpreterFrame.owner
  o.frame_localsplus = 72;            // _PyInterpreterFrame.localsplus
  o.frame_size = 72;

  o.code_names = 32;                  // PyCodeObject.co_names
  o.code_flags = 48;                  // PyCodeObject.co_flags
  o.code_argcount = 56;               // co_argcount
  o.code_posonlyargcount = 60;        // co_posonlyargcount
  o.code_kwonlyargcount = 64;         // co_kwonlyargcount
  o.code_stacksize = 68;              // co_stacksize
  o.code_firstlineno = 72;            // co_firstlineno
  o.code_nlocalsplus = 76;            // co_nlocalsplus
  o.code_nlocals = 80;                // co_nlocals
  o.code_varnames = 96;               // co_localsplusnames
  o.code_localspluskinds = 104;       // co_localspluskinds
  o.code_filename = 112;              // co_filename
  o.code_name = 120;                  // co_name
  o.code_qualname = 128;              // co_qualname
  o.code_linetable = 136;             // co_linetable
  o.code_firsttraceable = 168;        // _co_firsttraceable
  o.code_adaptive = 184;              // co_code_adaptive
  o.code_size = 184;

  o.unicode_ascii_data = 48;          // sizeof(PyASCIIObject)
  o.unicode_compact_data = 72;        // sizeof(PyCompactUnicodeObject)
  o.heaptype_cached_keys = 872;       // PyHeapTypeObject.ht_cached_keys
  o.gen_frame = 80;                   // PyGenObject.gi_iframe (embedded)
  o.gen_frame_state = 75;             // PyGenObject.gi_frame_state
  return o;
}

PyOffsets Python312() {
  PyOffsets o = Python311();
  o.version_hex = 0x030c00f0;
  o.gil_location = PYHANG_GIL_INTERP_POINTER;
  o.long_format = PYHANG_LONG_LV_TAG;
  o.instance_dict_format = PYHANG_DICT_MANAGED_312;
  o.owner_cstack = 3;                 // FRAME_OWNED_BY_CSTACK (shim frames)

  o.runtime_tstate_current = PYHANG_ABSENT;
  o.runtime_tss_key = 1544;           // _PyRuntime.autoTSSkey
  o.runtime_gil = PYHANG_ABSENT;
  o.interp_id = 8;                    // PyInterpreterState.id
  o.interp_threads_head = 72;         // PyInterpreterState.threads.head
  o.interp_gil = 384;                 // PyInterpreterState.ceval.gil
  o.interp_modules = 944;             // PyInterpreterState.imports.modules

  o.cframe_current_frame = 0;         // _PyCFrame.current_frame
  o.tstate_status = 24;               // PyThreadState._status
  o.tstate_thread_id = 136;           // PyThreadState.thread_id
  o.tstate_native_thread_id = 144;    // PyThreadState.native_thread_id
  o.tstate_exc_info = 104;            // PyThreadState.exc_info

  o.frame_code = 0;                   // _PyInterpreterFrame.f_code
  o.frame_previous = 8;               // _PyInterpreterFrame.previous
  o.frame_globals = 24;               // _PyInterpreterFrame.f_globals
  o.frame_is_entry = PYHANG_ABSENT;
  o.frame_owner = 70;                 // _PyInterpreterFrame.owner

  o.code_argcount = 52;               // co_argcount
  o.code_posonlyargcount = 56;        // co_posonlyargcount
  o.code_kwonlyargcount = 60;         // co_kwonlyargcount
  o.code_stacksize = 64;              // co_stacksize
  o.code_firstlineno = 68;            // co_firstlineno
  o.code_nlocalsplus = 72;            // co_nlocalsplus
  o.code_firsttraceable = 176;        // _co_firsttraceable
  o.code_adaptive = 192;              // co_code_adaptive
  o.code_size = 192;

  o.unicode_ascii_data = 40;          // sizeof(PyASCIIObject) (wstr removed)
  o.unicode_compact_data = 56;        // sizeof(PyCompactUnicodeObject)
  o.heaptype_cached_keys = 880;
  o.gen_frame = 72;                   // PyGenObject.gi_iframe
  o.gen_frame_state = 67;             // PyGenObject.gi_frame_state
  return o;
}

PyOffsets Python313() {
  PyOffsets o = Python312();
  o.version_hex = 0x030d00f0;
  o.instance_dict_format = PYHANG_DICT_MANAGED_313;
  o.holds_gil_bit = 5;                // PyThreadState._status.holds_gil

  o.runtime_interpreters_head = 632;  // _PyRuntime.interpreters.head
  o.runtime_tss_key = 2160;           // _PyRuntime.autoTSSkey
  o.interp_gil = 16;                  // PyInterpreterState.ceval.gil
  o.interp_next = 7264;               // PyInterpreterState.next
  o.interp_id = 7272;                 // PyInterpreterState.id
  o.interp_threads_head = 7344;       // PyInterpreterState.threads.head
  o.interp_modules = 7656;            // PyInterpreterState.imports.modules

  o.tstate_frame = 72;                // PyThreadState.current_frame
  o.cframe_current_frame = PYHANG_ABSENT;
  o.tstate_status = 32;               // PyThreadState._status
  o.tstate_state = 40;                // PyThreadState.state
  o.tstate_thread_id = 152;           // PyThreadState.thread_id
  o.tstate_native_thread_id = 160;    // PyThreadState.native_thread_id
  o.tstate_exc_info = 120;            // PyThreadState.exc_info

  o.code_firsttraceable = 184;        // _co_firsttraceable
  o.code_adaptive = 200;              // co_code_adaptive
  o.code_size = 200;
  return o;
}

// 3.14 and 3.15: only what _Py_DebugOffsets does not publish. Everything
// it publishes comes from the target (interpreter and thread-state
// layouts drift inside a minor version: 3.14.5 moved every interpreter
// field after `gc`). The fields below belong to structs whose layout is
// fixed within a minor version; values from the DWARF of Debian's 3.14.10
// and 3.15.2 (python3.1x-dbg), checked by tests/unit/dwarf_offsets_test.cc.
PyOffsets Python314() {
  PyOffsets o = AllAbsent();
  o.version_hex = 0x030e00f0;
  o.frame_model = PYHANG_FRAME_INTERPRETER;
  o.instr_encoding = PYHANG_INSTR_POINTER;
  o.linetable_format = PYHANG_LOCATIONS;
  o.gil_location = PYHANG_GIL_INTERP_POINTER;
  o.stacktop_format = PYHANG_STACKTOP_POINTER;  // _PyInterpreterFrame.stackpointer
  o.long_format = PYHANG_LONG_LV_TAG;
  o.dict_keys_format = PYHANG_DICT_KEYS_LOG2;
  o.instance_dict_format = PYHANG_DICT_MANAGED_313;
  o.tagged_frame_refs = 1;            // f_executable, localsplus are _PyStackRef
  o.owner_thread = 0;                 // FRAME_OWNED_BY_THREAD
  o.owner_generator = 1;              // FRAME_OWNED_BY_GENERATOR
  o.owner_frame_object = 2;           // FRAME_OWNED_BY_FRAME_OBJECT
  o.owner_interpreter = 3;            // FRAME_OWNED_BY_INTERPRETER (C->Python entry)
  o.owner_cstack = 4;                 // FRAME_OWNED_BY_CSTACK

  o.runtime_tss_key = 2336;           // _PyRuntime.autoTSSkey
  o.tstate_holds_gil = 36;            // PyThreadState.holds_gil
  o.tstate_state = 44;                // PyThreadState.state
  // Not published in 3.14's _Py_DebugOffsets; before the fields that
  // drifted in 3.14 patch releases (those were appended at the end).
  o.tstate_exc_info = 120;            // PyThreadState.exc_info
  ExceptionFields(&o, /*since_311=*/true);

  o.frame_globals = 24;               // _PyInterpreterFrame.f_globals
  o.frame_size = 88;                  // sizeof(_PyInterpreterFrame)

  o.code_names = 32;                  // PyCodeObject.co_names
  o.code_flags = 48;                  // co_flags
  o.code_posonlyargcount = 56;        // co_posonlyargcount
  o.code_kwonlyargcount = 60;         // co_kwonlyargcount
  o.code_stacksize = 64;              // co_stacksize
  o.code_nlocalsplus = 72;            // co_nlocalsplus
  o.code_nlocals = 80;                // co_nlocals
  o.code_firsttraceable = 192;        // _co_firsttraceable
  o.code_size = 216;                  // sizeof(PyCodeObject)

  o.varobject_size = 16;              // PyVarObject.ob_size
  o.type_basicsize = 32;              // PyTypeObject.tp_basicsize
  o.type_dictoffset = 288;            // PyTypeObject.tp_dictoffset
  o.heaptype_cached_keys = 880;       // PyHeapTypeObject.ht_cached_keys
  o.module_dict = 16;                 // PyModuleObject.md_dict
  o.cell_ref = 16;                    // PyCellObject.ob_ref
  o.method_func = 16;                 // PyMethodObject.im_func
  o.method_self = 24;                 // PyMethodObject.im_self
  o.cfunction_self = 24;              // PyCFunctionObject.m_self
  o.gil_switch_number = 24;           // _gil_runtime_state.switch_number
  o.gil_size = 208;                   // sizeof(struct _gil_runtime_state)
  // threading.Lock / RLock are PyMutex based: there is no sem_t, a waiter
  // parks on its own semaphore (parking lot), not on the lock's address.
  o.lock_locked = 16;                 // lockobject.lock (PyMutex: bit 0 locked, bit 1 parked)
  o.rlock_owner = 24;                 // rlockobject.lock.thread (_PyRecursiveMutex)
  o.rlock_count = 32;                 // rlockobject.lock.level
  ValueFields(&o);
  return o;
}

PyOffsets Python315() {
  PyOffsets o = Python314();
  o.version_hex = 0x030f00f0;
  o.owner_cstack = PYHANG_NO_OWNER;   // removed; chains end at tstate->base_frame
  o.runtime_tss_key = PYHANG_ABSENT;  // autoTSSkey is gone: thread-local _Py_tss_gilstate
  o.tstate_holds_gil = PYHANG_ABSENT; // published (thread_state.holds_gil)
  o.tstate_state = 48;                // PyThreadState.state
  // 3.15 publishes current_exception and err_stackitem.exc_value; exc_info
  // follows current_exception (debug_offsets.cc derives both).
  o.tstate_exc_info = PYHANG_ABSENT;
  o.stackitem_exc_value = PYHANG_ABSENT;
  o.stackitem_previous = PYHANG_ABSENT;
  o.type_dictoffset = PYHANG_ABSENT;  // published (type_object.tp_dictoffset)
  o.type_basicsize = PYHANG_ABSENT;   // published
  o.heaptype_cached_keys = PYHANG_ABSENT;  // published
  return o;
}

}  // namespace

std::optional<PyOffsets> BuiltinOffsets(const PythonVersion& version) {
  if (version.major != 3) return std::nullopt;
  PyOffsets offsets;
  switch (version.minor) {
    case 8: offsets = Python38(); break;
    case 9: offsets = Python39(); break;
    case 10: offsets = Python310(); break;
    case 11: offsets = Python311(); break;
    case 12: offsets = Python312(); break;
    case 13: offsets = Python313(); break;
    case 14: offsets = Python314(); break;
    case 15: offsets = Python315(); break;
    default: return std::nullopt;
  }
  offsets.version_hex = version.ToHex();
  return offsets;
}

}  // namespace pyhang::python
