/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Finding a thread's PyThreadState and copying its Python frame chain.
 *
 * Written once, compiled twice: into the BPF programs (bpf/pyhang.bpf.c)
 * and into a userspace test that runs it over a memory image and checks it
 * against python::FrameWalker (tests/bpf/bpf_walk_test.cc). So this file
 * uses nothing but plain C that is also valid C++, and reaches memory and
 * loops only through two macros the includer defines:
 *
 *   PYHANG_READ_USER(dst, size, src)  -> 0 or a negative errno; like
 *                                        bpf_probe_read_user, zeroes dst on
 *                                        failure
 *   PYHANG_LOOP(n, callback, ctx)     runs `long callback(__u32 index,
 *                                        void *ctx)` for index 0..n-1 until
 *                                        it returns non-zero (bpf_loop)
 *
 * It only COPIES raw fields (python::FrameFields); every rule about which
 * frames to show lives in userspace (FrameWalker::Interpret), so the BPF
 * walk and the userspace walk cannot disagree about interpretation. The
 * chain is followed like FrameWalker::TopFrame/WalkRaw:
 *   frame = *(tstate + tstate_frame);
 *   if (cframe_current_frame != ABSENT && frame) frame = *(frame + cframe_current_frame);
 *   next  = *(frame + frame_previous)
 */
#ifndef PYHANG_BPF_PYHANG_WALK_H_
#define PYHANG_BPF_PYHANG_WALK_H_

#include "bpf/pyhang_abi.h"

#if !defined(PYHANG_READ_USER) || !defined(PYHANG_LOOP)
#error "define PYHANG_READ_USER and PYHANG_LOOP before including pyhang_walk.h"
#endif

#ifndef PYHANG_INLINE
#define PYHANG_INLINE static inline __attribute__((always_inline))
#endif

#ifdef __bpf__
#define PYHANG_BARRIER_VAR(var) asm volatile("" : "+r"(var))
#else
#define PYHANG_BARRIER_VAR(var) ((void)(var))
#endif

/* Scratch space the includer provides for one frame copy (in BPF: inside
 * a per-CPU map value, so variable offsets into it are bounds-checked). */
#define PYHANG_FRAME_BUF_SIZE (PYHANG_FRAME_READ_MAX + 8)

/* Where a field lies inside the copied span of a frame. */
#define PYHANG_REL_ABSENT (-1)
#define PYHANG_REL_BAD (-2)

struct pyhang_walk_ctx {
  struct pyhang_stack *stack;
  __u8 *buf;          /* PYHANG_FRAME_BUF_SIZE bytes */
  __u64 next;         /* address of the next frame to copy, 0 at the end */
  __u32 read_offset;  /* copy [frame + read_offset, + read_size) */
  __u32 read_size;
  __s32 rel_code;     /* field offsets relative to read_offset */
  __s32 rel_previous;
  __s32 rel_instr;    /* PYHANG_REL_ABSENT: field does not exist */
  __s32 rel_owner;
};

/* Offset of a `width`-byte field at `offset` inside the copied span. */
PYHANG_INLINE __s32 pyhang_rel(__s32 offset, __u32 start, __u32 size, __u32 width) {
  if (offset < 0) return PYHANG_REL_ABSENT;
  if ((__u32)offset < start) return PYHANG_REL_BAD;
  if ((__u32)offset - start + width > size) return PYHANG_REL_BAD;
  return (__s32)((__u32)offset - start);
}

PYHANG_INLINE __u64 pyhang_load_u64(const __u8 *buf, __s32 rel) {
  if (rel < 0 || rel > PYHANG_FRAME_READ_MAX - 8) return 0;
  return *(const __u64 *)(buf + rel);
}

PYHANG_INLINE __u8 pyhang_load_u8(const __u8 *buf, __s32 rel) {
  if (rel < 0 || rel > PYHANG_FRAME_READ_MAX - 1) return 0;
  return buf[rel];
}

/* Checks the copy plan against the offsets; PYHANG_ERR_BAD_CONFIG if any
 * needed field falls outside the span. */
PYHANG_INLINE __u32 pyhang_plan_walk(const struct pyhang_proc_config *cfg,
                                     struct pyhang_walk_ctx *w) {
  const struct pyhang_py_offsets *o = &cfg->offsets;
  __u32 start = cfg->frame_read_offset;
  __u32 size = cfg->frame_read_size;
  if (size == 0 || size > PYHANG_FRAME_READ_MAX) return PYHANG_ERR_BAD_CONFIG;
  w->read_offset = start;
  w->read_size = size;
  w->rel_code = pyhang_rel(o->frame_code, start, size, 8);
  w->rel_previous = pyhang_rel(o->frame_previous, start, size, 8);
  w->rel_instr = pyhang_rel(o->frame_instr, start, size, 8);
  w->rel_owner = pyhang_rel(o->frame_owner, start, size, 1);
  if (w->rel_code < 0 || w->rel_previous < 0) return PYHANG_ERR_BAD_CONFIG;
  if (w->rel_instr == PYHANG_REL_BAD || w->rel_owner == PYHANG_REL_BAD) {
    return PYHANG_ERR_BAD_CONFIG;
  }
  return PYHANG_OK;
}

/* One step of the chain: copies the frame at w->next into
 * stack->frames[index]. Returns non-zero to stop (bpf_loop convention). */
static long pyhang_walk_step(__u32 index, void *arg) {
  struct pyhang_walk_ctx *w = (struct pyhang_walk_ctx *)arg;
  __u64 address = w->next;
  __u32 size = w->read_size;
  if (address == 0) return 1;
  if (index >= PYHANG_MAX_FRAMES) return 1;
  if (size > PYHANG_FRAME_READ_MAX) return 1;
  if (PYHANG_READ_USER(w->buf, size, address + w->read_offset) != 0) {
    w->stack->error = PYHANG_ERR_FRAME_READ;
    w->next = 0;
    return 1;
  }
  /* The mask repeats the check above in a form the verifier keeps (the
   * barrier stops the compiler from dropping it as redundant). */
  PYHANG_BARRIER_VAR(index);
  struct pyhang_frame *frame = &w->stack->frames[index & (PYHANG_MAX_FRAMES - 1)];
  frame->frame_address = address;
  frame->code = pyhang_load_u64(w->buf, w->rel_code);
  frame->instr = pyhang_load_u64(w->buf, w->rel_instr);
  frame->owner = pyhang_load_u8(w->buf, w->rel_owner);
  w->next = pyhang_load_u64(w->buf, w->rel_previous);
  w->stack->frame_count = (__u16)(index + 1);
  return 0;
}

/* Where the thread's PyThreadState pointer is stored, as CPython's
 * PyGILState_GetThisThreadState() finds it: the pthread TSS slot of
 * CPython's autoTSSkey (<= 3.14), or the thread-local _Py_tss_gilstate
 * (3.15+). Both stay set while the thread is blocked, unlike
 * _Py_tss_tstate. *slot is the address to read; returns an error code. */
PYHANG_INLINE __u32 pyhang_tstate_slot(const struct pyhang_proc_config *cfg, __u64 fsbase,
                                       __u64 *slot) {
  __s32 key = cfg->tss_key;
  if (cfg->tls_module == 0) {
    *slot = fsbase + (__u64)cfg->tls_offset;
    return PYHANG_OK;
  }
  if (cfg->tls_module > 0) {
    __u64 dtv = 0, block = 0;
    if (PYHANG_READ_USER(&dtv, sizeof(dtv), fsbase + 8) != 0) return PYHANG_ERR_TLS_READ;
    if (PYHANG_READ_USER(&block, sizeof(block), dtv + 16 * (__u64)cfg->tls_module) != 0) {
      return PYHANG_ERR_TLS_READ;
    }
    /* glibc marks a block not allocated yet with -1 (TLS_DTV_UNALLOCATED). */
    if (block == 0 || block == (__u64)-1) return PYHANG_ERR_NO_TSTATE;
    *slot = block + (__u64)cfg->tls_offset;
    return PYHANG_OK;
  }
  if (key < 0 || key >= PYHANG_TSS_MAX_KEYS) return PYHANG_ERR_TSS_KEY;
  if (cfg->tls_specific_1stblock < 0 || cfg->tls_specific < 0) return PYHANG_ERR_BAD_CONFIG;
  if (key < PYHANG_TSS_FIRST_BLOCK_KEYS) {
    *slot = fsbase + (__u64)cfg->tls_specific_1stblock + 16 * (__u64)key + 8;
    return PYHANG_OK;
  }
  __u64 block = 0;
  __u64 pointer = fsbase + (__u64)cfg->tls_specific + 8 * (__u64)(key / PYHANG_TSS_FIRST_BLOCK_KEYS);
  if (PYHANG_READ_USER(&block, sizeof(block), pointer) != 0) return PYHANG_ERR_TSS_READ;
  if (block == 0) return PYHANG_ERR_NO_TSTATE; /* this thread set no key in that block */
  *slot = block + 16 * (__u64)(key % PYHANG_TSS_FIRST_BLOCK_KEYS) + 8;
  return PYHANG_OK;
}

/* The PyThreadState bound to the thread whose thread pointer is `fsbase`
 * and whose thread id, as the target sees it (its pid namespace), is
 * `tid`. Validated against the tstate's own thread ids; *tstate stays 0
 * unless it passed. */
PYHANG_INLINE __u32 pyhang_find_tstate(const struct pyhang_proc_config *cfg, __u64 fsbase,
                                       __u32 tid, __u64 *tstate) {
  const struct pyhang_py_offsets *o = &cfg->offsets;
  __u64 slot = 0;
  __u64 value = 0;
  __u32 error;
  *tstate = 0;
  if (o->tstate_thread_id < 0) return PYHANG_ERR_BAD_CONFIG;
  error = pyhang_tstate_slot(cfg, fsbase, &slot);
  if (error != PYHANG_OK) return error;
  if (PYHANG_READ_USER(&value, sizeof(value), slot) != 0) {
    return cfg->tls_module >= 0 ? PYHANG_ERR_TLS_READ : PYHANG_ERR_TSS_READ;
  }
  if (value == 0) return PYHANG_ERR_NO_TSTATE;

  __u64 thread_id = 0;
  if (PYHANG_READ_USER(&thread_id, sizeof(thread_id), value + (__u64)o->tstate_thread_id) != 0) {
    return PYHANG_ERR_TSTATE_READ;
  }
  if (thread_id != fsbase) return PYHANG_ERR_TSTATE_THREAD_ID;
  if (o->tstate_native_thread_id >= 0) {
    __u64 native = 0;
    if (PYHANG_READ_USER(&native, sizeof(native),
                         value + (__u64)o->tstate_native_thread_id) != 0) {
      return PYHANG_ERR_TSTATE_READ;
    }
    if (native != tid) return PYHANG_ERR_TSTATE_NATIVE_ID;
  }
  *tstate = value;
  return PYHANG_OK;
}

/* The newest frame of a thread state (0 if it runs no Python code). */
PYHANG_INLINE __u32 pyhang_top_frame(const struct pyhang_proc_config *cfg, __u64 tstate,
                                     __u64 *frame) {
  const struct pyhang_py_offsets *o = &cfg->offsets;
  *frame = 0;
  if (o->tstate_frame < 0) return PYHANG_ERR_BAD_CONFIG;
  if (PYHANG_READ_USER(frame, sizeof(*frame), tstate + (__u64)o->tstate_frame) != 0) {
    return PYHANG_ERR_TOP_FRAME_READ;
  }
  /* 3.11/3.12: tstate->cframe->current_frame */
  if (o->cframe_current_frame >= 0 && *frame != 0) {
    __u64 cframe = *frame;
    if (PYHANG_READ_USER(frame, sizeof(*frame), cframe + (__u64)o->cframe_current_frame) != 0) {
      return PYHANG_ERR_TOP_FRAME_READ;
    }
  }
  return PYHANG_OK;
}

/* Copies the frame chain starting at `top` into `stack` (which must have
 * tstate set by the caller). Returns PYHANG_OK, PYHANG_ERR_FRAME_READ (cut
 * at an unreadable frame) or PYHANG_ERR_TRUNCATED (depth cap). */
PYHANG_INLINE __u32 pyhang_copy_frames(struct pyhang_walk_ctx *w, __u64 top) {
  w->next = top;
  PYHANG_LOOP(PYHANG_MAX_FRAMES, pyhang_walk_step, w);
  if (w->stack->error == PYHANG_OK && w->next != 0) {
    w->stack->error = PYHANG_ERR_TRUNCATED;
    w->stack->flags |= PYHANG_STACK_TRUNCATED;
  }
  return w->stack->error;
}

/* An empty stack that says why it is empty (PYHANG_OK: not asked for). */
PYHANG_INLINE void pyhang_stack_reset(struct pyhang_stack *stack, __u32 error) {
  stack->tstate = 0;
  stack->error = error;
  stack->frame_count = 0;
  stack->flags = 0;
}

/* The whole walk for the thread (`fsbase`, `tid` as the target sees it:
 * its id in the target's pid namespace): finds its tstate and
 * copies its frames into `stack`. `buf` is PYHANG_FRAME_BUF_SIZE bytes of
 * scratch. Returns the error that prevented or cut the walk (also stored
 * in stack->error); the stack keeps whatever was copied before it. */
PYHANG_INLINE __u32 pyhang_read_stack(const struct pyhang_proc_config *cfg, __u64 fsbase,
                                      __u32 tid, struct pyhang_stack *stack, __u8 *buf) {
  struct pyhang_walk_ctx w = {};
  __u64 top = 0;
  __u32 error;
  pyhang_stack_reset(stack, PYHANG_OK);
  w.stack = stack;
  w.buf = buf;
  error = pyhang_plan_walk(cfg, &w);
  if (error == PYHANG_OK) error = pyhang_find_tstate(cfg, fsbase, tid, &stack->tstate);
  if (error == PYHANG_OK) error = pyhang_top_frame(cfg, stack->tstate, &top);
  if (error != PYHANG_OK) {
    stack->error = error;
    return error;
  }
  return pyhang_copy_frames(&w, top);
}

#endif /* PYHANG_BPF_PYHANG_WALK_H_ */
