// OS thread ids for Python <= 3.10, whose thread states only record
// pthread_self(). On x86_64 glibc that value is the thread's struct pthread,
// which contains the kernel tid at a glibc-build-specific offset (0x2d0 in
// glibc 2.36). The offset is found per process by matching struct pthread
// contents against the tids in /proc/PID/task, not hard-coded.
#ifndef PYHANG_USERSPACE_PYTHON_NATIVE_TID_H_
#define PYHANG_USERSPACE_PYTHON_NATIVE_TID_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::python {

// The offset of the tid inside struct pthread, or nullopt if no offset
// gives a live tid for every thread in `pthreads`.
absl::StatusOr<std::optional<int32_t>> FindPthreadTidOffset(
    memory::MemoryReader& reader, const std::vector<uint64_t>& pthreads,
    const absl::flat_hash_set<int64_t>& task_tids);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_NATIVE_TID_H_
