/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel differences, in one place (the bcc libbpf-tools core_fixes idea).
 * Every variant is resolved by CO-RE at load time against the running
 * kernel's BTF; the vmlinux.h we compile against only has to contain the
 * newest spelling.
 */
#ifndef PYHANG_BPF_KERNEL_COMPAT_BPF_H_
#define PYHANG_BPF_KERNEL_COMPAT_BPF_H_

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>

#ifndef __TARGET_ARCH_x86
#error "pyhang's BPF programs support x86_64 only (thread pointer = thread.fsbase)"
#endif

/* PF_EXITING from include/linux/sched.h: set early in do_exit(). */
#define PYHANG_PF_EXITING 0x00000004

/* task_struct::state was renamed __state in 5.14 (commit 2f064a59a11f). */
struct task_struct___pre514 {
  long state;
} __attribute__((preserve_access_index));

static __always_inline __u32 pyhang_task_state(struct task_struct *task) {
  if (bpf_core_field_exists(task->__state)) return BPF_CORE_READ(task, __state);
  return (__u32)BPF_CORE_READ((struct task_struct___pre514 *)task, state);
}

/* The user thread pointer: on x86_64 glibc it is pthread_self(), the
 * address of the thread's struct pthread, and what CPython stores in
 * PyThreadState.thread_id. Saved in thread.fsbase by arch_prctl/clone and on
 * every switch-out (glibc never changes it with wrfsbase). */
static __always_inline __u64 pyhang_task_fsbase(struct task_struct *task) {
  return BPF_CORE_READ(task, thread.fsbase);
}

/* The task's thread id in its own (innermost) pid namespace: what gettid()
 * returns inside a container and what CPython stores in
 * PyThreadState.native_thread_id. Equals task->pid outside containers. */
static __always_inline __u32 pyhang_task_ns_tid(struct task_struct *task) {
  struct pid *pid = BPF_CORE_READ(task, thread_pid);
  unsigned int level = BPF_CORE_READ(pid, level);
  struct upid upid = {};
  if (level > 32) return BPF_CORE_READ(task, pid);
  bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
  return (__u32)upid.nr;
}

/* True when the last thread of the task's thread group is exiting
 * (signal->live has dropped to 0 before trace_sched_process_exit). */
static __always_inline bool pyhang_group_dead(struct task_struct *task) {
  return BPF_CORE_READ(task, signal, live.counter) == 0;
}

#endif /* PYHANG_BPF_KERNEL_COMPAT_BPF_H_ */
