/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI between pyhang's BPF programs and its userspace engine.
 *
 * Included by BPF C (after vmlinux.h) and by C++ (which static_asserts the
 * sizes in userspace/python/py_offsets.h). Fixed-width fields, explicit
 * padding, nothing declared twice.
 *
 * struct pyhang_py_offsets is the per-process description of a CPython
 * build: where every field the decoder (userspace) or the frame walker (BPF)
 * needs lives. Python versions are data: userspace fills one record per
 * process from built-in tables (3.8-3.12) or the target's own
 * _Py_DebugOffsets (3.13+); readers never branch on the version number, only
 * on the small "format" switches at the top of the record.
 */
#ifndef PYHANG_BPF_PYHANG_ABI_H_
#define PYHANG_BPF_PYHANG_ABI_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* An offset that this Python version does not have. Every reader must check
 * for it before use (0 is a valid offset, so it cannot mean "absent"). */
#define PYHANG_ABSENT (-1)

/* How frames are stored. */
enum pyhang_frame_model {
  PYHANG_FRAME_OBJECT = 1,      /* <= 3.10: heap PyFrameObject linked by f_back */
  PYHANG_FRAME_INTERPRETER = 2, /* >= 3.11: _PyInterpreterFrame linked by previous */
};

/* What the frame's instruction field holds. */
enum pyhang_instr_encoding {
  PYHANG_LASTI_BYTES = 1,   /* 3.8, 3.9: int f_lasti, byte offset */
  PYHANG_LASTI_UNITS = 2,   /* 3.10: int f_lasti, 2-byte code units */
  PYHANG_INSTR_POINTER = 3, /* 3.11+: pointer into code->co_code_adaptive */
};

/* Format of code->co_lnotab / co_linetable. */
enum pyhang_linetable_format {
  PYHANG_LNOTAB = 1,         /* 3.8, 3.9 */
  PYHANG_LINETABLE_310 = 2,  /* 3.10 */
  PYHANG_LOCATIONS = 3,      /* 3.11+ location table */
};

/* Where the GIL struct (struct _gil_runtime_state) lives. */
enum pyhang_gil_location {
  PYHANG_GIL_IN_RUNTIME = 1,        /* <= 3.11: embedded at _PyRuntime + runtime_gil */
  PYHANG_GIL_INTERP_POINTER = 2,    /* >= 3.12: pointer at interp + interp_gil */
};

/* How the value stack depth of a frame is recorded. */
enum pyhang_stacktop_format {
  PYHANG_STACKTOP_POINTER = 1,      /* 3.8, 3.9 f_stacktop; 3.14 stackpointer */
  PYHANG_STACKTOP_DEPTH = 2,        /* 3.10 f_stackdepth (from f_valuestack) */
  PYHANG_STACKTOP_INDEX = 3,        /* 3.11-3.13 stacktop (index into localsplus) */
};

enum pyhang_long_format {
  PYHANG_LONG_OB_SIZE = 1,  /* <= 3.11: signed ob_size = +-ndigits */
  PYHANG_LONG_LV_TAG = 2,   /* >= 3.12: lv_tag = ndigits << 3 | sign */
};

enum pyhang_dict_keys_format {
  PYHANG_DICT_KEYS_SIZE = 1, /* <= 3.10: dk_size, dk_nentries at 32, indices at 40 */
  PYHANG_DICT_KEYS_LOG2 = 2, /* >= 3.11: dk_log2_size/index_bytes, indices at 32 */
};

/* Where an ordinary instance keeps its __dict__. */
enum pyhang_instance_dict_format {
  PYHANG_DICT_TP_DICTOFFSET = 1, /* <= 3.10: *(obj + type->tp_dictoffset) */
  PYHANG_DICT_MANAGED_311 = 2,   /* values at obj-32, dict at obj-24 */
  PYHANG_DICT_MANAGED_312 = 3,   /* tagged word at obj-24: values-1 | dict */
  PYHANG_DICT_MANAGED_313 = 4,   /* dict at obj-24, else inline values at obj+basicsize */
};

/* Sentinel for "this frame owner value does not exist in this version". */
#define PYHANG_NO_OWNER 0xff

struct pyhang_py_offsets {
  __u32 version_hex; /* PY_VERSION_HEX of the target */

  /* format switches */
  __u8 frame_model;          /* enum pyhang_frame_model */
  __u8 instr_encoding;       /* enum pyhang_instr_encoding */
  __u8 linetable_format;     /* enum pyhang_linetable_format */
  __u8 gil_location;         /* enum pyhang_gil_location */
  __u8 stacktop_format;      /* enum pyhang_stacktop_format */
  __u8 long_format;          /* enum pyhang_long_format */
  __u8 dict_keys_format;     /* enum pyhang_dict_keys_format */
  __u8 instance_dict_format; /* enum pyhang_instance_dict_format */
  __u8 tagged_frame_refs;    /* 3.14: frame slots are _PyStackRef (mask ~3) */
  __u8 holds_gil_bit;        /* 3.13: bit of tstate->_status; PYHANG_NO_OWNER if absent */

  /* enum _frameowner values (3.11+); PYHANG_NO_OWNER where absent */
  __u8 owner_thread;
  __u8 owner_generator;
  __u8 owner_frame_object;
  __u8 owner_cstack;       /* 3.12+: shim frame on the C stack */
  __u8 owner_interpreter;  /* 3.14: per-call sentinel frame */
  __u8 pad0;

  /* _PyRuntimeState (offsets from &_PyRuntime) */
  __s32 runtime_interpreters_head; /* interpreters.head */
  __s32 runtime_tstate_current;    /* gilstate.tstate_current (<= 3.11) */
  __s32 runtime_tss_key;           /* autoTSSkey (Py_tss_t); the pthread key is at +4 */
  __s32 runtime_gil;               /* ceval.gil, embedded (<= 3.11) */

  /* PyInterpreterState */
  __s32 interp_next;
  __s32 interp_id;
  __s32 interp_threads_head;
  __s32 interp_modules;            /* sys.modules dict* */
  __s32 interp_gil;                /* ceval.gil pointer (>= 3.12) */

  /* struct _gil_runtime_state */
  __s32 gil_last_holder;           /* PyThreadState* */
  __s32 gil_locked;                /* int; 1 = held by last_holder */
  __s32 gil_switch_number;
  __s32 gil_size;                  /* bytes; a futex in [gil, gil+size) is a GIL wait */

  /* PyThreadState */
  __s32 tstate_next;
  __s32 tstate_interp;
  __s32 tstate_frame;              /* frame* (<= 3.10, >= 3.13) or cframe* (3.11, 3.12) */
  __s32 cframe_current_frame;      /* offset in _PyCFrame, or PYHANG_ABSENT */
  __s32 tstate_thread_id;          /* pthread_self() == fs_base on x86_64 glibc */
  __s32 tstate_native_thread_id;   /* OS tid (>= 3.11) */
  __s32 tstate_status;             /* _status bitfield word (3.12+) */
  __s32 tstate_state;              /* detached/attached/suspended (3.13+) */
  __s32 tstate_holds_gil;          /* int holds_gil (3.14+) */

  /* frames: PyFrameObject (<= 3.10) or _PyInterpreterFrame (>= 3.11) */
  __s32 frame_previous;
  __s32 frame_code;
  __s32 frame_instr;
  __s32 frame_owner;               /* u8 (3.11+) */
  __s32 frame_is_entry;            /* bool (3.11 only) */
  __s32 frame_localsplus;
  __s32 frame_stacktop;            /* see stacktop_format */
  __s32 frame_valuestack;          /* f_valuestack pointer (<= 3.10) */
  __s32 frame_size;                /* bytes to read for the fixed part */

  /* PyCodeObject */
  __s32 code_argcount;
  __s32 code_posonlyargcount;
  __s32 code_kwonlyargcount;
  __s32 code_flags;
  __s32 code_nlocals;
  __s32 code_nlocalsplus;          /* >= 3.11 */
  __s32 code_stacksize;
  __s32 code_firstlineno;
  __s32 code_varnames;             /* co_varnames (<= 3.10) / co_localsplusnames */
  __s32 code_localspluskinds;      /* >= 3.11 */
  __s32 code_cellvars;             /* <= 3.10 */
  __s32 code_freevars;             /* <= 3.10 */
  __s32 code_filename;
  __s32 code_name;
  __s32 code_qualname;             /* >= 3.11 */
  __s32 code_linetable;
  __s32 code_firsttraceable;       /* >= 3.11 */
  __s32 code_adaptive;             /* co_code_adaptive (>= 3.11) */
  __s32 code_size;                 /* bytes to read for the fixed part */

  /* object headers and builtin types */
  __s32 object_type;               /* ob_type */
  __s32 varobject_size;            /* ob_size */
  __s32 type_name;                 /* tp_name (char*) */
  __s32 type_basicsize;
  __s32 type_flags;
  __s32 type_dictoffset;
  __s32 heaptype_cached_keys;
  __s32 unicode_length;
  __s32 unicode_state;
  __s32 unicode_ascii_data;        /* sizeof(PyASCIIObject) */
  __s32 unicode_compact_data;      /* sizeof(PyCompactUnicodeObject) */
  __s32 bytes_size;
  __s32 bytes_data;
  __s32 tuple_items;
  __s32 list_items;                /* PyObject** */
  __s32 long_digits;
  __s32 float_value;
  __s32 dict_keys;
  __s32 dict_values;
  __s32 module_dict;
  __s32 cell_ref;
  __s32 method_func;               /* bound method im_func */
  __s32 method_self;               /* bound method im_self */
  __s32 cfunction_self;            /* builtin method m_self */

  /* generators and coroutines */
  __s32 gen_frame;                 /* gi_frame pointer (<= 3.10) / gi_iframe embedded */
  __s32 gen_frame_state;           /* int8 (>= 3.11) */

  /* _thread.lock / _thread.RLock */
  __s32 lock_locked;               /* char (<= 3.13) / PyMutex byte (3.14) */
  __s32 rlock_owner;               /* owner's thread_id, 0 if free */
  __s32 rlock_count;
  __s32 lock_sem;                  /* lock_lock / rlock_lock: the sem_t* the kernel waits on */

  /* for lock-owner analysis and --globals (userspace only) */
  __s32 code_names;                /* co_names tuple */
  __s32 frame_globals;             /* f_globals dict */

  /* for the values of --locals (userspace only) */
  __s32 function_qualname;         /* PyFunctionObject.func_qualname */
  __s32 set_mask;                  /* PySetObject.mask (slots - 1) */
  __s32 set_table;                 /* PySetObject.table: setentry {key, hash} */
  __s32 bytearray_start;           /* PyByteArrayObject.ob_start (size is ob_size) */
  __s32 complex_value;             /* PyComplexObject.cval {real, imag} */
  __s32 range_start;               /* PyRangeObject.start (an int object) */
  __s32 range_stop;
  __s32 range_step;
  __s32 exception_args;            /* PyBaseExceptionObject.args tuple */
  __s32 type_members;              /* PyTypeObject.tp_members (PyMemberDef[]) */
  __s32 type_base;                 /* PyTypeObject.tp_base */
  __s32 type_dict;                 /* PyTypeObject.tp_dict */
  __s32 list_allocated;            /* PyListObject.allocated */

  /* the exception a thread is handling, sys.exc_info() (userspace only) */
  __s32 tstate_exc_info;           /* PyThreadState.exc_info (_PyErr_StackItem*) */
  __s32 stackitem_exc_value;       /* _PyErr_StackItem.exc_value */
  __s32 stackitem_previous;        /* _PyErr_StackItem.previous_item */
  __s32 exception_context;         /* PyBaseExceptionObject.context (__context__) */
  __s32 exception_cause;           /* PyBaseExceptionObject.cause (__cause__) */
  __s32 exception_suppress_context;/* char __suppress_context__ */
  __s32 oserror_errno;             /* PyOSErrorObject.myerrno */
  __s32 oserror_strerror;          /* PyOSErrorObject.strerror */
  __s32 oserror_filename;          /* PyOSErrorObject.filename */
  __s32 oserror_filename2;         /* PyOSErrorObject.filename2 */
};

/* ------------------------------------------------------------------------
 * Sampler ABI (bpf/pyhang.bpf.c <-> userspace/sampler). C++ static_asserts
 * every size below in userspace/sampler/abi.h.
 * ------------------------------------------------------------------------ */

/* Deepest frame chain copied per stack, counting every entry of the chain
 * (shim and entry frames included; userspace drops them). Deeper chains are
 * cut here and flagged PYHANG_STACK_TRUNCATED. Must be a power of two. */
#define PYHANG_MAX_FRAMES 128
/* Largest span of one frame copied to find its fields (see frame_read_*). */
#define PYHANG_FRAME_READ_MAX 128
/* glibc: keys below this live in struct pthread's specific_1stblock[];
 * keys up to PYHANG_TSS_MAX_KEYS go through the specific[] pointer array. */
#define PYHANG_TSS_FIRST_BLOCK_KEYS 32
#define PYHANG_TSS_MAX_KEYS 1024

/* Per-process record, the value of the pyhang_procs map (key: tgid).
 * Userspace computes it once per target (userspace/sampler/proc_config.h);
 * BPF bounds-checks every offset before use. */
struct pyhang_proc_config {
  struct pyhang_py_offsets offsets;

  /* Finding a thread's PyThreadState through CPython's autoTSSkey:
   *   key <  32: *(fsbase + tls_specific_1stblock + 16*key + 8)
   *   key < 1024: *(*(fsbase + tls_specific + 8*(key/32)) + 16*(key%32) + 8)
   * fsbase is the thread pointer == struct pthread* == pthread_self() on
   * x86_64 glibc. Both offsets are glibc-build specific and derived per
   * process by userspace. */
  __s32 tss_key;               /* pthread_key_t; PYHANG_ABSENT: not initialized */
  __s32 tls_specific_1stblock; /* offsetof(struct pthread, specific_1stblock) */
  __s32 tls_specific;          /* offsetof(struct pthread, specific) */

  /* What to copy from each frame: [frame + frame_read_offset,
   * + frame_read_size) covers frame_code, frame_previous, frame_instr (8
   * bytes) and frame_owner (1 byte). frame_read_offset is 8-aligned. */
  __u16 frame_read_offset;
  __u16 frame_read_size;       /* <= PYHANG_FRAME_READ_MAX */

  __u64 runtime_address;       /* &_PyRuntime (informational) */

  /* 3.15+: no TSS key; the tstate is the thread-local _Py_tss_gilstate:
   *   tls_module == 0 (static TLS, e.g. a non-PIE python with libpython
   *                   linked in): *(fsbase + tls_offset)
   *   tls_module  > 0 (a shared libpython): through glibc's DTV,
   *                   *(*(*(fsbase + 8) + 16*tls_module) + tls_offset)
   *   tls_module == PYHANG_ABSENT: use tss_key instead.
   * Derived per binary by userspace from PyGILState_GetThisThreadState. */
  __s64 tls_offset;
  __s32 tls_module;
  /* 1: the target runs in another pid namespace (a container), so the
   * thread ids its tstates record are that namespace's, not the host's. */
  __u32 in_pid_namespace;
};

/* Everything that can go wrong in BPF, counted per code in the
 * pyhang_errors per-CPU array (index = code). Never silent. */
enum pyhang_error {
  PYHANG_OK = 0,
  PYHANG_ERR_NO_TSTATE = 1,          /* TSS slot empty: thread has no PyThreadState */
  PYHANG_ERR_TSS_KEY = 2,            /* key not initialized or >= PYHANG_TSS_MAX_KEYS */
  PYHANG_ERR_TSS_READ = 3,           /* struct pthread / TSS block unreadable */
  PYHANG_ERR_TSTATE_READ = 4,        /* PyThreadState unreadable */
  PYHANG_ERR_TSTATE_THREAD_ID = 5,   /* tstate->thread_id != fsbase */
  PYHANG_ERR_TSTATE_NATIVE_ID = 6,   /* tstate->native_thread_id != tid (3.11+) */
  PYHANG_ERR_TOP_FRAME_READ = 7,     /* tstate->frame / cframe unreadable */
  PYHANG_ERR_FRAME_READ = 8,         /* a frame unreadable: chain cut there */
  PYHANG_ERR_TRUNCATED = 9,          /* PYHANG_MAX_FRAMES reached */
  PYHANG_ERR_BAD_CONFIG = 10,        /* an offset outside the copied span */
  PYHANG_ERR_RINGBUF_FULL = 11,      /* event dropped: ring buffer full */
  PYHANG_ERR_KERNEL_STACK = 12,      /* bpf_get_stackid failed (map full, collision) */
  PYHANG_ERR_THREAD_MAP_FULL = 13,   /* per-thread off-CPU state not stored */
  PYHANG_ERR_SCRATCH = 14,           /* per-CPU scratch lookup failed */
  PYHANG_ERR_USER_REGS = 15,         /* user registers unreadable */
  PYHANG_ERR_FSBASE = 16,            /* task->thread.fsbase unreadable or 0 */
  PYHANG_ERR_TLS_READ = 17,          /* thread-local tstate (3.15+) unreadable */
  PYHANG_ERROR_COUNT = 18,
};

/* Non-error counters, in the pyhang_stats per-CPU array. */
enum pyhang_stat {
  PYHANG_STAT_SAMPLES = 0,           /* sample events emitted */
  PYHANG_STAT_NON_TARGET = 1,        /* perf_event fires outside any target */
  PYHANG_STAT_SWITCH_OUT = 2,        /* target switch-outs recorded */
  PYHANG_STAT_OFFCPU_EVENTS = 3,     /* off-CPU events emitted */
  PYHANG_STAT_OFFCPU_SHORT = 4,      /* off-CPU intervals below offcpu_min_ns */
  PYHANG_STAT_OFFCPU_NO_START = 5,   /* switch-in without a recorded switch-out */
  PYHANG_STAT_THREAD_EXITS = 6,      /* target threads that exited */
  PYHANG_STAT_WALKS = 7,             /* Python stack walks attempted */
  PYHANG_STAT_FRAMES = 8,            /* frames copied by those walks */
  PYHANG_STAT_COUNT = 9,
};

enum pyhang_event_type {
  PYHANG_EVENT_SAMPLE = 1,      /* struct pyhang_sample_event */
  PYHANG_EVENT_OFFCPU = 2,      /* struct pyhang_offcpu_event */
  PYHANG_EVENT_THREAD_EXIT = 3, /* struct pyhang_exit_event */
  PYHANG_EVENT_NATIVE_STACK = 4, /* struct pyhang_native_stack_event */
};

/* The raw fields of one frame, exactly as python::FrameFields wants them. */
struct pyhang_frame {
  __u64 frame_address;
  __u64 code;          /* frame_code slot, tag bits not masked */
  __u64 instr;         /* the 8 bytes at frame_instr (0 if absent) */
  __u8 owner;          /* frame_owner byte (3.11+), else 0 */
  __u8 pad[7];
};

/* pyhang_stack.flags */
#define PYHANG_STACK_TRUNCATED 0x1  /* chain longer than PYHANG_MAX_FRAMES */

/* A thread's Python frame chain, innermost first. Events carry only the
 * first frame_count entries of frames[]: an event's size is
 * offsetof(<event>, stack.frames) + frame_count * sizeof(struct pyhang_frame). */
struct pyhang_stack {
  __u64 tstate;        /* PyThreadState*, 0 if not found */
  __u32 error;         /* enum pyhang_error that prevented or cut the walk */
  __u16 frame_count;
  __u16 flags;         /* PYHANG_STACK_* */
  struct pyhang_frame frames[PYHANG_MAX_FRAMES];
};

/* pyhang_sample_event.flags */
#define PYHANG_SAMPLE_IN_KERNEL 0x1  /* the timer interrupted kernel code */

/* On-CPU sample from the perf_event program. */
struct pyhang_sample_event {
  __u32 type;              /* PYHANG_EVENT_SAMPLE */
  __u32 pid;               /* tgid */
  __u32 tid;
  __u32 cpu;
  __u64 ktime_ns;          /* bpf_ktime_get_ns() */
  __u64 user_ip;           /* user-mode leaf instruction pointer */
  __u64 user_sp;
  __s32 kernel_stack_id;   /* pyhang_kernel_stacks id; < 0: none (-errno or not taken) */
  __u32 flags;             /* PYHANG_SAMPLE_* */
  struct pyhang_stack stack;
};

/* One interval a target thread spent off CPU. Recorded at switch-out (the
 * thread is still current, so its registers, kernel stack and Python stack
 * are read there) into pyhang_offcpu (key: tid) and emitted at switch-in
 * with cpu/end_ns filled. While a thread is still off CPU its entry in
 * pyhang_offcpu has start_ns != 0 and end_ns == 0. */
struct pyhang_offcpu_event {
  __u32 type;              /* PYHANG_EVENT_OFFCPU */
  __u32 pid;
  __u32 tid;
  __u32 cpu;               /* CPU it came back on */
  __u64 start_ns;          /* switch-out ktime */
  __u64 end_ns;            /* switch-in ktime; 0 while still off CPU */
  __u32 prev_state;        /* task state at switch-out; 0 = preempted (runnable) */
  __s32 kernel_stack_id;   /* kernel stack at switch-out, < 0: none */
  __s64 syscall_nr;        /* syscall it blocked in (orig_ax); -1: none */
  __u64 syscall_args[6];   /* its arguments (e.g. futex uaddr, op, val) */
  __u64 user_ip;           /* user-mode registers at switch-out */
  __u64 user_sp;
  struct pyhang_stack stack;
};

/* pyhang_exit_event.flags */
#define PYHANG_EXIT_PROCESS 0x1  /* the last thread: the process is gone */
#define PYHANG_EXIT_EXEC 0x2     /* with _PROCESS: it exec'd another program */

struct pyhang_exit_event {
  __u32 type;              /* PYHANG_EVENT_THREAD_EXIT */
  __u32 pid;
  __u32 tid;
  __u32 flags;             /* PYHANG_EXIT_* */
  __u64 ktime_ns;
};

/* ---- native stack snapshot (bpf/native_snapshot.bpf.c) ----
 * A sleepable task iterator writes one record per thread of the target:
 * its saved user registers and a copy of the top of its user stack, read
 * with bpf_copy_from_user_task: no ptrace, no stop. A record and its stack
 * fit one seq_file buffer (8 pages), hence the bound. */
#define PYHANG_NATIVE_STACK_MAX (28 * 1024)
#define PYHANG_NATIVE_MAGIC 0x7068736e /* "nshp" */

/* pyhang_native_record.flags */
#define PYHANG_NATIVE_ON_CPU 0x1    /* running right now: its saved registers are stale */
#define PYHANG_NATIVE_NO_REGS 0x2   /* no user registers (a kernel thread, exiting) */

struct pyhang_native_record {
  __u32 magic;        /* PYHANG_NATIVE_MAGIC */
  __u32 tid;          /* as the host sees it */
  __u32 flags;        /* PYHANG_NATIVE_* */
  __u32 stack_size;   /* bytes of stack[] that follow, copied from sp up */
  /* user_regs_struct order (sys/user.h), as in a core's NT_PRSTATUS */
  __u64 regs[27];
  /* followed by stack_size bytes */
};

/* `record --native`: the sampled thread's user registers and the top of its
 * user stack, emitted by the perf_event sampler just before the thread's
 * pyhang_sample_event (same tid and ktime_ns). */
struct pyhang_native_stack_event {
  __u32 type;         /* PYHANG_EVENT_NATIVE_STACK */
  __u32 pid;          /* tgid */
  __u64 ktime_ns;     /* that of the sample it belongs to */
  struct pyhang_native_record record;  /* followed by record.stack_size bytes */
};

#endif /* PYHANG_BPF_PYHANG_ABI_H_ */
