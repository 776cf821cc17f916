// Lock evidence read from the target's memory, no matter when pyhang
// attached:
//  - which lock a blocked thread waits for: the lock object on its newest
//    frame whose sem_t is the futex the kernel says it sleeps on (3.14+:
//    whose PyMutex says it is held with a parked waiter);
//  - who holds a lock: an RLock's owner field (certain); a bound __exit__
//    of the lock on a frame's value stack (a `with lock:` block); a Thread's
//    _tstate_lock (held by that thread while it runs, what join() waits
//    for); or, for bare acquire(), the one other thread whose code calls
//    acquire() and references the lock (an inference, marked as such).
#ifndef PYHANG_USERSPACE_ANALYSIS_LOCK_INSPECTOR_H_
#define PYHANG_USERSPACE_ANALYSIS_LOCK_INSPECTOR_H_

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "userspace/analysis/observation.h"
#include "userspace/python/decoder.h"

namespace pyhang::analysis {

class LockInspector {
 public:
  static constexpr size_t kMaxStackSlots = 512;
  static constexpr size_t kMaxFramesScanned = 64;  // per thread, innermost first

  explicit LockInspector(python::Decoder& decoder) : decoder_(decoder) {}

  // Fills waiting_for, waits_for_notification and holds of every thread
  // (whose frames, verdicts and thread ids are already set).
  void Inspect(std::vector<ThreadObservation>& threads);

 private:
  enum class LockKind { kNone, kLock, kRLock };
  // A lock seen in a frame: on the value stack (maybe as a bound method) or
  // among the fast locals.
  struct LockSighting {
    uint64_t lock = 0;
    LockKind kind = LockKind::kNone;
    bool bound_exit = false;  // the lock's __exit__, i.e. a `with` block is open
    bool from_locals = false;  // seen among the fast locals, not on the value stack
  };

  LockKind KindOf(uint64_t object);
  LockRef Ref(uint64_t lock, LockKind kind);
  std::vector<LockSighting> ScanFrame(const python::PyFrame& frame, bool locals_too);
  bool IsHeld(uint64_t lock, LockKind kind);
  bool HasParkedWaiter(uint64_t lock);
  bool OwnedBy(const LockSighting& sighting, const ThreadObservation& thread);
  bool IsExitDescriptorOf(uint64_t descriptor, uint64_t lock);
  void FindWaitedLock(ThreadObservation& thread);
  void AddWithBlockHolds(std::vector<ThreadObservation>& threads);
  void AddRLockOwners(std::vector<ThreadObservation>& threads, const absl::flat_hash_set<uint64_t>& rlocks);
  void AddThreadLockOwners(std::vector<ThreadObservation>& threads);
  void AddInferredHolds(std::vector<ThreadObservation>& threads);
  bool CallsAcquire(uint64_t code);
  std::vector<std::string> Names(uint64_t code);

  python::Decoder& decoder_;
  absl::flat_hash_map<uint64_t, LockKind> kinds_by_type_;
  absl::flat_hash_map<uint64_t, std::vector<std::string>> names_by_code_;
  // Locks seen during the current Inspect() and their kind.
  absl::flat_hash_map<uint64_t, LockKind> seen_;
};

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_LOCK_INSPECTOR_H_
