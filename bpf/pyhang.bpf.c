// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pyhang's BPF programs: an on-CPU sampler (perf_event on the software CPU
 * clock) and off-CPU accounting (sched_switch), both restricted to the
 * processes in pyhang_procs and both copying the thread's Python frame chain
 * (bpf/pyhang_walk.h) for userspace to interpret.
 *
 * Settings are const volatile globals written between open and load; map
 * sizes are set with bpf_map__set_max_entries. Each hook exists in a
 * tp_btf and a raw_tp flavour; userspace autoloads the one its feature
 * probe allows.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "bpf/kernel_compat.bpf.h"

/* ---- settings (rodata, fixed at load time) ---- */
const volatile bool cfg_use_bpf_loop = true;      /* else a bounded loop (pre-5.17) */
const volatile bool cfg_kernel_stacks = true;     /* bpf_get_stackid on samples/switch-outs */
const volatile bool cfg_offcpu_stacks = true;     /* walk Python frames at switch-out */
const volatile __u64 cfg_offcpu_min_ns = 0;       /* shorter off-CPU intervals are not emitted */
const volatile __u64 cfg_wakeup_bytes = 1 << 20;  /* wake the consumer once this much is queued */
/* record --native: user stack bytes copied per on-CPU sample (0: none);
 * <= PYHANG_NATIVE_STACK_MAX. */
const volatile __u32 cfg_native_stack_bytes = 0;

#define PYHANG_READ_USER(dst, size, src) \
  bpf_probe_read_user((dst), (size), (const void *)(unsigned long)(src))
#define PYHANG_LOOP(n, callback, ctx)                        \
  do {                                                       \
    if (cfg_use_bpf_loop) {                                  \
      bpf_loop((n), (callback), (ctx), 0);                   \
    } else {                                                 \
      for (__u32 pyhang_i_ = 0; pyhang_i_ < (n); pyhang_i_++) \
        if ((callback)(pyhang_i_, (ctx))) break;             \
    }                                                        \
  } while (0)
#include "bpf/pyhang_walk.h"
#include "bpf/native_copy.bpf.h"

#define PYHANG_KERNEL_STACK_DEPTH 127 /* PERF_MAX_STACK_DEPTH */

/* ---- maps ---- */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32); /* tgid */
  __type(value, struct pyhang_proc_config);
} pyhang_procs SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32); /* tid */
  __type(value, struct pyhang_offcpu_event);
} pyhang_offcpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 8192);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, PYHANG_KERNEL_STACK_DEPTH * sizeof(__u64));
} pyhang_kernel_stacks SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4 << 20);
} pyhang_events SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PYHANG_ERROR_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} pyhang_errors SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PYHANG_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} pyhang_stats SEC(".maps");

/* Per-CPU scratch: events are built here (they are too big for the stack)
 * and the frame copy buffer sits behind them. One map per program kind so
 * a perf_event interrupt can never clobber a sched_switch in progress. */
struct sample_scratch {
  struct pyhang_sample_event event;
  __u8 frame_buf[PYHANG_FRAME_BUF_SIZE];
};

struct offcpu_scratch {
  struct pyhang_offcpu_event event;
  __u8 frame_buf[PYHANG_FRAME_BUF_SIZE];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct sample_scratch);
} pyhang_sample_scratch SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct offcpu_scratch);
} pyhang_offcpu_scratch SEC(".maps");

/* The native stack of a sample is built here: it is as big as a per-CPU
 * value may be (32 KiB), so it has a map of its own. */
struct native_stack_scratch {
  struct pyhang_native_stack_event event;
  __u8 stack[PYHANG_NATIVE_STACK_MAX];
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct native_stack_scratch);
} pyhang_native_scratch SEC(".maps");

/* ---- counters ---- */
static __always_inline void count_error(__u32 code) {
  if (code == PYHANG_OK) return;
  __u64 *value = bpf_map_lookup_elem(&pyhang_errors, &code);
  if (value) *value += 1;
}

static __always_inline void count_stat(__u32 stat, __u64 amount) {
  __u64 *value = bpf_map_lookup_elem(&pyhang_stats, &stat);
  if (value) *value += amount;
}

/* Events are queued without waking the consumer, which polls on a timer,
 * until cfg_wakeup_bytes are waiting. Waking it per event would make it
 * preempt the very threads being watched: every wakeup would itself be an
 * off-CPU event (a feedback loop measured at ~20k switches/s). */
static __always_inline long emit(void *data, __u64 size) {
  __u64 flags = bpf_ringbuf_query(&pyhang_events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes
                    ? BPF_RB_FORCE_WAKEUP
                    : BPF_RB_NO_WAKEUP;
  long error = bpf_ringbuf_output(&pyhang_events, data, size, flags);
  if (error != 0) count_error(PYHANG_ERR_RINGBUF_FULL);
  return error;
}

/* Bytes of an event whose pyhang_stack ends it and holds `count` frames. */
static __always_inline __u64 event_size(__u64 frames_offset, __u16 count) {
  __u64 n = count;
  if (n > PYHANG_MAX_FRAMES) n = PYHANG_MAX_FRAMES;
  return frames_offset + n * sizeof(struct pyhang_frame);
}

/* Walks the current thread's Python stack into `stack`, counting the outcome. */
static __always_inline void read_current_stack(const struct pyhang_proc_config *cfg,
                                               struct task_struct *task, __u32 tid,
                                               struct pyhang_stack *stack, __u8 *buf) {
  __u64 fsbase = pyhang_task_fsbase(task);
  if (fsbase == 0) {
    pyhang_stack_reset(stack, PYHANG_ERR_FSBASE);
    count_error(PYHANG_ERR_FSBASE);
    return;
  }
  count_stat(PYHANG_STAT_WALKS, 1);
  /* The tstate records the thread id the target sees (its pid namespace). */
  __u32 ns_tid = cfg->in_pid_namespace ? pyhang_task_ns_tid(task) : tid;
  count_error(pyhang_read_stack(cfg, fsbase, ns_tid, stack, buf));
  count_stat(PYHANG_STAT_FRAMES, stack->frame_count);
}

/* ---- on-CPU sampler ---- */

/* record --native: the current thread's registers and stack top, for the
 * sample taken at `ktime_ns`. Only the bytes copied go to the ring. */
static __always_inline void emit_native_stack(struct bpf_perf_event_data *ctx, struct task_struct *task,
                                              __u32 pid, __u32 tid, __u64 ktime_ns) {
  __u32 zero = 0;
  struct native_stack_scratch *scratch = bpf_map_lookup_elem(&pyhang_native_scratch, &zero);
  if (!scratch) {
    count_error(PYHANG_ERR_SCRATCH);
    return;
  }
  struct pyhang_native_stack_event *event = &scratch->event;
  __builtin_memset(event, 0, sizeof(*event));
  event->type = PYHANG_EVENT_NATIVE_STACK;
  event->pid = pid;
  event->ktime_ns = ktime_ns;
  event->record.magic = PYHANG_NATIVE_MAGIC;
  event->record.tid = tid;
  pyhang_regs_at_sample(event->record.regs, ctx, task);
  __u64 sp = event->record.regs[19];
  __u64 limit = cfg_native_stack_bytes > PYHANG_NATIVE_STACK_MAX ? PYHANG_NATIVE_STACK_MAX
                                                                 : cfg_native_stack_bytes;
  __u64 copied;
  PYHANG_COPY_USER_STACK(scratch->stack, sp, limit, copied, bpf_probe_read_user);
  event->record.stack_size = copied;
  __u64 total = sizeof(*event) + copied;
  asm volatile("" : "+r"(total));
  if (total > sizeof(*scratch)) return;
  emit(scratch, total);
}

SEC("perf_event")
int pyhang_on_cpu(struct bpf_perf_event_data *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 pid = id >> 32;
  __u32 tid = (__u32)id;
  __u32 zero = 0;

  const struct pyhang_proc_config *cfg = bpf_map_lookup_elem(&pyhang_procs, &pid);
  if (!cfg) {
    count_stat(PYHANG_STAT_NON_TARGET, 1);
    return 0;
  }
  struct sample_scratch *scratch = bpf_map_lookup_elem(&pyhang_sample_scratch, &zero);
  if (!scratch) {
    count_error(PYHANG_ERR_SCRATCH);
    return 0;
  }
  struct pyhang_sample_event *event = &scratch->event;
  event->type = PYHANG_EVENT_SAMPLE;
  event->pid = pid;
  event->tid = tid;
  event->cpu = bpf_get_smp_processor_id();
  event->ktime_ns = bpf_ktime_get_ns();
  event->flags = 0;
  event->kernel_stack_id = -1;
  /* Kernel text is in the upper half; the timer interrupted kernel code. */
  if ((long)ctx->regs.ip < 0) {
    event->flags |= PYHANG_SAMPLE_IN_KERNEL;
    if (cfg_kernel_stacks) {
      long stack_id = bpf_get_stackid(ctx, &pyhang_kernel_stacks, 0);
      if (stack_id < 0) count_error(PYHANG_ERR_KERNEL_STACK);
      event->kernel_stack_id = (__s32)stack_id;
    }
  }
  struct task_struct *task = bpf_get_current_task_btf();
  if (cfg_native_stack_bytes) emit_native_stack(ctx, task, pid, tid, event->ktime_ns);
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  event->user_ip = BPF_CORE_READ(regs, ip);
  event->user_sp = BPF_CORE_READ(regs, sp);
  read_current_stack(cfg, task, tid, &event->stack, scratch->frame_buf);

  __u64 size = event_size(__builtin_offsetof(struct pyhang_sample_event, stack.frames),
                          event->stack.frame_count);
  if (emit(event, size) == 0) count_stat(PYHANG_STAT_SAMPLES, 1);
  return 0;
}

/* ---- off-CPU accounting ---- */

/* `prev` is still current: record why and where it leaves the CPU. */
static __always_inline void record_switch_out(void *ctx, const struct pyhang_proc_config *cfg,
                                              struct task_struct *prev, bool preempt,
                                              __u32 pid, __u64 now) {
  __u32 tid = BPF_CORE_READ(prev, pid);
  __u32 zero = 0;
  if (BPF_CORE_READ(prev, flags) & PYHANG_PF_EXITING) {
    /* Its last switch-outs; sched_process_exit already dropped its state. */
    bpf_map_delete_elem(&pyhang_offcpu, &tid);
    return;
  }
  struct offcpu_scratch *scratch = bpf_map_lookup_elem(&pyhang_offcpu_scratch, &zero);
  if (!scratch) {
    count_error(PYHANG_ERR_SCRATCH);
    return;
  }
  struct pyhang_offcpu_event *event = &scratch->event;
  event->type = PYHANG_EVENT_OFFCPU;
  event->pid = pid;
  event->tid = tid;
  event->cpu = 0;
  event->start_ns = now;
  event->end_ns = 0;
  event->prev_state = preempt ? 0 : pyhang_task_state(prev);
  event->kernel_stack_id = -1;
  if (cfg_kernel_stacks) {
    long stack_id = bpf_get_stackid(ctx, &pyhang_kernel_stacks, 0);
    if (stack_id < 0) count_error(PYHANG_ERR_KERNEL_STACK);
    event->kernel_stack_id = (__s32)stack_id;
  }
  /* The user registers saved at kernel entry: orig_ax is the syscall
   * number (-1 if it entered through an interrupt or exception). */
  struct task_struct *task = bpf_get_current_task_btf();
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
  event->syscall_nr = (__s64)BPF_CORE_READ(regs, orig_ax);
  event->syscall_args[0] = BPF_CORE_READ(regs, di);
  event->syscall_args[1] = BPF_CORE_READ(regs, si);
  event->syscall_args[2] = BPF_CORE_READ(regs, dx);
  event->syscall_args[3] = BPF_CORE_READ(regs, r10);
  event->syscall_args[4] = BPF_CORE_READ(regs, r8);
  event->syscall_args[5] = BPF_CORE_READ(regs, r9);
  event->user_ip = BPF_CORE_READ(regs, ip);
  event->user_sp = BPF_CORE_READ(regs, sp);
  if (cfg_offcpu_stacks) {
    read_current_stack(cfg, task, tid, &event->stack, scratch->frame_buf);
  } else {
    pyhang_stack_reset(&event->stack, PYHANG_OK);
  }
  if (bpf_map_update_elem(&pyhang_offcpu, &tid, event, BPF_ANY) != 0) {
    count_error(PYHANG_ERR_THREAD_MAP_FULL);
    return;
  }
  count_stat(PYHANG_STAT_SWITCH_OUT, 1);
}

/* `next` comes back: emit the interval recorded at its switch-out. */
static __always_inline void emit_switch_in(struct task_struct *next, __u64 now) {
  __u32 tid = BPF_CORE_READ(next, pid);
  struct pyhang_offcpu_event *event = bpf_map_lookup_elem(&pyhang_offcpu, &tid);
  if (!event || event->start_ns == 0) {
    count_stat(PYHANG_STAT_OFFCPU_NO_START, 1);
    return;
  }
  event->end_ns = now;
  event->cpu = bpf_get_smp_processor_id();
  if (now - event->start_ns < cfg_offcpu_min_ns) {
    count_stat(PYHANG_STAT_OFFCPU_SHORT, 1);
  } else {
    __u64 size = event_size(__builtin_offsetof(struct pyhang_offcpu_event, stack.frames),
                            event->stack.frame_count);
    if (emit(event, size) == 0) count_stat(PYHANG_STAT_OFFCPU_EVENTS, 1);
  }
  event->start_ns = 0;
}

static __always_inline int on_switch(void *ctx, bool preempt, struct task_struct *prev,
                                     struct task_struct *next) {
  __u64 now = bpf_ktime_get_ns();
  __u32 prev_pid = BPF_CORE_READ(prev, tgid);
  __u32 next_pid = BPF_CORE_READ(next, tgid);
  const struct pyhang_proc_config *cfg = bpf_map_lookup_elem(&pyhang_procs, &prev_pid);
  if (cfg) record_switch_out(ctx, cfg, prev, preempt, prev_pid, now);
  if (bpf_map_lookup_elem(&pyhang_procs, &next_pid)) emit_switch_in(next, now);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(pyhang_sched_switch_btf, bool preempt, struct task_struct *prev,
             struct task_struct *next) {
  return on_switch(ctx, preempt, prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(pyhang_sched_switch_raw, bool preempt, struct task_struct *prev,
             struct task_struct *next) {
  return on_switch(ctx, preempt, prev, next);
}

/* ---- thread exit: drop per-thread state, tell userspace ---- */
static __always_inline int on_exit(struct task_struct *task) {
  __u32 pid = BPF_CORE_READ(task, tgid);
  if (!bpf_map_lookup_elem(&pyhang_procs, &pid)) return 0;
  __u32 tid = BPF_CORE_READ(task, pid);
  bpf_map_delete_elem(&pyhang_offcpu, &tid);
  struct pyhang_exit_event event = {};
  event.type = PYHANG_EVENT_THREAD_EXIT;
  event.pid = pid;
  event.tid = tid;
  event.ktime_ns = bpf_ktime_get_ns();
  if (pyhang_group_dead(task)) {
    event.flags |= PYHANG_EXIT_PROCESS;
    /* The pid may be reused by an unrelated process: stop at once. */
    bpf_map_delete_elem(&pyhang_procs, &pid);
  }
  emit(&event, sizeof(event));
  count_stat(PYHANG_STAT_THREAD_EXITS, 1);
  return 0;
}

/* ---- exec: the process now runs another program. The offsets pyhang
 * wrote for it describe a runtime that is gone: stop walking it at once
 * and tell userspace (a pid that exec'd is, to pyhang, a process that
 * ended). ---- */
static __always_inline int on_exec(struct task_struct *task) {
  __u32 pid = BPF_CORE_READ(task, tgid);
  if (!bpf_map_lookup_elem(&pyhang_procs, &pid)) return 0;
  bpf_map_delete_elem(&pyhang_procs, &pid);
  struct pyhang_exit_event event = {};
  event.type = PYHANG_EVENT_THREAD_EXIT;
  event.pid = pid;
  event.tid = BPF_CORE_READ(task, pid);
  event.flags = PYHANG_EXIT_PROCESS | PYHANG_EXIT_EXEC;
  event.ktime_ns = bpf_ktime_get_ns();
  emit(&event, sizeof(event));
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(pyhang_exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  return on_exec(task);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(pyhang_exec_raw, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm) {
  return on_exec(task);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(pyhang_exit_btf, struct task_struct *task) {
  return on_exit(task);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(pyhang_exit_raw, struct task_struct *task) {
  return on_exit(task);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
