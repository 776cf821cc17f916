// Turns a stream of process observations into hang findings: a condition
// (a thread stuck on a lock, the GIL, I/O, in a Python busy loop or a
// native loop; a deadlock cycle) that has lasted --hang-threshold seconds
// becomes a finding with its evidence, and ends when the condition clears.
#ifndef PYHANG_USERSPACE_ANALYSIS_HANG_DETECTOR_H_
#define PYHANG_USERSPACE_ANALYSIS_HANG_DETECTOR_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "userspace/analysis/finding.h"
#include "userspace/analysis/observation.h"

namespace pyhang::analysis {

struct HangOptions {
  double threshold_s = 5.0;
  // A loop never blocks by itself: it is running (or runnable) or waiting
  // for the GIL in at least this share of the looks. This, rather than CPU
  // time, is "on CPU >= 90%": on a loaded machine a spinning thread waits
  // for a CPU too, and two spinning threads share the GIL.
  double loop_active_fraction = 0.9;
  // A loop also gets at least this much CPU (a thread starving for the GIL
  // is active but gets none).
  double loop_min_cpu_fraction = 0.2;
  // A retry loop came back to the same handler, having run in between, at
  // least this many times within its streak.
  uint64_t retry_min_rounds = 2;
  size_t max_loop_lines = 16;      // a busy loop spans at most this many lines
};

// Deadlock findings (one per cycle in the wait-for graph) among the
// threads of one observation; `stuck` says which threads may take part.
std::vector<Finding> FindDeadlocks(const ProcessObservation& observation,
                                   const std::function<bool(const ThreadObservation&)>& stuck);

class HangDetector {
 public:
  explicit HangDetector(const HangOptions& options) : options_(options) {}

  // Feeds one observation; returns findings that started or ended.
  std::vector<FindingEvent> Observe(const ProcessObservation& observation);
  // Ends every open finding (the process exited, the user stopped watching).
  std::vector<FindingEvent> EndAll(uint64_t now_ns, const std::string& reason);

  // Open findings, oldest first.
  std::vector<const Finding*> OpenFindings() const;
  // The thread's state with what the detector knows on top of the kernel:
  // deadlock, busy_loop, native_loop, idle.
  threads::ThreadState StateOf(int64_t tid) const;

 private:
  static constexpr size_t kMaxTicksPerThread = 2048;
  static constexpr int kLooksToClear = 2;  // looks without the condition that end a finding
  // One observation of one thread, reduced to what conditions compare.
  struct Tick {
    uint64_t time_ns = 0;
    uint64_t cpu_ns = 0;
    uint64_t stack = 0;   // code + instruction of every frame
    uint64_t shape = 0;   // code of every frame, instructions of all but the innermost
    uint64_t progress = 0;
    bool active = false;  // running or waiting for the GIL: not blocked by choice
    std::string innermost_line;  // "file:line"
  };
  // What the detector remembers about a thread between observations.
  struct Track {
    std::deque<Tick> ticks;          // the last two thresholds (and one tick more)
    std::string blocked_key;         // current blocked condition, "" if none
    uint64_t blocked_since_ns = 0;
    uint64_t loop_shape = 0;         // current running streak's shape
    uint64_t loop_since_ns = 0;
    // Retry streak: looks at which the thread was inside a handler of the
    // same exception type, at most kLooksToClear - 1 looks in a row missed.
    std::string retry_type;          // "" if none
    uint64_t retry_since_ns = 0;
    uint64_t retry_rounds = 0;       // looks that found it back there having run since the last
    int retry_misses = 0;
    // What the latest look inside the handler saw: a finding may come due
    // at a look that caught the thread between handlers, in the failing call.
    std::optional<python::HandledException> retry_handling;
    std::string retry_where;
    threads::ThreadState state = threads::ThreadState::kUnknown;
  };
  struct Candidate {
    Finding finding;
    bool ready = false;  // lasted long enough to report
  };

  static Tick MakeTick(const ThreadObservation& thread, uint64_t now_ns);
  void UpdateTrack(const ThreadObservation& thread, uint64_t now_ns);
  // The blocked condition the thread is in, and since when.
  static void UpdateBlockedStreak(const ThreadObservation& thread, bool same_stack_as_before,
                                  uint64_t now_ns, Track* track);
  // The running streak in the same frames that a loop finding is judged on.
  static void UpdateLoopStreak(const ThreadObservation& thread, const Tick& tick, uint64_t now_ns,
                               Track* track);
  // The looks of `track` in the last threshold (at least two, and none
  // before `since_ns`), which conditions are judged on; empty if too few.
  std::vector<const Tick*> RecentTicks(const Track& track, uint64_t since_ns, uint64_t now_ns) const;
  // CPU share over `ticks` (their first tick starts the interval).
  static double CpuFraction(const std::vector<const Tick*>& ticks, uint64_t now_ns);
  using WaitEdges = absl::flat_hash_map<int64_t, CycleEdge>;  // by waiting tid
  void AddBlockedCandidate(const ProcessObservation& observation, const ThreadObservation& thread,
                           const WaitEdges& wait_edges, std::vector<Candidate>* out);
  // The handler the thread keeps coming back to (retry_loop).
  static void UpdateRetryStreak(const ThreadObservation& thread, uint64_t now_ns, Track* track);
  void AddLoopCandidate(const ThreadObservation& thread, uint64_t now_ns, std::vector<Candidate>* out);
  void AddRetryCandidate(const ThreadObservation& thread, uint64_t now_ns, std::vector<Candidate>* out);
  void AddDeadlockCandidates(const ProcessObservation& observation, std::vector<Candidate>* out,
                             absl::flat_hash_set<int64_t>* deadlocked);
  std::vector<FindingEvent> Reconcile(std::vector<Candidate> candidates, uint64_t now_ns,
                                      const absl::flat_hash_set<int64_t>& alive,
                                      const absl::flat_hash_set<int64_t>& deadlocked);
  uint64_t ThresholdNs() const { return static_cast<uint64_t>(options_.threshold_s * 1e9); }
  // Whether a condition that began at `since_ns` with this key is worth
  // building a finding for: it can be reported now, or it is already open.
  bool Wanted(const std::string& key, uint64_t since_ns, uint64_t now_ns) const {
    return now_ns - since_ns >= ThresholdNs() || open_.contains(key);
  }

  HangOptions options_;
  absl::flat_hash_map<int64_t, Track> tracks_;
  absl::flat_hash_map<std::string, Finding> open_;  // by key
  // Open findings whose condition was not seen at the last looks, by key.
  absl::flat_hash_map<std::string, int> absent_looks_;
  uint64_t next_id_ = 1;
};

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_HANG_DETECTOR_H_
