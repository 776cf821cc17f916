// Interpreters and their thread states, the GIL, and thread names as the
// threading module knows them.
#ifndef PYHANG_USERSPACE_PYTHON_THREAD_LIST_H_
#define PYHANG_USERSPACE_PYTHON_THREAD_LIST_H_

#include "absl/strings/string_view.h"
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/python/objects.h"
#include "userspace/python/runtime_info.h"

namespace pyhang::python {

struct ThreadStateRecord {
  uint64_t address = 0;
  uint64_t interp = 0;
  int64_t interpreter_id = 0;
  uint64_t thread_id = 0;         // pthread_self()
  int64_t native_thread_id = 0;   // OS tid (3.11+), else 0
  bool holds_gil = false;
};

struct GilState {
  uint64_t address = 0;  // struct _gil_runtime_state in the target
  bool locked = false;
  uint64_t holder = 0;   // tstate holding it, 0 if free
  uint64_t switch_number = 0;
};

class ThreadList {
 public:
  static constexpr size_t kMaxInterpreters = 256;
  // Past this many thread states a list is cut (and *cut says so): a
  // process of 10,000 threads is read whole.
  static constexpr size_t kMaxThreads = 1 << 16;

  ThreadList(ObjectReader& objects, const RuntimeInfo& runtime)
      : objects_(objects), runtime_(runtime) {}

  // Every thread state of every interpreter. Stops a list at a cycle, a
  // broken back-pointer or the caps; fails only if the target is gone or
  // the runtime has no interpreter yet. `cut`, if given, tells whether the
  // kMaxThreads cap left thread states out.
  absl::StatusOr<std::vector<ThreadStateRecord>> ListThreadStates(bool* cut = nullptr);

  absl::StatusOr<std::vector<uint64_t>> ListInterpreters();
  absl::StatusOr<GilState> ReadGil(uint64_t interp);

  // threading._active of an interpreter: pthread ident -> Thread.name.
  absl::StatusOr<absl::flat_hash_map<uint64_t, std::string>> ThreadNames(uint64_t interp);

 private:
  absl::Status AppendThreads(uint64_t interp, std::vector<ThreadStateRecord>* out, bool* cut);
  bool HoldsGil(absl::string_view tstate_bytes, uint64_t tstate, const GilState& gil) const;
  size_t TstateReadSize() const;

  ObjectReader& objects_;
  const RuntimeInfo& runtime_;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_THREAD_LIST_H_
