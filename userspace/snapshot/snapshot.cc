#include "userspace/snapshot/snapshot.h"

#include "absl/strings/str_cat.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "userspace/analysis/hang_detector.h"
#include "userspace/analysis/idle_patterns.h"
#include "userspace/analysis/monitor.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::snapshot {
namespace {

absl::Status Exited(pid_t pid) {
  return absl::UnavailableError(absl::StrCat("process ", pid, " exited during the dump"));
}

// A lock among the locals or globals that some thread is known to hold
// gets that thread's tid, so dump can say who holds it.
void MarkHeldLocks(ProcessSnapshot& snapshot) {
  absl::flat_hash_map<uint64_t, int64_t> holder_of;
  for (const ThreadSnapshot& entry : snapshot.threads) {
    for (const analysis::HeldLock& held : entry.thread.holds) {
      if (held.lock.address != 0) holder_of.emplace(held.lock.address, entry.thread.tid);
    }
  }
  if (holder_of.empty()) return;
  for (ThreadSnapshot& entry : snapshot.threads) {
    for (python::PyFrame& frame : entry.thread.frames) {
      for (auto* names : {&frame.locals, &frame.globals}) {
        for (python::LocalVariable& variable : *names) {
          if (auto it = holder_of.find(variable.address); it != holder_of.end()) variable.held_by = it->second;
        }
      }
    }
  }
}

analysis::MonitorOptions MonitorOptionsFor(const SnapshotOptions& options) {
  analysis::MonitorOptions monitor_options;
  monitor_options.max_depth = options.max_depth;
  monitor_options.locals = options.locals;
  monitor_options.globals = options.globals;
  monitor_options.repr = options.repr;
  monitor_options.timings = false;  // one look: no durations, no CPU deltas
  return monitor_options;
}

absl::StatusOr<ProcessSnapshot> Snapshot(analysis::Monitor& monitor) {
  const pid_t pid = monitor.pid();
  const python::PythonProcess& process = monitor.process();
  for (const std::string& warning : process.warnings) LOG_WARNING(warning);

  absl::StatusOr<analysis::ProcessObservation> observation = monitor.Observe();
  if (!observation.ok()) {
    if (memory::IsTargetGone(observation.status())) return Exited(pid);
    return absl::Status(observation.status().code(),
                        absl::StrCat("process ", pid, ": ", observation.status().message()));
  }
  ProcessSnapshot snapshot;
  snapshot.pid = pid;
  snapshot.ns_pid = process.ns_pid;
  snapshot.comm = process.comm;
  snapshot.command_line = process.command_line;
  snapshot.executable = process.executable;
  snapshot.python_binary = process.binary.target_path;
  snapshot.version = process.runtime.version;
  snapshot.warnings = process.warnings;
  size_t others = observation->os_threads - std::min(observation->os_threads, observation->threads.size());
  (observation->python_threads_cut ? snapshot.threads_not_read : snapshot.native_only_threads) = others;
  if (observation->python_threads_without_tid > 0) {
    LOG_WARNING(observation->python_threads_without_tid,
                " Python threads are not shown: their OS threads could not be found");
  }

  // A cycle in the wait-for graph is a deadlock whenever it is seen.
  auto stuck = [](const analysis::ThreadObservation& thread) {
    return thread.verdict.state == threads::ThreadState::kLockWait && !thread.verdict.timed;
  };
  snapshot.deadlocks = analysis::FindDeadlocks(*observation, stuck);
  absl::flat_hash_set<int64_t> deadlocked;
  for (const analysis::Finding& deadlock : snapshot.deadlocks) deadlocked.insert(deadlock.tids.begin(), deadlock.tids.end());
  for (analysis::ThreadObservation& thread : observation->threads) {
    threads::ThreadState state = deadlocked.contains(thread.tid) ? threads::ThreadState::kDeadlock
                                 : analysis::IdleReason(thread)  ? threads::ThreadState::kIdle
                                                                 : thread.verdict.state;
    snapshot.threads.push_back(ThreadSnapshot{std::move(thread), state});
  }
  MarkHeldLocks(snapshot);
  return snapshot;
}

}  // namespace

absl::StatusOr<ProcessSnapshot> TakeSnapshot(pid_t pid, const SnapshotOptions& options) {
  absl::StatusOr<std::unique_ptr<analysis::Monitor>> monitor = analysis::Monitor::Create(pid, MonitorOptionsFor(options));
  if (!monitor.ok()) return memory::IsTargetGone(monitor.status()) ? Exited(pid) : monitor.status();
  ASSIGN_OR_RETURN(ProcessSnapshot snapshot, Snapshot(**monitor));
  snapshot.source_root = absl::StrCat("/proc/", pid, "/root");
  snapshot.source_cwd = (*monitor)->process().working_directory;
  return snapshot;
}

absl::StatusOr<ProcessSnapshot> TakeSnapshot(std::unique_ptr<python::PythonTarget> target,
                                             const SnapshotOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<analysis::Monitor> monitor,
                   analysis::Monitor::Create(std::move(target), MonitorOptionsFor(options)));
  return Snapshot(*monitor);
}

}  // namespace pyhang::snapshot
