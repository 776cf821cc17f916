#include "userspace/snapshot/native_frames.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/native/merge.h"
#include "userspace/target/live_process.h"
#include "userspace/threads/kernel_thread.h"

namespace pyhang::snapshot {

std::unique_ptr<native::Unwinder> NewUnwinder(target::Target& target, size_t max_depth,
                                              std::vector<std::string> debug_roots) {
  native::UnwindOptions unwind;
  unwind.max_depth = max_depth;
  unwind.debug_roots = std::move(debug_roots);
  absl::StatusOr<std::unique_ptr<native::Unwinder>> unwinder = native::Unwinder::Create(target, unwind);
  if (!unwinder.ok()) {
    LOG_WARNING("no native frames: ", unwinder.status().message());
    return nullptr;
  }
  return *std::move(unwinder);
}

NativeStacks UnwindAll(target::Target& target, native::Unwinder& unwinder) {
  NativeStacks stacks;
  absl::StatusOr<std::vector<target::ThreadIds>> threads = target.Threads();
  if (!threads.ok()) return stacks;
  for (const target::ThreadIds& thread : *threads) {
    if (target.ThreadRegisters(thread.tid) == nullptr) continue;
    absl::StatusOr<std::vector<python::PyFrame>> frames = unwinder.Unwind(thread.tid);
    if (frames.ok()) stacks[thread.tid] = *std::move(frames);
  }
  return stacks;
}

void MergeNativeStacks(ProcessSnapshot& snapshot, NativeStacks& native) {
  size_t inconsistent = 0;
  for (ThreadSnapshot& thread : snapshot.threads) {
    auto it = native.find(thread.thread.tid);
    if (it == native.end()) continue;
    native::MergedStack merged = native::MergeStacks(it->second, thread.thread.frames);
    if (!merged.consistent && !thread.thread.frames.empty()) ++inconsistent;
    thread.thread.frames = std::move(merged.frames);
    native.erase(it);
  }
  if (inconsistent > 0) {
    LOG_WARNING(inconsistent, " threads' native and Python stacks do not line up; "
                "their remaining Python frames are shown below the native ones");
  }
  std::vector<int64_t> others;
  for (const auto& [tid, frames] : native) others.push_back(tid);
  std::sort(others.begin(), others.end());
  for (int64_t tid : others) {
    ThreadSnapshot thread;
    thread.thread.tid = tid;
    thread.thread.frames = std::move(native[tid]);
    snapshot.threads.push_back(std::move(thread));
  }
  snapshot.native_only_threads -= std::min(snapshot.native_only_threads, others.size());
  snapshot.threads_not_read -= std::min(snapshot.threads_not_read, others.size());
}

NativeStacks UnwindCopies(pid_t pid, std::vector<target::StackCopy> copies, size_t max_depth) {
  absl::StatusOr<std::unique_ptr<target::LiveProcess>> live = target::LiveProcess::Open(pid);
  if (!live.ok()) return {};
  target::WithStackCopies copied(**live, std::move(copies));
  std::vector<std::string> debug_roots = {absl::StrCat("/proc/", pid, "/root/usr/lib/debug")};
  std::unique_ptr<native::Unwinder> unwinder = NewUnwinder(copied, max_depth, debug_roots);
  return unwinder ? UnwindAll(copied, *unwinder) : NativeStacks();
}

namespace {

using KernelStacks = absl::flat_hash_map<int64_t, std::vector<std::string>>;

KernelStacks TakeKernelStacks(std::vector<target::StackCopy>& copies) {
  KernelStacks stacks;
  for (target::StackCopy& copy : copies) {
    if (!copy.kernel_stack.empty()) stacks[copy.tid] = std::move(copy.kernel_stack);
  }
  return stacks;
}

// The kernel frames go above the thread's other frames: innermost first.
void AddKernelFrames(const KernelStacks& stacks, ProcessSnapshot& snapshot) {
  for (ThreadSnapshot& thread : snapshot.threads) {
    auto found = stacks.find(thread.thread.tid);
    if (thread.thread.tid == 0 || found == stacks.end()) continue;
    std::vector<python::PyFrame> kernel;
    for (const std::string& name : found->second) {
      python::PyFrame frame;
      frame.kind = python::FrameKind::kKernel;
      frame.function = name;
      kernel.push_back(std::move(frame));
    }
    thread.thread.frames.insert(thread.thread.frames.begin(), kernel.begin(), kernel.end());
  }
}

}  // namespace

void ReadKernelStacks(pid_t pid, std::vector<target::StackCopy>& copies) {
  for (target::StackCopy& copy : copies) {
    if (!copy.on_cpu) copy.kernel_stack = threads::ReadKernelStack(pid, copy.tid);
  }
}

absl::StatusOr<ProcessSnapshot> TakeLiveNativeSnapshot(pid_t pid, const SnapshotOptions& options,
                                                       std::vector<target::StackCopy> copies) {
  KernelStacks kernel = TakeKernelStacks(copies);
  NativeStacks native = UnwindCopies(pid, std::move(copies), options.max_depth);
  absl::StatusOr<ProcessSnapshot> snapshot = TakeSnapshot(pid, options);
  if (!snapshot.ok()) return snapshot;
  MergeNativeStacks(*snapshot, native);
  AddKernelFrames(kernel, *snapshot);
  return snapshot;
}

}  // namespace pyhang::snapshot
