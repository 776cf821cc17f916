#include "userspace/analysis/hang_detector.h"

#include <algorithm>
#include <set>

#include "absl/hash/hash.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "userspace/analysis/idle_patterns.h"
#include "userspace/analysis/wait_graph.h"
#include "userspace/python/exception_reader.h"

namespace pyhang::analysis {
namespace {

using threads::ThreadState;

uint64_t StackHash(const std::vector<python::PyFrame>& frames) {
  uint64_t hash = frames.size();
  for (const python::PyFrame& frame : frames) hash = absl::HashOf(hash, frame.code_address, frame.instruction);
  return hash;
}

// The innermost frame's instruction is left out: a loop moves it.
uint64_t ShapeHash(const std::vector<python::PyFrame>& frames) {
  uint64_t hash = frames.size() + 1;
  for (size_t i = 0; i < frames.size(); ++i) {
    hash = absl::HashOf(hash, frames[i].code_address, i == 0 ? int64_t{-2} : frames[i].instruction);
  }
  return hash;
}

std::string Where(const python::PyFrame& frame) {
  return absl::StrCat(frame.qualname, " (", frame.file, ":", frame.line, ")");
}

std::string ThreadLabel(const ThreadObservation& thread) {
  return thread.name.empty() ? absl::StrCat("thread ", thread.tid)
                             : absl::StrCat("thread ", thread.tid, " \"", thread.name, "\"");
}

std::string LockLabel(const LockRef& lock) {
  if (lock.address == 0) return absl::StrFormat("a lock (futex 0x%x)", lock.futex);
  return absl::StrFormat("<%s at 0x%x>", lock.type.empty() ? "lock" : lock.type, lock.address);
}

const ThreadObservation* FindThread(const ProcessObservation& observation, int64_t tid) {
  for (const ThreadObservation& thread : observation.threads) {
    if (thread.tid == tid) return &thread;
  }
  return nullptr;
}

// The frames of the coroutine(s) an event loop thread is running right now.
std::vector<python::PyFrame> CoroutineFrames(const std::vector<python::PyFrame>& frames, size_t loop_index) {
  std::vector<python::PyFrame> coroutine;
  for (size_t i = 0; i < loop_index; ++i) {
    if (FrameIs(frames[i], "_run", "asyncio/events.py")) continue;  // Handle._run
    coroutine.push_back(frames[i]);
  }
  return coroutine;
}

}  // namespace

absl::string_view KindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kLockWait: return "lock_wait";
    case FindingKind::kGilWait: return "gil_wait";
    case FindingKind::kIoWait: return "io_wait";
    case FindingKind::kBusyLoop: return "busy_loop";
    case FindingKind::kNativeLoop: return "native_loop";
    case FindingKind::kRetryLoop: return "retry_loop";
    case FindingKind::kDeadlock: return "deadlock";
  }
  return "unknown";
}

absl::string_view EvidenceName(OwnershipEvidence evidence) {
  switch (evidence) {
    case OwnershipEvidence::kRLockOwner: return "rlock_owner";
    case OwnershipEvidence::kWithBlock: return "with_block";
    case OwnershipEvidence::kThreadStarted: return "thread_running";
    case OwnershipEvidence::kAcquireInCode: return "inferred_acquire";
  }
  return "unknown";
}

namespace {

// The blocked condition a thread is in, as a key that stays equal while the
// thread stays stuck in the same place; "" if it is not stuck.
std::string BlockedKey(const ThreadObservation& thread) {
  const ThreadState state = thread.verdict.state;
  if (IdleReason(thread)) return "";
  bool in_event_loop = EventLoopFrame(thread.frames).has_value();
  switch (state) {
    case ThreadState::kLockWait:
      if (thread.verdict.timed && !in_event_loop) return "";  // wakes up by itself
      break;
    case ThreadState::kGilWait:
    case ThreadState::kIoWait:
      break;
    case ThreadState::kSleep:
      if (!in_event_loop) return "";  // sleeping is fine, except on an event loop
      break;
    default:
      return "";
  }
  return absl::StrCat(threads::StateName(state), "|", thread.verdict.wait_address, "|",
                      thread.verdict.fd, "|", StackHash(thread.frames));
}

}  // namespace

HangDetector::Tick HangDetector::MakeTick(const ThreadObservation& thread, uint64_t now_ns) {
  Tick tick;
  tick.time_ns = now_ns;
  tick.cpu_ns = thread.cpu_ns;
  tick.stack = StackHash(thread.frames);
  tick.shape = ShapeHash(thread.frames);
  tick.progress = thread.progress_fingerprint;
  tick.active = thread.verdict.state == ThreadState::kRunning || thread.verdict.state == ThreadState::kGilWait;
  if (!thread.frames.empty()) {
    tick.innermost_line = absl::StrCat(thread.frames.front().file, ":", thread.frames.front().line);
  }
  return tick;
}

void HangDetector::UpdateTrack(const ThreadObservation& thread, uint64_t now_ns) {
  Track& track = tracks_[thread.tid];
  Tick tick = MakeTick(thread, now_ns);
  const bool same_stack_as_before = !track.ticks.empty() && track.ticks.back().stack == tick.stack;
  track.ticks.push_back(tick);
  // Keep twice the threshold (plus one older tick) so that windows that
  // start up to a threshold ago can still be measured from their start.
  while (track.ticks.size() > 2 && track.ticks[1].time_ns + ThresholdNs() * 2 < now_ns) track.ticks.pop_front();
  // A huge --hang-threshold must not make the history huge: past this many
  // looks, conditions are judged on the latest ones.
  while (track.ticks.size() > kMaxTicksPerThread) track.ticks.pop_front();

  UpdateBlockedStreak(thread, same_stack_as_before, now_ns, &track);
  UpdateLoopStreak(thread, tick, now_ns, &track);
  UpdateRetryStreak(thread, now_ns, &track);
  track.state = IdleReason(thread) ? ThreadState::kIdle : thread.verdict.state;
}

void HangDetector::UpdateBlockedStreak(const ThreadObservation& thread, bool same_stack_as_before,
                                       uint64_t now_ns, Track* track) {
  std::string key = BlockedKey(thread);
  // A thread starving for the GIL wakes every switch interval: a glimpse of
  // it running on the same stack without the GIL continues the wait.
  bool gil_glimpse = key.empty() && absl::StartsWith(track->blocked_key, "gil_wait|") &&
                     thread.verdict.state == ThreadState::kRunning && !thread.holds_gil &&
                     same_stack_as_before;
  if (gil_glimpse) return;
  // The same lock or fd at the same stack, yet the thread used CPU since the
  // last look: it woke and blocked again (a lock that changes hands at a
  // reused address, a socket that keeps getting data). That wait started
  // over. A loop thread sleeping in a coroutine stays stalled however often
  // it wakes, and a GIL waiter wakes by design: those go on.
  const bool woke_since_last_look = thread.cpu_ns > 0 && (absl::StartsWith(key, "lock_wait|") ||
                                                          absl::StartsWith(key, "io_wait|"));
  if (key == track->blocked_key && !woke_since_last_look) return;
  track->blocked_key = key;
  track->blocked_since_ns = now_ns;
  // The kernel may know the thread blocked long before we looked.
  if (!key.empty() && thread.blocked_since_ns != 0 && thread.blocked_since_ns < now_ns &&
      thread.verdict.state != ThreadState::kGilWait) {
    track->blocked_since_ns = thread.blocked_since_ns;
  }
}

void HangDetector::UpdateLoopStreak(const ThreadObservation& thread, const Tick& tick, uint64_t now_ns,
                                    Track* track) {
  // A loop streak lasts while the thread stays in the same frames and never
  // blocks by itself (waiting for the GIL between slices does not count).
  if (!tick.active || thread.frames.empty()) {
    track->loop_shape = 0;
    return;
  }
  if (tick.shape != track->loop_shape) {
    track->loop_shape = tick.shape;
    track->loop_since_ns = now_ns;
  }
}

void HangDetector::UpdateRetryStreak(const ThreadObservation& thread, uint64_t now_ns, Track* track) {
  const std::string type =
      thread.handling && !thread.handling->chain.empty() ? thread.handling->chain.front().type : "";
  if (!type.empty() && type == track->retry_type) {
    track->retry_misses = 0;
    track->retry_handling = thread.handling;
    track->retry_where = thread.frames.empty() ? "" : Where(thread.frames.front());
    // It ran since the last look and is back in the handler: a sleeping
    // handler uses no CPU, so it woke, tried again and failed again.
    if (thread.cpu_ns > 0) ++track->retry_rounds;
    return;
  }
  // A look can catch it between handlers (in the call that is about to fail).
  if (type.empty() && !track->retry_type.empty() && ++track->retry_misses < kLooksToClear) return;
  track->retry_type = type;
  track->retry_since_ns = now_ns;
  track->retry_rounds = 0;
  track->retry_misses = 0;
  track->retry_handling = thread.handling;
  track->retry_where = thread.frames.empty() ? "" : Where(thread.frames.front());
}

void HangDetector::AddBlockedCandidate(const ProcessObservation& observation, const ThreadObservation& thread,
                                       const WaitEdges& wait_edges, std::vector<Candidate>* out) {
  const Track& track = tracks_.at(thread.tid);
  if (track.blocked_key.empty()) return;
  std::string key = absl::StrCat(thread.tid, "|", track.blocked_key);
  if (!Wanted(key, track.blocked_since_ns, observation.time_ns)) return;
  // The kind is the condition's, not this look's: a thread starving for the
  // GIL can be caught runnable for an instant.
  const ThreadState state = absl::StartsWith(track.blocked_key, "gil_wait|")    ? ThreadState::kGilWait
                            : absl::StartsWith(track.blocked_key, "lock_wait|") ? ThreadState::kLockWait
                                                                                : thread.verdict.state;
  // A thread that gets its turns on the GIL is not starving: it shares it.
  if (state == ThreadState::kGilWait) {
    std::vector<const Tick*> ticks = RecentTicks(track, track.blocked_since_ns, observation.time_ns);
    if (!ticks.empty() && CpuFraction(ticks, observation.time_ns) >= options_.loop_min_cpu_fraction) return;
  }
  Candidate candidate;
  Finding& f = candidate.finding;
  f.tids = {thread.tid};
  f.since_ns = track.blocked_since_ns;
  f.threads = {thread};
  f.key = std::move(key);
  Evidence& e = f.evidence;
  e.blocking_call = thread.verdict.detail;
  if (state == ThreadState::kLockWait) {
    f.kind = FindingKind::kLockWait;
    e.waits_for_notification = thread.waits_for_notification;
    e.lock = thread.waiting_for;
    if (auto it = wait_edges.find(thread.tid); it != wait_edges.end()) {
      e.owner_tid = it->second.held_by;
      e.owner_evidence = it->second.how;
      e.owner_where = it->second.where;
    }
    if (e.waits_for_notification) {
      e.summary = "waits for a notification (Condition.wait) that has not come";
    } else {
      e.summary = absl::StrCat("waits for ", thread.waiting_for ? LockLabel(*thread.waiting_for) : "a lock");
    }
    if (const ThreadObservation* owner = e.owner_tid ? FindThread(observation, e.owner_tid) : nullptr) {
      if (e.owner_evidence == OwnershipEvidence::kThreadStarted) {
        e.summary = absl::StrCat("waits in join() for ", ThreadLabel(*owner), " to finish");
      } else {
        absl::StrAppend(&e.summary, ", held by ", ThreadLabel(*owner));
        if (!e.owner_where.empty()) absl::StrAppend(&e.summary, " (", e.owner_where, ")");
      }
      f.threads.push_back(*owner);
    } else if (!e.waits_for_notification && thread.waiting_for) {
      absl::StrAppend(&e.summary, " (owner unknown)");
    }
  } else if (state == ThreadState::kGilWait) {
    f.kind = FindingKind::kGilWait;
    e.gil_holder_tid = observation.gil_holder_tid;
    e.summary = "waits for the GIL";
    if (const ThreadObservation* holder = FindThread(observation, observation.gil_holder_tid)) {
      absl::StrAppend(&e.summary, ", held by ", ThreadLabel(*holder));
      if (!holder->frames.empty()) absl::StrAppend(&e.summary, " running ", Where(holder->frames.front()));
      f.threads.push_back(*holder);
    }
  } else {
    // io_wait, or time.sleep() on an event loop thread, which starves the
    // loop just like blocking I/O does.
    f.kind = FindingKind::kIoWait;
    e.io = thread.io;
    e.summary = absl::StrCat("blocked in ", thread.verdict.detail);
    if (thread.io && !thread.io->description.empty()) absl::StrAppend(&e.summary, " (", thread.io->description, ")");
  }
  if (std::optional<size_t> loop = EventLoopFrame(thread.frames)) {
    e.asyncio_loop_stalled = true;
    e.coroutine_frames = CoroutineFrames(thread.frames, *loop);
    std::string inside = e.coroutine_frames.empty() ? "" : absl::StrCat(" inside ", Where(e.coroutine_frames.back()));
    e.summary = absl::StrCat("asyncio event loop stalled", inside, ": ", e.summary);
  }
  candidate.ready = observation.time_ns - f.since_ns >= ThresholdNs();
  out->push_back(std::move(candidate));
}

std::vector<const HangDetector::Tick*> HangDetector::RecentTicks(const Track& track, uint64_t since_ns,
                                                                  uint64_t now_ns) const {
  const uint64_t window_start = std::max(since_ns, now_ns > ThresholdNs() ? now_ns - ThresholdNs() : 0);
  std::vector<const Tick*> ticks;
  for (const Tick& tick : track.ticks) {
    if (tick.time_ns >= window_start) ticks.push_back(&tick);
  }
  // Too few looks in the last threshold (looks slower than the threshold):
  // judge every look since the condition began instead.
  if (ticks.size() < 2) {
    ticks.clear();
    for (const Tick& tick : track.ticks) {
      if (tick.time_ns >= since_ns) ticks.push_back(&tick);
    }
  }
  if (ticks.size() < 2) ticks.clear();  // one observation says nothing
  return ticks;
}

double HangDetector::CpuFraction(const std::vector<const Tick*>& ticks, uint64_t now_ns) {
  if (ticks.size() < 2 || now_ns <= ticks.front()->time_ns) return 0;
  uint64_t cpu_ns = 0;
  for (size_t i = 1; i < ticks.size(); ++i) cpu_ns += ticks[i]->cpu_ns;  // CPU since the previous look
  return std::min(1.0, static_cast<double>(cpu_ns) / static_cast<double>(now_ns - ticks.front()->time_ns));
}

void HangDetector::AddLoopCandidate(const ThreadObservation& thread, uint64_t now_ns,
                                    std::vector<Candidate>* out) {
  const Track& track = tracks_.at(thread.tid);
  if (track.loop_shape == 0 || now_ns <= track.loop_since_ns) return;
  // Judge the last threshold of looks: a long loop is judged on what it does
  // now, and a first look caught waiting for the GIL ages out.
  std::vector<const Tick*> ticks = RecentTicks(track, track.loop_since_ns, now_ns);
  if (ticks.empty()) return;
  size_t active_looks = 0;
  bool frozen = true;
  std::set<std::string> lines;
  for (const Tick* tick : ticks) {
    frozen &= tick->stack == ticks.front()->stack && tick->progress == ticks.front()->progress;
    active_looks += tick->active;
    lines.insert(tick->innermost_line);
  }
  const double cpu_fraction = CpuFraction(ticks, now_ns);
  const double active_fraction = static_cast<double>(active_looks) / static_cast<double>(ticks.size());
  if (active_fraction < options_.loop_active_fraction || cpu_fraction < options_.loop_min_cpu_fraction) return;
  if (!frozen && lines.size() > options_.max_loop_lines) return;
  // Frozen: same instruction and same locals at every look while on CPU,
  // so no bytecode ran: native code is looping.
  const FindingKind kind = frozen ? FindingKind::kNativeLoop : FindingKind::kBusyLoop;
  std::string key = absl::StrCat(thread.tid, "|", KindName(kind), "|", track.loop_shape);
  if (!Wanted(key, track.loop_since_ns, now_ns)) return;
  Candidate candidate;
  Finding& f = candidate.finding;
  f.kind = kind;
  f.tids = {thread.tid};
  f.since_ns = track.loop_since_ns;
  f.threads = {thread};
  f.key = std::move(key);
  Evidence& e = f.evidence;
  e.cpu_fraction = cpu_fraction;
  e.loop_lines.assign(lines.begin(), lines.end());
  e.native_symbols = thread.native_symbols;
  std::string where = thread.frames.empty() ? "" : Where(thread.frames.front());
  if (kind == FindingKind::kNativeLoop) {
    e.summary = absl::StrFormat("on CPU %.0f%% of the time while its Python stack is frozen at %s: native code is looping",
                                cpu_fraction * 100, where);
    if (!e.native_symbols.empty()) absl::StrAppend(&e.summary, " (in ", absl::StrJoin(e.native_symbols, ", "), ")");
  } else {
    e.summary = absl::StrFormat("looping in %s over lines %s, never blocking (on CPU %.0f%% of the time)",
                                thread.frames.front().qualname, absl::StrJoin(e.loop_lines, ", "), cpu_fraction * 100);
  }
  if (thread.holds_gil) absl::StrAppend(&e.summary, ", holding the GIL");
  candidate.ready = now_ns - f.since_ns >= ThresholdNs();
  out->push_back(std::move(candidate));
}

void HangDetector::AddRetryCandidate(const ThreadObservation& thread, uint64_t now_ns,
                                     std::vector<Candidate>* out) {
  const Track& track = tracks_.at(thread.tid);
  if (track.retry_type.empty() || track.retry_rounds < options_.retry_min_rounds) return;
  std::string key = absl::StrCat(thread.tid, "|retry_loop|", track.retry_type);
  if (!Wanted(key, track.retry_since_ns, now_ns)) return;
  Candidate candidate;
  Finding& f = candidate.finding;
  f.kind = FindingKind::kRetryLoop;
  f.tids = {thread.tid};
  f.since_ns = track.retry_since_ns;
  f.threads = {thread};
  f.key = std::move(key);
  Evidence& e = f.evidence;
  // From the latest look inside the handler: this one may have caught the
  // thread between handlers, in the call that is about to fail.
  e.handling = track.retry_handling;
  e.rounds = track.retry_rounds;
  e.loop_where = track.retry_where;
  std::string handled = e.handling && !e.handling->chain.empty() ? python::ExceptionLine(e.handling->chain.front())
                                                                 : track.retry_type;
  e.summary = absl::StrFormat("retry loop%s: keeps failing with %s, back in its handler %d times in %.1f s",
                              e.loop_where.empty() ? "" : absl::StrCat(" in ", e.loop_where), handled, e.rounds,
                              f.DurationSeconds(now_ns));
  candidate.ready = now_ns - f.since_ns >= ThresholdNs();
  out->push_back(std::move(candidate));
}

std::vector<Finding> FindDeadlocks(const ProcessObservation& observation,
                                   const std::function<bool(const ThreadObservation&)>& stuck) {
  // Edges only from threads that are stuck; others' waits are forgotten.
  std::vector<ThreadObservation> candidates;
  candidates.reserve(observation.threads.size());
  for (const ThreadObservation& thread : observation.threads) {
    ThreadObservation lean;  // only what the wait-for graph reads: no frames to copy
    lean.tid = thread.tid;
    lean.holds = thread.holds;
    lean.waits_for_notification = thread.waits_for_notification;
    if (stuck(thread)) lean.waiting_for = thread.waiting_for;
    candidates.push_back(std::move(lean));
  }
  std::vector<Finding> findings;
  for (std::vector<CycleEdge>& cycle : FindCycles(BuildWaitEdges(candidates))) {
    Finding f;
    f.kind = FindingKind::kDeadlock;
    std::vector<std::string> steps;
    for (const CycleEdge& edge : cycle) {
      f.tids.push_back(edge.tid);
      const ThreadObservation* waiter = FindThread(observation, edge.tid);
      const ThreadObservation* holder = FindThread(observation, edge.held_by);
      if (waiter != nullptr) f.threads.push_back(*waiter);
      steps.push_back(absl::StrCat(waiter ? ThreadLabel(*waiter) : absl::StrCat("thread ", edge.tid),
                                   " waits for ", LockLabel(edge.lock), " held by ",
                                   holder ? ThreadLabel(*holder) : absl::StrCat("thread ", edge.held_by)));
    }
    std::vector<int64_t> sorted = f.tids;
    std::sort(sorted.begin(), sorted.end());
    f.key = absl::StrCat("deadlock|", absl::StrJoin(sorted, ","));
    f.evidence.cycle = std::move(cycle);
    f.evidence.summary = absl::StrCat("deadlock: ", absl::StrJoin(steps, "; "));
    findings.push_back(std::move(f));
  }
  return findings;
}

void HangDetector::AddDeadlockCandidates(const ProcessObservation& observation, std::vector<Candidate>* out,
                                         absl::flat_hash_set<int64_t>* deadlocked) {
  // Only threads stuck in an untimed lock wait can be part of a deadlock.
  auto stuck = [&](const ThreadObservation& thread) {
    return thread.verdict.state == ThreadState::kLockWait && !tracks_.at(thread.tid).blocked_key.empty();
  };
  for (Finding& finding : FindDeadlocks(observation, stuck)) {
    for (int64_t tid : finding.tids) {
      finding.since_ns = std::max(finding.since_ns, tracks_.at(tid).blocked_since_ns);
      deadlocked->insert(tid);
    }
    Candidate candidate;
    candidate.ready = observation.time_ns - finding.since_ns >= ThresholdNs();
    candidate.finding = std::move(finding);
    out->push_back(std::move(candidate));
  }
}

std::vector<FindingEvent> HangDetector::Reconcile(std::vector<Candidate> candidates, uint64_t now_ns,
                                                  const absl::flat_hash_set<int64_t>& alive,
                                                  const absl::flat_hash_set<int64_t>& deadlocked) {
  std::vector<FindingEvent> events;
  absl::flat_hash_set<std::string> present;
  for (Candidate& candidate : candidates) {
    const std::string key = candidate.finding.key;
    if (auto it = open_.find(key); it != open_.end()) {
      it->second.threads = std::move(candidate.finding.threads);
      it->second.evidence = std::move(candidate.finding.evidence);
      absent_looks_.erase(key);
      present.insert(key);
    } else if (candidate.ready) {
      Finding finding = std::move(candidate.finding);
      finding.id = next_id_++;
      finding.reported_ns = now_ns;
      events.push_back(FindingEvent{true, finding, now_ns, ""});
      open_.emplace(key, std::move(finding));
      present.insert(key);
    }
  }
  for (auto it = open_.begin(); it != open_.end();) {
    if (present.contains(it->first)) {
      ++it;
      continue;
    }
    const std::vector<int64_t>& tids = it->second.tids;
    bool exited = std::any_of(tids.begin(), tids.end(), [&](int64_t tid) { return !alive.contains(tid); });
    // A lock wait whose owner came to wait on it in turn goes on as a deadlock.
    bool in_deadlock = std::any_of(tids.begin(), tids.end(), [&](int64_t tid) { return deadlocked.contains(tid); });
    // Otherwise the condition must stay gone for a second look: a process
    // that is exiting wakes its threads (they look unstuck) a moment before
    // it is gone, and that finding ends because the process exited.
    if (!exited && !in_deadlock && ++absent_looks_[it->first] < kLooksToClear) {
      ++it;
      continue;
    }
    const char* reason = exited ? "thread exited" : in_deadlock ? "now part of a deadlock" : "condition cleared";
    events.push_back(FindingEvent{false, it->second, now_ns, reason});
    absent_looks_.erase(it->first);
    open_.erase(it++);
  }
  return events;
}

std::vector<FindingEvent> HangDetector::Observe(const ProcessObservation& observation) {
  absl::flat_hash_set<int64_t> alive;
  for (const ThreadObservation& thread : observation.threads) {
    alive.insert(thread.tid);
    UpdateTrack(thread, observation.time_ns);
  }
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    if (alive.contains(it->first)) ++it; else tracks_.erase(it++);
  }
  std::vector<Candidate> candidates;
  absl::flat_hash_set<int64_t> deadlocked;
  AddDeadlockCandidates(observation, &candidates, &deadlocked);
  const WaitEdges wait_edges = BuildWaitEdges(observation.threads);
  for (const ThreadObservation& thread : observation.threads) {
    if (deadlocked.contains(thread.tid)) {
      tracks_[thread.tid].state = ThreadState::kDeadlock;
      continue;
    }
    AddBlockedCandidate(observation, thread, wait_edges, &candidates);
    const size_t before_loop = candidates.size();
    AddLoopCandidate(thread, observation.time_ns, &candidates);
    // A loop that never blocks is a busy loop, whatever it handles.
    if (candidates.size() == before_loop) AddRetryCandidate(thread, observation.time_ns, &candidates);
  }
  return Reconcile(std::move(candidates), observation.time_ns, alive, deadlocked);
}

std::vector<FindingEvent> HangDetector::EndAll(uint64_t now_ns, const std::string& reason) {
  std::vector<FindingEvent> events;
  for (const Finding* finding : OpenFindings()) events.push_back(FindingEvent{false, *finding, now_ns, reason});
  open_.clear();
  absent_looks_.clear();
  return events;
}

std::vector<const Finding*> HangDetector::OpenFindings() const {
  std::vector<const Finding*> findings;
  for (const auto& [key, finding] : open_) findings.push_back(&finding);
  std::sort(findings.begin(), findings.end(), [](const Finding* a, const Finding* b) { return a->id < b->id; });
  return findings;
}

ThreadState HangDetector::StateOf(int64_t tid) const {
  auto it = tracks_.find(tid);
  if (it == tracks_.end()) return ThreadState::kUnknown;
  for (const auto& [key, finding] : open_) {
    if (std::find(finding.tids.begin(), finding.tids.end(), tid) == finding.tids.end()) continue;
    if (finding.kind == FindingKind::kBusyLoop) return ThreadState::kBusyLoop;
    if (finding.kind == FindingKind::kNativeLoop) return ThreadState::kNativeLoop;
    if (finding.kind == FindingKind::kRetryLoop) return ThreadState::kRetryLoop;
  }
  return it->second.state;
}

}  // namespace pyhang::analysis
