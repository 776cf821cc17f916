// What the hang detector sees of a process at one instant: for every
// thread, its kernel state, CPU use since the last look, Python stack, and
// lock evidence. Produced by the Monitor (analysis/monitor.h) from /proc,
// the decoder and, when available, BPF.
#ifndef PYHANG_USERSPACE_ANALYSIS_OBSERVATION_H_
#define PYHANG_USERSPACE_ANALYSIS_OBSERVATION_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "userspace/python/stack.h"
#include "userspace/threads/thread_state.h"

namespace pyhang::analysis {

// A lock object in the target.
struct LockRef {
  uint64_t address = 0;     // the Python lock object, 0 if only the futex is known
  std::string type;         // "_thread.lock", "_thread.RLock", "" if unknown
  uint64_t futex = 0;       // address the kernel wait is on (the lock's sem_t)
  bool operator==(const LockRef& other) const {
    return address == other.address && futex == other.futex;
  }
};

// How a thread's hold on a lock is known.
enum class OwnershipEvidence {
  kRLockOwner,     // _thread.RLock records its owner's thread id: certain
  kWithBlock,      // the lock's bound __exit__ is on a frame's value stack
  kThreadStarted,  // a Thread's _tstate_lock, held by that thread while it runs
  kAcquireInCode,  // inferred: a frame that calls acquire() references the lock
};

struct HeldLock {
  LockRef lock;
  OwnershipEvidence evidence = OwnershipEvidence::kWithBlock;
  std::string where;  // e.g. "transfer (bank.py:19)"
};

// Where an io_wait thread waits: the file descriptor and what it is.
struct IoTarget {
  int fd = -1;
  std::string description;  // "TCP 127.0.0.1:40000 -> 127.0.0.1:8080", "pipe", ...
};

struct ThreadObservation {
  int64_t tid = 0;     // as the host sees it
  int64_t ns_tid = 0;  // as the target sees it (differs inside a pid namespace)
  std::string name;
  uint64_t thread_id = 0;  // pthread id
  threads::StateVerdict verdict;
  // CLOCK_MONOTONIC time the thread last ran, if the kernel tells (for a
  // blocked thread: when it blocked); 0 if unknown.
  uint64_t blocked_since_ns = 0;
  bool holds_gil = false;
  std::optional<python::HandledException> handling;  // the exception it is handling
  uint64_t cpu_ns = 0;  // CPU time used since the previous observation
  std::vector<python::PyFrame> frames;  // innermost first
  bool truncated = false;               // the walk stopped at the depth cap
  std::string walk_error;               // why the walk ended early, if it did
  int64_t interpreter_id = 0;
  // Changes whenever the thread makes Python-level progress: the innermost
  // frame's instruction and its locals' identities.
  uint64_t progress_fingerprint = 0;
  std::optional<LockRef> waiting_for;     // the lock a lock_wait thread blocks on
  bool waits_for_notification = false;    // Condition.wait(): no owner to find
  std::vector<HeldLock> holds;
  std::optional<IoTarget> io;
  std::vector<std::string> native_symbols;  // seen on CPU since the last look (BPF)
};

struct ProcessObservation {
  pid_t pid = 0;
  pid_t ns_pid = 0;  // the pid in the target's own pid namespace
  uint64_t time_ns = 0;       // CLOCK_MONOTONIC
  uint64_t interval_ns = 0;   // since the previous observation (0 for the first)
  int64_t gil_holder_tid = 0;
  size_t os_threads = 0;  // all OS threads, with or without Python
  // Python threads whose OS thread could not be found (left out of
  // `threads`): nonzero means the tid lookup failed for this build.
  size_t python_threads_without_tid = 0;
  // The Python thread list was longer than pyhang reads (ThreadList's cap):
  // OS threads beyond `threads` may run Python code too.
  bool python_threads_cut = false;
  std::vector<ThreadObservation> threads;
};

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_OBSERVATION_H_
