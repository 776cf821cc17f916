// Native frames in a snapshot, for cores and live processes alike: unwind
// every thread the target has registers for, then merge each stack with
// the thread's Python frames (native/merge.h).
#ifndef PYHANG_USERSPACE_SNAPSHOT_NATIVE_FRAMES_H_
#define PYHANG_USERSPACE_SNAPSHOT_NATIVE_FRAMES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "userspace/native/unwinder.h"
#include "userspace/snapshot/snapshot.h"
#include "userspace/target/stack_copies.h"
#include "userspace/target/target.h"

namespace pyhang::snapshot {

using NativeStacks = absl::flat_hash_map<int64_t, std::vector<python::PyFrame>>;

// nullptr (and a warning) if libdwfl cannot be set up for the target.
std::unique_ptr<native::Unwinder> NewUnwinder(target::Target& target, size_t max_depth,
                                              std::vector<std::string> debug_roots);

// Every thread's native stack, by tid; threads without registers (a live
// thread that was on CPU) have none.
NativeStacks UnwindAll(target::Target& target, native::Unwinder& unwinder);

// Python threads get their native frames merged in; threads that run no
// Python code are added with their native frames alone.
void MergeNativeStacks(ProcessSnapshot& snapshot, NativeStacks& native);

// The native stacks in `copies` of the live process `pid`, unwound (debug
// files as the target sees them first, then the host's).
NativeStacks UnwindCopies(pid_t pid, std::vector<target::StackCopy> copies, size_t max_depth);

// Fills each blocked thread's `kernel_stack` from /proc/PID/task/TID/stack
// (CAP_SYS_ADMIN: call it before dropping privileges; nothing for a thread
// that was on CPU or when the file cannot be read).
void ReadKernelStacks(pid_t pid, std::vector<target::StackCopy>& copies);

// `pyhang dump --pid PID --native`: the live snapshot, with native frames
// unwound from `copies` (every thread's registers and stack top, copied at
// one instant without stopping the process: sampler::CopyNativeStacks).
// Threads that were on CPU get no native frames.
absl::StatusOr<ProcessSnapshot> TakeLiveNativeSnapshot(pid_t pid, const SnapshotOptions& options,
                                                       std::vector<target::StackCopy> copies);

}  // namespace pyhang::snapshot

#endif  // PYHANG_USERSPACE_SNAPSHOT_NATIVE_FRAMES_H_
