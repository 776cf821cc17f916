// The sampler's view of the BPF ABI (bpf/pyhang_abi.h): the structs are
// declared there once; this header pins their sizes and the offsets the
// decoding code relies on, so a change on either side fails to compile.
#ifndef PYHANG_USERSPACE_SAMPLER_ABI_H_
#define PYHANG_USERSPACE_SAMPLER_ABI_H_

#include <cstddef>

#include "bpf/pyhang_abi.h"
#include "userspace/python/py_offsets.h"

namespace pyhang::sampler {

// The offsets record may grow (its size is pinned in py_offsets.h); what
// follows it here must not move relative to it or gain hidden padding.
static_assert(sizeof(pyhang_py_offsets) % 8 == 0, "keep pyhang_py_offsets 8-byte sized");
static_assert(offsetof(pyhang_proc_config, tss_key) == sizeof(pyhang_py_offsets));
static_assert(offsetof(pyhang_proc_config, frame_read_offset) == sizeof(pyhang_py_offsets) + 12);
static_assert(offsetof(pyhang_proc_config, runtime_address) == sizeof(pyhang_py_offsets) + 16);
static_assert(offsetof(pyhang_proc_config, tls_offset) == sizeof(pyhang_py_offsets) + 24);
static_assert(offsetof(pyhang_proc_config, tls_module) == sizeof(pyhang_py_offsets) + 32);
static_assert(sizeof(pyhang_proc_config) == sizeof(pyhang_py_offsets) + 40,
              "ABI record changed size: update both sides");

static_assert(sizeof(pyhang_frame) == 32);
static_assert(offsetof(pyhang_frame, owner) == 24);
static_assert(sizeof(pyhang_stack) == 16 + 32 * PYHANG_MAX_FRAMES);
static_assert(offsetof(pyhang_stack, frames) == 16);
static_assert((PYHANG_MAX_FRAMES & (PYHANG_MAX_FRAMES - 1)) == 0, "must be a power of two");

static_assert(offsetof(pyhang_sample_event, ktime_ns) == 16);
static_assert(offsetof(pyhang_sample_event, kernel_stack_id) == 40);
static_assert(offsetof(pyhang_sample_event, stack) == 48);
static_assert(sizeof(pyhang_sample_event) == 48 + sizeof(pyhang_stack));

static_assert(offsetof(pyhang_offcpu_event, start_ns) == 16);
static_assert(offsetof(pyhang_offcpu_event, prev_state) == 32);
static_assert(offsetof(pyhang_offcpu_event, syscall_nr) == 40);
static_assert(offsetof(pyhang_offcpu_event, syscall_args) == 48);
static_assert(offsetof(pyhang_offcpu_event, stack) == 112);
static_assert(sizeof(pyhang_offcpu_event) == 112 + sizeof(pyhang_stack));

static_assert(sizeof(pyhang_exit_event) == 24);

static_assert(offsetof(pyhang_native_stack_event, record) == 16);
static_assert(sizeof(pyhang_native_record) == 16 + 27 * 8);

// Every event starts with its type.
static_assert(offsetof(pyhang_sample_event, type) == 0);
static_assert(offsetof(pyhang_offcpu_event, type) == 0);
static_assert(offsetof(pyhang_exit_event, type) == 0);
static_assert(offsetof(pyhang_native_stack_event, type) == 0);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_ABI_H_
