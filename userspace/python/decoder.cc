#include "userspace/python/decoder.h"

#include "absl/container/flat_hash_map.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/python/native_tid.h"

namespace pyhang::python {

Decoder::Decoder(memory::MemoryReader& reader, const RuntimeInfo& runtime)
    : runtime_(runtime),
      objects_(reader, runtime.offsets, runtime.types),
      codes_(objects_, runtime),
      walker_(objects_, codes_, runtime),
      thread_list_(objects_, runtime) {}

absl::Status Decoder::ReadStack(uint64_t tstate, const DecodeOptions& options, PyThread* thread) {
  absl::StatusOr<uint64_t> top = walker_.TopFrame(tstate);
  if (!top.ok()) {
    if (memory::IsTargetGone(top.status())) return top.status();
    thread->walk_error = std::string(top.status().message());
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(RawWalk walk, walker_.WalkRaw(*top, options.walk));
  thread->truncated = walk.truncated;
  thread->walk_error = walk.error;
  for (const RawFrame& raw : walk.frames) {
    absl::StatusOr<PyFrame> frame = walker_.Symbolize(raw);
    if (!frame.ok()) {
      if (memory::IsTargetGone(frame.status())) return frame.status();
      thread->walk_error = std::string(frame.status().message());
      break;
    }
    if (options.locals) {
      absl::Status status = walker_.ReadLocals(raw, &*frame, options.repr);
      if (memory::IsTargetGone(status)) return status;
      if (!status.ok()) LOG_DEBUG("locals of ", frame->qualname, ": ", status.message());
    }
    thread->frames.push_back(*std::move(frame));
  }
  return absl::OkStatus();
}

void Decoder::FillNames(const std::vector<ThreadStateRecord>& records,
                        std::vector<PyThread>& threads) {
  absl::flat_hash_map<uint64_t, absl::flat_hash_map<uint64_t, std::string>> by_interp;
  for (const ThreadStateRecord& record : records) {
    if (by_interp.contains(record.interp)) continue;
    absl::StatusOr<absl::flat_hash_map<uint64_t, std::string>> names =
        thread_list_.ThreadNames(record.interp);
    if (!names.ok()) LOG_DEBUG("thread names: ", names.status().message());
    by_interp[record.interp] = names.ok() ? *std::move(names) : decltype(by_interp)::mapped_type{};
  }
  for (size_t i = 0; i < threads.size(); ++i) {
    const auto& names = by_interp[records[i].interp];
    if (auto it = names.find(threads[i].thread_id); it != names.end()) threads[i].name = it->second;
  }
}

absl::Status Decoder::FillTidsFromPthreads(std::vector<PyThread>& threads,
                                           const absl::flat_hash_set<int64_t>& task_tids) {
  std::vector<uint64_t> pthreads;
  for (const PyThread& thread : threads) {
    if (thread.tid == 0 && thread.thread_id != 0) pthreads.push_back(thread.thread_id);
  }
  if (pthreads.empty() || task_tids.empty()) return absl::OkStatus();
  if (!pthread_tid_offset_) {
    ASSIGN_OR_RETURN(pthread_tid_offset_,
                     FindPthreadTidOffset(objects_.reader(), pthreads, task_tids));
    if (!pthread_tid_offset_) {
      LOG_DEBUG("could not find the tid inside struct pthread");
      return absl::OkStatus();
    }
  }
  for (PyThread& thread : threads) {
    if (thread.tid != 0 || thread.thread_id == 0) continue;
    absl::StatusOr<int32_t> tid =
        memory::ReadValue<int32_t>(objects_.reader(), thread.thread_id + *pthread_tid_offset_);
    if (tid.ok() && task_tids.contains(*tid)) thread.tid = *tid;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PyThread>> Decoder::ReadThreads(
    const DecodeOptions& options, const absl::flat_hash_set<int64_t>& task_tids) {
  ASSIGN_OR_RETURN(std::vector<ThreadStateRecord> records, thread_list_.ListThreadStates());
  std::vector<PyThread> threads(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    PyThread& thread = threads[i];
    thread.tstate_address = records[i].address;
    thread.interpreter_id = records[i].interpreter_id;
    thread.thread_id = records[i].thread_id;
    thread.tid = records[i].native_thread_id;
    thread.holds_gil = records[i].holds_gil;
    RETURN_IF_ERROR(ReadStack(records[i].address, options, &thread));
  }
  if (options.thread_names) FillNames(records, threads);
  RETURN_IF_ERROR(FillTidsFromPthreads(threads, task_tids));
  return threads;
}

}  // namespace pyhang::python
