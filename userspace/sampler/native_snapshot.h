// Every thread's user registers and the top of its user stack, copied in
// one pass by a sleepable BPF task iterator (bpf/native_snapshot.bpf.c):
// the live process is never stopped, never ptrace-attached.
#ifndef PYHANG_USERSPACE_SAMPLER_NATIVE_SNAPSHOT_H_
#define PYHANG_USERSPACE_SAMPLER_NATIVE_SNAPSHOT_H_

#include <sys/types.h>

#include <vector>

#include "absl/status/statusor.h"
#include "userspace/target/stack_copies.h"

namespace pyhang::sampler {

// At most PYHANG_NATIVE_STACK_MAX bytes per thread. Errors (no BPF, no
// privileges) carry a message for the user.
absl::StatusOr<std::vector<target::StackCopy>> CopyNativeStacks(pid_t pid, size_t stack_bytes);

// Parses the iterator's output (exposed for tests): records end at the
// first malformed one.
std::vector<target::StackCopy> ParseNativeRecords(absl::string_view bytes);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_NATIVE_SNAPSHOT_H_
