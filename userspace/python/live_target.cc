#include "userspace/python/live_target.h"

#include "absl/strings/str_cat.h"
#include "userspace/common/status_macros.h"
#include "userspace/process/tasks.h"

namespace pyhang::python {

absl::Status ExitedError(pid_t pid) {
  return absl::UnavailableError(absl::StrCat("process ", pid, " exited"));
}

absl::StatusOr<std::unique_ptr<LiveTarget>> LiveTarget::Attach(pid_t pid, size_t cache_pages) {
  ASSIGN_OR_RETURN(std::unique_ptr<memory::ProcessReader> live, memory::ProcessReader::Create(pid));
  auto target = std::unique_ptr<LiveTarget>(new LiveTarget(std::move(live), cache_pages));
  ASSIGN_OR_RETURN(PythonProcess process, AttachToPython(pid, target->reader_));
  target->process_ = std::make_unique<PythonProcess>(std::move(process));
  target->decoder_ = std::make_unique<Decoder>(target->reader_, target->process_->runtime);
  return target;
}

void LiveTarget::Refresh() {
  reader_.Invalidate();
  decoder_->codes().BeginEpoch();
}

absl::StatusOr<LiveTarget::Threads> LiveTarget::ListThreads() {
  absl::StatusOr<std::vector<int64_t>> tasks = process::ListTasks(pid());
  if (!tasks.ok()) return ExitedError(pid());
  Threads threads;
  threads.tasks.insert(tasks->begin(), tasks->end());
  absl::StatusOr<std::vector<PyThread>> python = decoder_->ListThreads(threads.tasks);
  if (!python.ok()) return memory::IsTargetGone(python.status()) ? ExitedError(pid()) : python.status();
  threads.python = *std::move(python);
  return threads;
}

}  // namespace pyhang::python
