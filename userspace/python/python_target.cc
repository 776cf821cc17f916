#include "userspace/python/python_target.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"
#include "userspace/common/status_macros.h"
#include "userspace/target/live_process.h"

namespace pyhang::python {

absl::Status ExitedError(pid_t pid) {
  return absl::UnavailableError(absl::StrCat("process ", pid, " exited"));
}

absl::Status ExecedError(pid_t pid) {
  std::string program(absl::StripAsciiWhitespace(
      ReadFileToString(absl::StrCat("/proc/", pid, "/comm"), 64).value_or("")));
  return absl::UnavailableError(absl::StrCat("process ", pid, " exec'd another program",
                                             program.empty() ? "" : absl::StrCat(" (", program, ")")));
}

absl::StatusOr<std::unique_ptr<PythonTarget>> PythonTarget::Attach(
    std::unique_ptr<target::Target> target, size_t cache_pages) {
  auto attached = std::unique_ptr<PythonTarget>(new PythonTarget(std::move(target), cache_pages));
  ASSIGN_OR_RETURN(PythonProcess process, AttachToPython(*attached->target_, attached->reader_));
  attached->process_ = std::make_unique<PythonProcess>(std::move(process));
  attached->decoder_ = std::make_unique<Decoder>(attached->reader_, attached->process_->runtime);
  return attached;
}

absl::StatusOr<std::unique_ptr<PythonTarget>> PythonTarget::AttachLive(pid_t pid,
                                                                     size_t cache_pages) {
  ASSIGN_OR_RETURN(std::unique_ptr<target::LiveProcess> live, target::LiveProcess::Open(pid));
  return Attach(std::move(live), cache_pages);
}

void PythonTarget::Refresh() {
  reader_.Invalidate();
  decoder_->codes().BeginEpoch();
}

absl::StatusOr<PythonTarget::Threads> PythonTarget::ListThreads() {
  absl::StatusOr<std::vector<target::ThreadIds>> tasks = target_->Threads();
  if (!tasks.ok()) return ExitedError(pid());
  Threads threads;
  TaskIds ids;
  for (const target::ThreadIds& task : *tasks) {
    threads.tasks.insert(task.tid);
    ids.host_tid_of[task.ns_tid] = task.tid;
    if (task.thread_pointer != 0) ids.tid_of_pthread[task.thread_pointer] = task.tid;
  }
  absl::StatusOr<std::vector<PyThread>> python = decoder_->ListThreads(ids, &threads.python_cut);
  if (!python.ok()) return memory::IsTargetGone(python.status()) ? ExitedError(pid()) : python.status();
  threads.python = *std::move(python);
  return threads;
}

}  // namespace pyhang::python
