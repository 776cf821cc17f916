/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What a native unwinder needs from a thread, copied in BPF: its user
 * registers (user_regs_struct order, struct pyhang_native_record) and the
 * top of its user stack, page by page from sp. Shared by the snapshot
 * iterator (bpf/native_snapshot.bpf.c) and the sampler (bpf/pyhang.bpf.c).
 * Include after vmlinux.h, bpf_core_read.h and pyhang_abi.h.
 */
#ifndef PYHANG_BPF_NATIVE_COPY_BPF_H_
#define PYHANG_BPF_NATIVE_COPY_BPF_H_

#define PYHANG_PAGE 4096

/* The user registers a task saved on its last entry into the kernel. */
static __always_inline void pyhang_regs_from_pt_regs(__u64 *r, const struct pt_regs *regs,
                                                     struct task_struct *task) {
  r[0] = BPF_CORE_READ(regs, r15);
  r[1] = BPF_CORE_READ(regs, r14);
  r[2] = BPF_CORE_READ(regs, r13);
  r[3] = BPF_CORE_READ(regs, r12);
  r[4] = BPF_CORE_READ(regs, bp);
  r[5] = BPF_CORE_READ(regs, bx);
  r[6] = BPF_CORE_READ(regs, r11);
  r[7] = BPF_CORE_READ(regs, r10);
  r[8] = BPF_CORE_READ(regs, r9);
  r[9] = BPF_CORE_READ(regs, r8);
  r[10] = BPF_CORE_READ(regs, ax);
  r[11] = BPF_CORE_READ(regs, cx);
  r[12] = BPF_CORE_READ(regs, dx);
  r[13] = BPF_CORE_READ(regs, si);
  r[14] = BPF_CORE_READ(regs, di);
  r[15] = BPF_CORE_READ(regs, orig_ax);
  r[16] = BPF_CORE_READ(regs, ip);
  r[17] = BPF_CORE_READ(regs, cs);
  r[18] = BPF_CORE_READ(regs, flags);
  r[19] = BPF_CORE_READ(regs, sp);
  r[20] = BPF_CORE_READ(regs, ss);
  r[21] = BPF_CORE_READ(task, thread.fsbase);
}

/* The current thread's user registers at a perf_event sample: interrupted
 * in user mode, the sample's own registers (read as context fields, which
 * the verifier maps onto the real pt_regs); in the kernel (a system call),
 * the user registers it saved on entry. */
static __always_inline void pyhang_regs_at_sample(__u64 *r, struct bpf_perf_event_data *ctx,
                                                  struct task_struct *task) {
  __u64 cs = *(volatile __u64 *)&ctx->regs.cs; /* the context allows 8-byte loads only */
  if ((cs & 3) != 3) {
    pyhang_regs_from_pt_regs(r, (struct pt_regs *)bpf_task_pt_regs(task), task);
    return;
  }
  r[0] = ctx->regs.r15;
  r[1] = ctx->regs.r14;
  r[2] = ctx->regs.r13;
  r[3] = ctx->regs.r12;
  r[4] = ctx->regs.bp;
  r[5] = ctx->regs.bx;
  r[6] = ctx->regs.r11;
  r[7] = ctx->regs.r10;
  r[8] = ctx->regs.r9;
  r[9] = ctx->regs.r8;
  r[10] = ctx->regs.ax;
  r[11] = ctx->regs.cx;
  r[12] = ctx->regs.dx;
  r[13] = ctx->regs.si;
  r[14] = ctx->regs.di;
  r[15] = ctx->regs.orig_ax;
  r[16] = ctx->regs.ip;
  r[17] = cs;
  r[18] = ctx->regs.flags;
  r[19] = ctx->regs.sp;
  r[20] = *(volatile __u64 *)&ctx->regs.ss;
  r[21] = BPF_CORE_READ(task, thread.fsbase);
}

/* Copies up to `limit` (<= PYHANG_NATIVE_STACK_MAX) bytes from `sp` up into
 * `dst`, one page at a time with READ(dst, size, src) (0 on success); sets
 * `copied` to the bytes copied. A page that cannot be read ends the copy
 * and keeps what was copied before it. The offset and size are capped in
 * a form the verifier follows. */
#define PYHANG_COPY_USER_STACK(dst, sp, limit, copied, READ)                                 \
  do {                                                                                     \
    (copied) = 0;                                                                          \
    for (int pyhang_page_ = 0; pyhang_page_ < PYHANG_NATIVE_STACK_MAX / PYHANG_PAGE + 1;    \
         pyhang_page_++) {                                                                 \
      __u64 chunk_ = PYHANG_PAGE - (((sp) + (copied)) & (PYHANG_PAGE - 1));                \
      if ((copied) + chunk_ > (limit)) break;                                              \
      __u64 offset_ = (copied);                                                            \
      asm volatile("" : "+r"(offset_), "+r"(chunk_));                                      \
      if (offset_ > PYHANG_NATIVE_STACK_MAX - PYHANG_PAGE || chunk_ == 0 ||                \
          chunk_ > PYHANG_PAGE)                                                            \
        break;                                                                             \
      if (READ((dst) + offset_, chunk_, (void *)((sp) + offset_)) != 0) break;             \
      (copied) = offset_ + chunk_;                                                         \
    }                                                                                      \
  } while (0)

#endif /* PYHANG_BPF_NATIVE_COPY_BPF_H_ */
