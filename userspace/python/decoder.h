// The shared decoder: target memory in, Python threads and frames out.
// It reads only through a MemoryReader, so the same code serves a live
// process, a core file, or a captured image.
#ifndef PYHANG_USERSPACE_PYTHON_DECODER_H_
#define PYHANG_USERSPACE_PYTHON_DECODER_H_

#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/python/code_cache.h"
#include "userspace/python/frame_walker.h"
#include "userspace/python/objects.h"
#include "userspace/python/runtime_info.h"
#include "userspace/python/stack.h"
#include "userspace/python/thread_list.h"

namespace pyhang::python {

// The target's OS threads by the ids the target itself uses (its pid
// namespace: what native_thread_id and glibc's struct pthread hold),
// each with the host's id for it. Outside containers both are the same.
// Where the threads' pthread ids are known (a core's fs bases), they match
// thread states to threads exactly, before any tid is compared.
struct TaskIds {
  absl::flat_hash_map<int64_t, int64_t> host_tid_of;  // namespace tid -> host tid
  absl::flat_hash_map<uint64_t, int64_t> tid_of_pthread;  // pthread_self() -> host tid
};

struct DecodeOptions {
  WalkLimits walk;
  bool locals = false;
  bool globals = false;  // the module-level names each frame's code reads
  ReprLimits repr;
  bool thread_names = true;
  // The exception each thread is handling (PyThread::handling).
  bool exceptions = false;
};

class Decoder {
 public:
  Decoder(memory::MemoryReader& reader, const RuntimeInfo& runtime);

  // Every Python thread with its stack. `tasks` (the OS threads of the
  // target) turns the target's thread ids into host tids and lets pre-3.11
  // thread states be matched to OS threads at all; a thread whose OS thread
  // is not in `tasks` gets tid 0. Empty `tasks`: ids are taken as they are. Fails only if the target vanished or has
  // no initialized runtime; per-thread problems end up in
  // PyThread::walk_error.
  absl::StatusOr<std::vector<PyThread>> ReadThreads(const DecodeOptions& options,
                                                    const TaskIds& tasks);

  // The pieces ReadThreads is made of, for samplers that need less:
  // thread states with ids, tids and GIL ownership but no frames or names
  // (`cut`: ThreadList's cap left some out);
  absl::StatusOr<std::vector<PyThread>> ListThreads(const TaskIds& tasks, bool* cut = nullptr);
  // the stack of one thread state (fills frames, truncated, walk_error,
  // and with DecodeOptions::exceptions, handling);
  absl::Status ReadStack(uint64_t tstate, const DecodeOptions& options, PyThread* thread);
  // threading's names of all interpreters' threads, by pthread id.
  absl::flat_hash_map<uint64_t, std::string> ReadThreadNames();

  ObjectReader& objects() { return objects_; }
  CodeCache& codes() { return codes_; }
  FrameWalker& walker() { return walker_; }
  ThreadList& thread_list() { return thread_list_; }
  const RuntimeInfo& runtime() const { return runtime_; }

 private:
  absl::Status FillTidsFromPthreads(std::vector<PyThread>& threads, const TaskIds& tasks);

  const RuntimeInfo& runtime_;
  ObjectReader objects_;
  CodeCache codes_;
  FrameWalker walker_;
  ThreadList thread_list_;
  std::optional<int32_t> pthread_tid_offset_;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_DECODER_H_
