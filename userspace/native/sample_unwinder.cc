#include "userspace/native/sample_unwinder.h"

#include "userspace/common/clock.h"
#include "userspace/common/status_macros.h"

namespace pyhang::native {
namespace {

constexpr uint64_t kMinRebuildIntervalNs = 1'000'000'000;

}  // namespace

absl::StatusOr<std::unique_ptr<SampleUnwinder>> SampleUnwinder::Create(pid_t pid,
                                                                       const UnwindOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<target::LiveProcess> live, target::LiveProcess::Open(pid));
  auto unwinder = std::unique_ptr<SampleUnwinder>(new SampleUnwinder(std::move(live), options));
  RETURN_IF_ERROR(unwinder->Rebuild());
  unwinder->stats_.rebuilds = 0;
  return unwinder;
}

SampleUnwinder::SampleUnwinder(std::unique_ptr<target::LiveProcess> live, const UnwindOptions& options)
    : live_(std::move(live)), copied_(*live_, {}), options_(options) {}

absl::Status SampleUnwinder::Rebuild() {
  ++stats_.rebuilds;
  // Every sample is unwound as the same (pseudo) thread, the process's
  // pid, so the session never needs to learn new threads.
  target::StackCopy placeholder;
  placeholder.tid = live_->pid();
  copied_.Replace({placeholder});
  ASSIGN_OR_RETURN(std::vector<process::MemoryMap> maps, live_->Maps());
  ASSIGN_OR_RETURN(unwinder_, Unwinder::Create(copied_, options_));
  known_files_.clear();
  for (const process::MemoryMap& map : maps) {
    if (map.IsFile()) known_files_.insert(map.path);
  }
  return absl::OkStatus();
}

bool SampleUnwinder::InNewFile(uint64_t pc) {
  const uint64_t now = MonotonicNowNs();
  if (now - checked_ns_ < kMinRebuildIntervalNs) return false;
  checked_ns_ = now;
  absl::StatusOr<std::vector<process::MemoryMap>> maps = live_->Maps();
  if (!maps.ok()) return false;
  for (const process::MemoryMap& map : *maps) {
    if (map.Contains(pc)) return map.IsFile() && !known_files_.contains(map.path);
  }
  return false;
}

std::vector<python::PyFrame> SampleUnwinder::Unwind(target::StackCopy copy) {
  const uint64_t pc = copy.registers.rip;
  copy.tid = live_->pid();
  copy.on_cpu = false;  // the registers are the sample's own
  if (!unwinder_->Covers(pc) && InNewFile(pc)) {
    // Code in a file mapped since the session was built: learn it. On
    // failure the old session goes on (its frames end where it ends).
    std::unique_ptr<Unwinder> old = std::move(unwinder_);
    if (!Rebuild().ok()) unwinder_ = std::move(old);
  }
  copied_.Replace({std::move(copy)});
  absl::StatusOr<std::vector<python::PyFrame>> frames = unwinder_->Unwind(live_->pid());
  ++stats_.unwinds;
  if (!frames.ok()) return {};
  if (ReachesThreadRoot(*frames)) ++stats_.to_root;
  return *std::move(frames);
}

}  // namespace pyhang::native
