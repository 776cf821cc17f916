// A hang finding: which threads, what kind, since when, and the evidence.
#ifndef PYHANG_USERSPACE_ANALYSIS_FINDING_H_
#define PYHANG_USERSPACE_ANALYSIS_FINDING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "userspace/analysis/observation.h"

namespace pyhang::analysis {

enum class FindingKind { kLockWait, kGilWait, kIoWait, kBusyLoop, kNativeLoop, kRetryLoop, kDeadlock };

// "lock_wait", ... exactly as in the JSON contract.
absl::string_view KindName(FindingKind kind);
absl::string_view EvidenceName(OwnershipEvidence evidence);

// One thread of a deadlock cycle: it waits for `lock`, which `held_by` holds.
struct CycleEdge {
  int64_t tid = 0;
  LockRef lock;
  int64_t held_by = 0;
  OwnershipEvidence how = OwnershipEvidence::kWithBlock;
  std::string where;  // where the holder holds it
};

struct Evidence {
  std::string summary;  // one line for people

  // lock_wait
  std::optional<LockRef> lock;
  int64_t owner_tid = 0;
  std::optional<OwnershipEvidence> owner_evidence;
  std::string owner_where;
  bool waits_for_notification = false;

  // gil_wait
  int64_t gil_holder_tid = 0;

  // io_wait
  std::optional<IoTarget> io;
  std::string blocking_call;  // "recvfrom on fd 5", "clock_nanosleep", ...

  // busy_loop / native_loop
  double cpu_fraction = 0;
  std::vector<std::string> loop_lines;  // "file:line", innermost frame
  std::vector<std::string> native_symbols;

  // deadlock
  std::vector<CycleEdge> cycle;

  // retry_loop: the exception it keeps handling, and how many looks found
  // it back in that handler having run since the look before (a lower
  // bound on the rounds it went).
  std::optional<python::HandledException> handling;
  uint64_t rounds = 0;
  std::string loop_where;  // the innermost frame: "connect (app.py:12)"

  // An asyncio event loop blocked inside a coroutine.
  bool asyncio_loop_stalled = false;
  std::vector<python::PyFrame> coroutine_frames;  // innermost first
};

struct Finding {
  uint64_t id = 0;
  FindingKind kind = FindingKind::kLockWait;
  std::vector<int64_t> tids;
  uint64_t since_ns = 0;     // when the condition began (CLOCK_MONOTONIC)
  uint64_t reported_ns = 0;  // when it was first reported
  std::vector<ThreadObservation> threads;  // the involved threads, latest observation
  Evidence evidence;
  std::string key;  // identity across observations

  double DurationSeconds(uint64_t now_ns) const {
    return now_ns > since_ns ? static_cast<double>(now_ns - since_ns) / 1e9 : 0.0;
  }
};

struct FindingEvent {
  bool started = true;  // false: the condition cleared
  Finding finding;
  uint64_t time_ns = 0;
  std::string end_reason;  // for ended findings
};

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_FINDING_H_
