#include "userspace/python/decoder.h"

#include "absl/container/flat_hash_map.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/python/exception_reader.h"
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
  thread->frames.reserve(walk.frames.size());
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
    if (options.globals) {
      absl::Status status = walker_.ReadGlobals(raw, &*frame, options.repr);
      if (memory::IsTargetGone(status)) return status;
      if (!status.ok()) LOG_DEBUG("globals of ", frame->qualname, ": ", status.message());
    }
    thread->frames.push_back(*std::move(frame));
  }
  if (options.exceptions) {
    absl::StatusOr<std::optional<HandledException>> handling =
        ExceptionReader(objects_, options.repr).Read(tstate);
    if (memory::IsTargetGone(handling.status())) return handling.status();
    if (handling.ok()) {
      thread->handling = *std::move(handling);
    } else {
      LOG_DEBUG("exception of thread state ", tstate, ": ", handling.status().message());
    }
  }
  return absl::OkStatus();
}

absl::flat_hash_map<uint64_t, std::string> Decoder::ReadThreadNames() {
  absl::flat_hash_map<uint64_t, std::string> names;
  absl::StatusOr<std::vector<uint64_t>> interpreters = thread_list_.ListInterpreters();
  if (!interpreters.ok()) return names;
  for (uint64_t interp : *interpreters) {
    absl::StatusOr<absl::flat_hash_map<uint64_t, std::string>> found = thread_list_.ThreadNames(interp);
    if (!found.ok()) {
      LOG_DEBUG("thread names: ", found.status().message());
      continue;
    }
    names.insert(found->begin(), found->end());
  }
  return names;
}

absl::Status Decoder::FillTidsFromPthreads(std::vector<PyThread>& threads, const TaskIds& tasks) {
  std::vector<uint64_t> pthreads;
  for (const PyThread& thread : threads) {
    if (thread.ns_tid == 0 && thread.thread_id != 0) pthreads.push_back(thread.thread_id);
  }
  if (pthreads.empty() || tasks.host_tid_of.empty()) return absl::OkStatus();
  if (!pthread_tid_offset_) {
    // struct pthread holds the tid as the target sees it.
    absl::flat_hash_set<int64_t> ns_tids;
    for (const auto& [ns_tid, host_tid] : tasks.host_tid_of) ns_tids.insert(ns_tid);
    ASSIGN_OR_RETURN(pthread_tid_offset_,
                     FindPthreadTidOffset(objects_.reader(), pthreads, ns_tids));
    if (!pthread_tid_offset_) {
      LOG_DEBUG("could not find the tid inside struct pthread");
      return absl::OkStatus();
    }
  }
  for (PyThread& thread : threads) {
    if (thread.ns_tid != 0 || thread.thread_id == 0) continue;
    absl::StatusOr<int32_t> tid =
        memory::ReadValue<int32_t>(objects_.reader(), thread.thread_id + *pthread_tid_offset_);
    if (tid.ok() && tasks.host_tid_of.contains(*tid)) thread.ns_tid = *tid;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PyThread>> Decoder::ListThreads(const TaskIds& tasks, bool* cut) {
  ASSIGN_OR_RETURN(std::vector<ThreadStateRecord> records, thread_list_.ListThreadStates(cut));
  std::vector<PyThread> threads(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    threads[i].tstate_address = records[i].address;
    threads[i].interpreter_id = records[i].interpreter_id;
    threads[i].thread_id = records[i].thread_id;
    threads[i].ns_tid = records[i].native_thread_id;
    threads[i].holds_gil = records[i].holds_gil;
  }
  RETURN_IF_ERROR(FillTidsFromPthreads(threads, tasks));
  for (PyThread& thread : threads) {
    if (auto known = tasks.tid_of_pthread.find(thread.thread_id); known != tasks.tid_of_pthread.end()) {
      thread.tid = known->second;
      continue;
    }
    if (tasks.host_tid_of.empty()) {  // unknown: take the target's ids as they are
      thread.tid = thread.ns_tid;
      continue;
    }
    auto host = tasks.host_tid_of.find(thread.ns_tid);
    thread.tid = host != tasks.host_tid_of.end() ? host->second : 0;
  }
  return threads;
}

absl::StatusOr<std::vector<PyThread>> Decoder::ReadThreads(const DecodeOptions& options,
                                                           const TaskIds& tasks) {
  ASSIGN_OR_RETURN(std::vector<PyThread> threads, ListThreads(tasks));
  walker_.ForgetValues();  // module dicts and values change between looks
  for (PyThread& thread : threads) RETURN_IF_ERROR(ReadStack(thread.tstate_address, options, &thread));
  if (options.thread_names) {
    absl::flat_hash_map<uint64_t, std::string> names = ReadThreadNames();
    for (PyThread& thread : threads) {
      if (auto it = names.find(thread.thread_id); it != names.end()) thread.name = it->second;
    }
  }
  return threads;
}

}  // namespace pyhang::python
