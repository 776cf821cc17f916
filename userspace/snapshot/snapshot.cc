#include "userspace/snapshot/snapshot.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/memory/cached_reader.h"
#include "userspace/memory/process_reader.h"

namespace pyhang::snapshot {
namespace {

constexpr size_t kCachePages = 16384;  // 64 MiB worst case, far above a real dump

absl::Status Exited(pid_t pid) {
  return absl::UnavailableError(absl::StrCat("process ", pid, " exited during the dump"));
}

void ClassifyThreads(pid_t pid, const threads::GilRange& gil, ProcessSnapshot* snapshot) {
  for (ThreadSnapshot& thread : snapshot->threads) {
    if (thread.python.tid == 0) {
      thread.verdict = {threads::ThreadState::kUnknown, "OS thread not identified", 0};
      continue;
    }
    absl::StatusOr<threads::KernelThread> kernel = threads::ReadKernelThread(pid, thread.python.tid);
    if (!kernel.ok()) {
      thread.verdict = {threads::ThreadState::kUnknown, "thread exited", 0};
      continue;
    }
    thread.kernel = *std::move(kernel);
    thread.verdict = threads::ClassifyKernelThread(*thread.kernel, gil);
  }
}

}  // namespace

threads::GilRange GilRangeOf(python::Decoder& decoder) {
  absl::StatusOr<std::vector<uint64_t>> interpreters = decoder.thread_list().ListInterpreters();
  if (!interpreters.ok() || interpreters->empty()) return {};
  absl::StatusOr<python::GilState> gil = decoder.thread_list().ReadGil(interpreters->front());
  if (!gil.ok()) return {};
  return threads::GilRange{gil->address,
                           static_cast<uint64_t>(decoder.runtime().offsets.gil_size)};
}

absl::StatusOr<ProcessSnapshot> TakeSnapshot(pid_t pid, const SnapshotOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<memory::ProcessReader> live, memory::ProcessReader::Create(pid));
  memory::CachedReader reader(*live, kCachePages);
  absl::StatusOr<python::PythonProcess> process = python::AttachToPython(pid, reader);
  if (!process.ok()) {
    if (memory::IsTargetGone(process.status())) return Exited(pid);
    return process.status();
  }
  for (const std::string& warning : process->warnings) LOG_WARNING(warning);

  ProcessSnapshot snapshot;
  snapshot.pid = pid;
  snapshot.comm = process->comm;
  snapshot.command_line = process->command_line;
  snapshot.executable = process->executable;
  snapshot.python_binary = process->binary.target_path;
  snapshot.version = process->runtime.version;
  snapshot.warnings = process->warnings;

  absl::StatusOr<std::vector<int64_t>> tasks = threads::ListTasks(pid);
  if (!tasks.ok()) return Exited(pid);
  absl::flat_hash_set<int64_t> task_set(tasks->begin(), tasks->end());

  python::Decoder decoder(reader, process->runtime);
  absl::StatusOr<std::vector<python::PyThread>> python_threads =
      decoder.ReadThreads(options.decode, task_set);
  if (!python_threads.ok()) {
    if (memory::IsTargetGone(python_threads.status())) return Exited(pid);
    return absl::Status(python_threads.status().code(),
                        absl::StrCat("process ", pid, ": ", python_threads.status().message()));
  }
  for (python::PyThread& thread : *python_threads) {
    snapshot.threads.push_back(ThreadSnapshot{std::move(thread), std::nullopt, {}});
  }
  size_t identified = 0;
  for (const ThreadSnapshot& thread : snapshot.threads) identified += task_set.contains(thread.python.tid);
  snapshot.native_only_threads = task_set.size() - std::min(identified, task_set.size());
  ClassifyThreads(pid, GilRangeOf(decoder), &snapshot);
  if (threads::ListTasks(pid).status().code() == absl::StatusCode::kNotFound) return Exited(pid);
  return snapshot;
}

}  // namespace pyhang::snapshot
