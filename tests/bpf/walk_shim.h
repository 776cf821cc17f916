// Compiles the BPF frame walk (bpf/pyhang_walk.h) into a userspace test:
// bpf_probe_read_user becomes a read of a MemoryReader (an image built by
// the test), bpf_loop a plain loop. The opentelemetry-ebpf-profiler
// tools/coredump idea: the C++ decoder is the reference the BPF code must
// agree with, and this runs without a kernel.
#ifndef PYHANG_TESTS_BPF_WALK_SHIM_H_
#define PYHANG_TESTS_BPF_WALK_SHIM_H_

#include <linux/types.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "userspace/memory/memory_reader.h"

namespace pyhang::testing {

// The memory the walk reads (not thread-safe: tests set it per case).
inline memory::MemoryReader*& ShimTarget() {
  static memory::MemoryReader* target = nullptr;
  return target;
}

// bpf_probe_read_user semantics: 0 or -EFAULT, and a zeroed buffer on failure.
inline long ShimReadUser(void* dst, __u32 size, __u64 src) {
  memory::MemoryReader* target = ShimTarget();
  if (target != nullptr &&
      target->Read(src, absl::MakeSpan(static_cast<std::byte*>(dst), size)).ok()) {
    return 0;
  }
  std::memset(dst, 0, size);
  return -EFAULT;
}

}  // namespace pyhang::testing

#define PYHANG_READ_USER(dst, size, src) ::pyhang::testing::ShimReadUser((dst), (size), (src))
#define PYHANG_LOOP(n, callback, ctx)        \
  for (__u32 pyhang_i_ = 0; pyhang_i_ < (n); ++pyhang_i_) \
    if ((callback)(pyhang_i_, (ctx))) break
#include "bpf/pyhang_walk.h"

#endif  // PYHANG_TESTS_BPF_WALK_SHIM_H_
