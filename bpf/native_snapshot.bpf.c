// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A snapshot of every thread's native stack without stopping anything: a
 * sleepable task iterator (iter.s/task) over the target's threads copies
 * each one's saved user registers (bpf_task_pt_regs: for a thread blocked
 * in the kernel, exactly where its user code stands) and the top of its
 * user stack (bpf_copy_from_user_task, which may fault pages in: hence
 * sleepable). Userspace unwinds the copies with DWARF CFI
 * (userspace/native). One record per thread (struct pyhang_native_record).
 *
 * A thread that is on CPU has no saved registers worth anything: for
 * those, userspace opens a CPU-clock perf event on each and native_sample
 * copies the registers and stack at its next tick, once, into a ring
 * buffer (the same record).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/pyhang_abi.h"
#include "bpf/native_copy.bpf.h"

const volatile __u32 cfg_tgid = 0;            /* the target, as the host sees it */
const volatile __u32 cfg_stack_bytes = 16384;  /* <= PYHANG_NATIVE_STACK_MAX */

struct native_buffer {
  struct pyhang_native_record record;
  __u8 stack[PYHANG_NATIVE_STACK_MAX];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct native_buffer);
} native_scratch SEC(".maps");

/* Threads native_sample should capture (once each), by tid. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 4096);
  __type(key, __u32);
  __type(value, __u8);
} native_wanted SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} native_samples SEC(".maps");

SEC("perf_event")
int native_sample(struct bpf_perf_event_data *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tid = (__u32)id;
  if ((id >> 32) != cfg_tgid || bpf_map_lookup_elem(&native_wanted, &tid) == NULL) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct native_buffer *buffer = bpf_ringbuf_reserve(&native_samples, sizeof(*buffer), 0);
  if (buffer == NULL) return 0;
  struct pyhang_native_record *record = &buffer->record;
  __builtin_memset(record, 0, sizeof(*record));
  record->magic = PYHANG_NATIVE_MAGIC;
  record->tid = tid;
  pyhang_regs_at_sample(record->regs, ctx, task);
  __u64 sp = record->regs[19];
  __u64 limit = cfg_stack_bytes > PYHANG_NATIVE_STACK_MAX ? PYHANG_NATIVE_STACK_MAX : cfg_stack_bytes;
  __u64 copied;
  /* Not sleepable here: a page that is not resident ends the copy. */
  PYHANG_COPY_USER_STACK(buffer->stack, sp, limit, copied, bpf_probe_read_user);
  record->stack_size = copied;
  bpf_ringbuf_submit(buffer, 0);
  bpf_map_delete_elem(&native_wanted, &tid);
  return 0;
}

SEC("iter.s/task")
int native_snapshot(struct bpf_iter__task *ctx) {
  struct seq_file *seq = ctx->meta->seq;
  struct task_struct *task = ctx->task;
  if (task == NULL || task->tgid != cfg_tgid) return 0;
  __u32 zero = 0;
  struct native_buffer *buffer = bpf_map_lookup_elem(&native_scratch, &zero);
  if (buffer == NULL) return 0;
  struct pyhang_native_record *record = &buffer->record;
  __builtin_memset(record, 0, sizeof(*record));
  record->magic = PYHANG_NATIVE_MAGIC;
  record->tid = task->pid;
  if (task->on_cpu) record->flags |= PYHANG_NATIVE_ON_CPU;
  if (task->flags & (0x00200000 /* PF_KTHREAD */ | 0x00000004 /* PF_EXITING */)) {
    record->flags |= PYHANG_NATIVE_NO_REGS;
    bpf_seq_write(seq, record, sizeof(*record));
    return 0;
  }
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  pyhang_regs_from_pt_regs(record->regs, regs, task);
  __u64 sp = record->regs[19];
  __u64 limit = cfg_stack_bytes > PYHANG_NATIVE_STACK_MAX ? PYHANG_NATIVE_STACK_MAX : cfg_stack_bytes;
  __u64 copied;
#define PYHANG_READ_TASK(dst, size, src) bpf_copy_from_user_task((dst), (size), (src), task, 0)
  PYHANG_COPY_USER_STACK(buffer->stack, sp, limit, copied, PYHANG_READ_TASK);
#undef PYHANG_READ_TASK
  record->stack_size = copied;
  __u64 total = sizeof(*record) + copied;
  /* One register for the check and the call, so the verifier sees the bound. */
  asm volatile("" : "+r"(total));
  if (total > sizeof(*buffer)) return 0;
  bpf_seq_write(seq, buffer, total);
  return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
