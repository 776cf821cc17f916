// The hang detector over synthetic observation streams: what becomes a
// finding, when, with which evidence, and what must never be one.
#include "userspace/analysis/hang_detector.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pyhang::analysis {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;
using threads::ThreadState;

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kTick = kSecond / 4;

python::PyFrame Frame(const std::string& function, const std::string& file, int line, uint64_t code,
                      int64_t instruction = 10) {
  python::PyFrame frame;
  frame.function = frame.qualname = function;
  frame.file = file;
  frame.line = line;
  frame.code_address = code;
  frame.instruction = instruction;
  return frame;
}

ThreadObservation Blocked(int64_t tid, ThreadState state, std::vector<python::PyFrame> frames,
                          uint64_t wait = 0x1000) {
  ThreadObservation thread;
  thread.tid = tid;
  thread.name = "t" + std::to_string(tid);
  thread.verdict.state = state;
  thread.verdict.wait_address = wait;
  thread.verdict.detail = "futex wait";
  thread.frames = std::move(frames);
  return thread;
}

ThreadObservation Running(int64_t tid, std::vector<python::PyFrame> frames, uint64_t cpu_ns) {
  ThreadObservation thread;
  thread.tid = tid;
  thread.verdict.state = ThreadState::kRunning;
  thread.frames = std::move(frames);
  thread.cpu_ns = cpu_ns;
  return thread;
}

class HangDetectorTest : public ::testing::Test {
 protected:
  HangDetectorTest() : detector_(HangOptions{}) {}

  // Observes `threads` at the next tick; returns the events.
  std::vector<FindingEvent> Step(std::vector<ThreadObservation> threads, int64_t gil_holder = 0) {
    ProcessObservation observation;
    observation.pid = 1;
    observation.time_ns = now_ += kTick;
    observation.interval_ns = kTick;
    observation.gil_holder_tid = gil_holder;
    observation.threads = std::move(threads);
    return detector_.Observe(observation);
  }
  // Steps `ticks` times with the same threads; returns all events.
  std::vector<FindingEvent> StepFor(int ticks, const std::function<std::vector<ThreadObservation>(int)>& threads,
                                    int64_t gil_holder = 0) {
    std::vector<FindingEvent> all;
    for (int i = 0; i < ticks; ++i) {
      for (FindingEvent& event : Step(threads(i), gil_holder)) all.push_back(std::move(event));
    }
    return all;
  }

  HangDetector detector_;
  uint64_t now_ = 1000 * kSecond;
};

TEST_F(HangDetectorTest, LockWaitIsReportedOnceAfterTheThresholdAndEndsWhenItMoves) {
  auto stuck = [](int) {
    return std::vector<ThreadObservation>{
        Blocked(7, ThreadState::kLockWait, {Frame("consume", "app.py", 12, 0xc0de)})};
  };
  EXPECT_TRUE(StepFor(20, stuck).empty());  // 5 s: not yet
  std::vector<FindingEvent> events = StepFor(2, stuck);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].started);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kLockWait);
  EXPECT_THAT(events[0].finding.tids, ElementsAre(7));
  EXPECT_GE(events[0].finding.DurationSeconds(now_), 5.0);
  EXPECT_LE(events[0].finding.DurationSeconds(now_), 5.5);
  EXPECT_TRUE(StepFor(10, stuck).empty());  // reported once

  // It ends once the thread has been seen moving at two looks in a row
  // (one look could be a process waking its threads to exit).
  EXPECT_TRUE(Step({Running(7, {Frame("consume", "app.py", 13, 0xc0de)}, kTick / 10)}).empty());
  events = Step({Running(7, {Frame("consume", "app.py", 14, 0xc0de)}, kTick / 10)});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].started);
  EXPECT_EQ(events[0].end_reason, "condition cleared");
}

TEST_F(HangDetectorTest, AFindingSeenUnstuckForOneLookEndsWithTheProcess) {
  auto stuck = [](int) {
    return std::vector<ThreadObservation>{Blocked(7, ThreadState::kLockWait, {Frame("consume", "app.py", 12, 0xc0de)})};
  };
  ASSERT_EQ(StepFor(22, stuck).size(), 1u);
  // The process is exiting: its threads wake up, then it is gone.
  EXPECT_TRUE(Step({Running(7, {Frame("consume", "app.py", 12, 0xc0de)}, kTick / 10)}).empty());
  std::vector<FindingEvent> events = detector_.EndAll(now_, "process exited");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].end_reason, "process exited");
}

TEST_F(HangDetectorTest, KernelBlockedSinceReportsAtOnceWhenAttachingLate) {
  ThreadObservation thread = Blocked(7, ThreadState::kLockWait, {Frame("consume", "app.py", 12, 0xc0de)});
  thread.blocked_since_ns = now_ - 60 * kSecond;
  std::vector<FindingEvent> events = Step({thread});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_GE(events[0].finding.DurationSeconds(now_), 60.0);
}

// A thread that takes and waits for a lock many times a second (a new lock
// each time, at the address the allocator hands back) is seen in the same
// wait at every look; the CPU it used between looks says it woke and the
// wait is a new one. Without that CPU, the same looks are one long wait.
TEST_F(HangDetectorTest, AThreadThatWakesBetweenLooksStartsItsWaitOver) {
  auto waking = [](int) {
    ThreadObservation thread = Blocked(7, ThreadState::kLockWait, {Frame("start", "threading.py", 957, 0xc0de)});
    thread.cpu_ns = kTick / 20;
    return std::vector<ThreadObservation>{thread};
  };
  EXPECT_TRUE(StepFor(40, waking).empty());  // 10 s, twice the threshold
  auto stuck = [](int) {
    return std::vector<ThreadObservation>{Blocked(7, ThreadState::kLockWait, {Frame("start", "threading.py", 957, 0xc0de)})};
  };
  std::vector<FindingEvent> events = StepFor(22, stuck);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kLockWait);
  EXPECT_LE(events[0].finding.DurationSeconds(now_), 5.75);  // from the last wake, not the first look
}

TEST_F(HangDetectorTest, TwoThreadsWaitingOnEachOthersLocksAreOneDeadlock) {
  LockRef a{0xa000, "_thread.lock", 0xa100};
  LockRef b{0xb000, "_thread.lock", 0xb100};
  auto threads = [&](int) {
    ThreadObservation one = Blocked(1, ThreadState::kLockWait, {Frame("transfer", "bank.py", 19, 0x1)}, a.futex);
    one.waiting_for = b;
    one.holds = {HeldLock{a, OwnershipEvidence::kWithBlock, "transfer (bank.py:18)"}};
    ThreadObservation two = Blocked(2, ThreadState::kLockWait, {Frame("audit", "bank.py", 26, 0x2)}, b.futex);
    two.waiting_for = a;
    two.holds = {HeldLock{b, OwnershipEvidence::kWithBlock, "audit (bank.py:25)"}};
    return std::vector<ThreadObservation>{one, two};
  };
  std::vector<FindingEvent> events = StepFor(22, threads);
  ASSERT_EQ(events.size(), 1u) << "a deadlock, and no separate lock_wait findings";
  const Finding& f = events[0].finding;
  EXPECT_EQ(f.kind, FindingKind::kDeadlock);
  EXPECT_THAT(f.tids, ElementsAre(1, 2));
  ASSERT_EQ(f.evidence.cycle.size(), 2u);
  EXPECT_EQ(f.evidence.cycle[0].held_by, 2);
  EXPECT_EQ(f.evidence.cycle[1].held_by, 1);
  EXPECT_THAT(f.evidence.summary, HasSubstr("waits for <_thread.lock at 0xb000> held by thread 2"));
  EXPECT_EQ(detector_.StateOf(1), ThreadState::kDeadlock);
}

TEST_F(HangDetectorTest, LockWaitThatBecomesADeadlockEndsSayingSo) {
  LockRef a{0xa000, "_thread.lock", 0xa100};
  LockRef b{0xb000, "_thread.lock", 0xb100};
  // Thread 1 waits for b, held by thread 2, which sleeps for a while and
  // then waits for a, held by thread 1.
  auto threads = [&](int tick) {
    ThreadObservation one = Blocked(1, ThreadState::kLockWait, {Frame("transfer", "bank.py", 19, 0x1)}, b.futex);
    one.waiting_for = b;
    one.holds = {HeldLock{a, OwnershipEvidence::kWithBlock, "transfer (bank.py:18)"}};
    ThreadObservation two = tick < 30 ? Blocked(2, ThreadState::kSleep, {Frame("audit", "bank.py", 24, 0x2)})
                                      : Blocked(2, ThreadState::kLockWait, {Frame("audit", "bank.py", 26, 0x2)},
                                                a.futex);
    if (tick >= 30) two.waiting_for = a;
    two.holds = {HeldLock{b, OwnershipEvidence::kWithBlock, "audit (bank.py:25)"}};
    return std::vector<ThreadObservation>{one, two};
  };
  std::vector<FindingEvent> events = StepFor(60, threads);
  std::vector<std::string> seen;
  for (const FindingEvent& event : events) {
    seen.push_back(absl::StrCat(event.started ? "start " : "end ", KindName(event.finding.kind),
                                event.started ? "" : absl::StrCat(" (", event.end_reason, ")")));
  }
  ASSERT_EQ(seen.size(), 3u) << absl::StrJoin(seen, ", ");
  EXPECT_EQ(seen[0], "start lock_wait");
  EXPECT_THAT(std::vector<std::string>(seen.begin() + 1, seen.end()),
              UnorderedElementsAre("end lock_wait (now part of a deadlock)", "start deadlock"));
}

TEST_F(HangDetectorTest, AmbiguousInferredOwnerIsNotACycle) {
  LockRef a{0xa000, "_thread.lock", 0xa100};
  LockRef b{0xb000, "_thread.lock", 0xb100};
  auto threads = [&](int) {
    ThreadObservation one = Blocked(1, ThreadState::kLockWait, {Frame("f", "x.py", 1, 0x1)});
    one.waiting_for = b;
    one.holds = {HeldLock{a, OwnershipEvidence::kAcquireInCode, ""}};
    ThreadObservation two = Blocked(2, ThreadState::kLockWait, {Frame("g", "x.py", 2, 0x2)});
    two.waiting_for = a;
    two.holds = {HeldLock{b, OwnershipEvidence::kAcquireInCode, ""}};
    ThreadObservation three = Blocked(3, ThreadState::kSleep, {Frame("h", "x.py", 3, 0x3)});
    three.holds = {HeldLock{b, OwnershipEvidence::kAcquireInCode, ""}};  // also could hold b
    return std::vector<ThreadObservation>{one, two, three};
  };
  std::vector<FindingEvent> events = StepFor(22, threads);
  // Each waiter is still a lock_wait of its own (so the detector ran), but
  // with two possible owners of b there is no certain cycle.
  std::vector<int64_t> lock_waits;
  for (const FindingEvent& event : events) {
    EXPECT_NE(event.finding.kind, FindingKind::kDeadlock);
    if (event.started && event.finding.kind == FindingKind::kLockWait) {
      lock_waits.insert(lock_waits.end(), event.finding.tids.begin(), event.finding.tids.end());
    }
  }
  EXPECT_THAT(lock_waits, UnorderedElementsAre(1, 2));
}

TEST_F(HangDetectorTest, IdleWorkersTimedWaitsAndSleepersAreNeverFindings) {
  auto threads = [](int) {
    ThreadObservation pool = Blocked(1, ThreadState::kLockWait,
                                     {Frame("_worker", "/usr/lib/python3.11/concurrent/futures/thread.py", 81, 0x1),
                                      Frame("run", "/usr/lib/python3.11/threading.py", 975, 0x2)});
    ThreadObservation poller = Blocked(2, ThreadState::kLockWait, {Frame("wait", "threading.py", 327, 0x3)});
    poller.verdict.timed = true;
    ThreadObservation sleeper = Blocked(3, ThreadState::kSleep, {Frame("schedule", "cron.py", 5, 0x4)});
    ThreadObservation loop = Blocked(4, ThreadState::kIoWait,
                                     {Frame("select", "/usr/lib/python3.11/selectors.py", 468, 0x5),
                                      Frame("_run_once", "/usr/lib/python3.11/asyncio/base_events.py", 1884, 0x6)});
    ThreadObservation server = Blocked(5, ThreadState::kIoWait, {Frame("accept", "socket.py", 294, 0x7)});
    server.verdict.detail = "accept4 on fd 3";
    return std::vector<ThreadObservation>{pool, poller, sleeper, loop, server};
  };
  EXPECT_TRUE(StepFor(4 * 60, threads).empty());
  EXPECT_EQ(detector_.StateOf(1), ThreadState::kIdle);
  EXPECT_EQ(detector_.StateOf(4), ThreadState::kIdle);
  EXPECT_EQ(detector_.StateOf(5), ThreadState::kIdle);
  EXPECT_EQ(detector_.StateOf(3), ThreadState::kSleep);
}

TEST_F(HangDetectorTest, BusyLoopConfinedToOneFrameIsReportedWithItsLines) {
  auto threads = [](int i) {
    return std::vector<ThreadObservation>{
        Running(9, {Frame("spin", "loop.py", 4 + i % 2, 0xa, 10 + i % 2), Frame("<module>", "loop.py", 9, 0xb)},
                kTick)};
  };
  std::vector<FindingEvent> events = StepFor(22, threads);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kBusyLoop);
  EXPECT_THAT(events[0].finding.evidence.loop_lines, ElementsAre("loop.py:4", "loop.py:5"));
  EXPECT_EQ(detector_.StateOf(9), ThreadState::kBusyLoop);
}

TEST_F(HangDetectorTest, BusyLoopSharingTheGilWithAWorkerIsStillABusyLoop) {
  // Two CPU-bound threads take turns on the GIL: each runs half the time.
  auto threads = [](int i) {
    ThreadObservation spin = Running(9, {Frame("spin", "loop.py", 4, 0xa, 10 + i % 3)}, kTick / 2);
    if (i % 2) spin.verdict.state = ThreadState::kGilWait;
    std::vector<python::PyFrame> frames = {Frame("work", "w.py", 10, 0xb, 20)};
    frames.insert(frames.begin(), Frame(i % 2 ? "parse" : "checksum", "w.py", 30, 0xc + i % 2, i));
    ThreadObservation worker = Running(10, frames, kTick / 2);
    if (i % 2 == 0) worker.verdict.state = ThreadState::kGilWait;
    return std::vector<ThreadObservation>{spin, worker};
  };
  std::vector<FindingEvent> events = StepFor(24, threads);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kBusyLoop);
  EXPECT_THAT(events[0].finding.tids, ElementsAre(9));
}

TEST_F(HangDetectorTest, ThreadThatBlocksBetweenBurstsIsNotABusyLoop) {
  auto threads = [](int i) {
    ThreadObservation periodic = Running(9, {Frame("poll", "p.py", 4, 0xa, 10)}, kTick / 3);
    if (i % 3 == 0) periodic.verdict.state = ThreadState::kSleep;
    return std::vector<ThreadObservation>{periodic};
  };
  EXPECT_TRUE(StepFor(4 * 30, threads).empty());
}

TEST_F(HangDetectorTest, HealthyWorkerWhoseStackMovesIsNotABusyLoop) {
  auto threads = [](int i) {
    std::vector<python::PyFrame> frames = {Frame("work", "w.py", 10, 0xa, 20)};
    if (i % 3 == 0) frames.insert(frames.begin(), Frame("parse", "w.py", 30 + i % 7, 0xb, i));
    if (i % 3 == 1) frames.insert(frames.begin(), Frame("checksum", "w.py", 50, 0xc, i));
    return std::vector<ThreadObservation>{Running(9, frames, kTick)};
  };
  EXPECT_TRUE(StepFor(4 * 60, threads).empty());
}

TEST_F(HangDetectorTest, FrozenStackOnCpuIsANativeLoopAndStarvesGilWaiters) {
  auto threads = [](int i) {
    ThreadObservation native = Running(3, {Frame("call_c", "ext.py", 7, 0xa, 42)}, kTick);
    native.holds_gil = true;
    native.progress_fingerprint = 1234;
    native.native_symbols = {"spin_forever"};
    ThreadObservation starving = Blocked(4, ThreadState::kGilWait, {Frame("tick", "ui.py", 3, 0xb)});
    if (i % 5 == 0) starving.verdict.state = ThreadState::kRunning;  // woke up, did not get it
    return std::vector<ThreadObservation>{native, starving};
  };
  std::vector<FindingEvent> events = StepFor(22, threads, /*gil_holder=*/3);
  ASSERT_EQ(events.size(), 2u);
  std::map<FindingKind, const Finding*> by_kind;
  for (const FindingEvent& event : events) by_kind[event.finding.kind] = &event.finding;
  ASSERT_TRUE(by_kind.count(FindingKind::kNativeLoop));
  ASSERT_TRUE(by_kind.count(FindingKind::kGilWait));
  EXPECT_THAT(by_kind[FindingKind::kNativeLoop]->evidence.native_symbols, ElementsAre("spin_forever"));
  EXPECT_EQ(by_kind[FindingKind::kGilWait]->evidence.gil_holder_tid, 3);
  EXPECT_THAT(by_kind[FindingKind::kGilWait]->evidence.summary, HasSubstr("running call_c (ext.py:7)"));
}

TEST_F(HangDetectorTest, AsyncioLoopBlockedInACoroutineIsAFinding) {
  auto threads = [](int) {
    return std::vector<ThreadObservation>{Blocked(
        5, ThreadState::kSleep,
        {Frame("fetch", "svc.py", 20, 0x1), Frame("_run", "/usr/lib/python3.11/asyncio/events.py", 80, 0x2),
         Frame("_run_once", "/usr/lib/python3.11/asyncio/base_events.py", 1922, 0x3)})};
  };
  std::vector<FindingEvent> events = StepFor(22, threads);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].finding.evidence.asyncio_loop_stalled);
  ASSERT_EQ(events[0].finding.evidence.coroutine_frames.size(), 1u);
  EXPECT_EQ(events[0].finding.evidence.coroutine_frames[0].function, "fetch");
  EXPECT_THAT(events[0].finding.evidence.summary, HasSubstr("asyncio event loop stalled inside fetch"));
}

TEST_F(HangDetectorTest, ALongBusyLoopStaysOneOpenFinding) {
  auto threads = [](int i) {
    return std::vector<ThreadObservation>{
        Running(9, {Frame("spin", "loop.py", 4 + i % 2, 0xa, 10 + i % 2)}, kTick / 2)};
  };
  std::vector<FindingEvent> events = StepFor(4 * 120, threads);
  ASSERT_EQ(events.size(), 1u) << "reported once, never ended while it loops";
  EXPECT_TRUE(events[0].started);
  EXPECT_EQ(detector_.OpenFindings().size(), 1u);
}

TEST_F(HangDetectorTest, GilWaitCrossingTheThresholdOnAGlimpseIsStillAGilWait) {
  auto threads = [](int i) {
    ThreadObservation starving = Blocked(4, ThreadState::kGilWait, {Frame("tick", "ui.py", 3, 0xb)});
    if (i == 20) starving.verdict.state = ThreadState::kRunning;  // caught runnable as it crosses
    return std::vector<ThreadObservation>{starving};
  };
  std::vector<FindingEvent> events = StepFor(22, threads);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kGilWait);
}

TEST_F(HangDetectorTest, AThreadThatGetsItsTurnsOnTheGilIsNotStarving) {
  // Caught waiting for the GIL at the same instruction (a backward jump) at
  // most looks, but it runs half the time.
  auto threads = [](int i) {
    ThreadObservation sharer = Blocked(5, ThreadState::kGilWait, {Frame("spin", "s.py", 3, 0xb, 40)});
    sharer.cpu_ns = kTick / 2;
    if (i % 7 == 0) sharer.verdict.state = ThreadState::kRunning;
    return std::vector<ThreadObservation>{sharer};
  };
  for (const FindingEvent& event : StepFor(4 * 30, threads)) {
    EXPECT_NE(event.finding.kind, FindingKind::kGilWait);
  }
}

TEST_F(HangDetectorTest, TheSameThreadWithoutItsTurnsIsStarving) {
  // The control for the test above: it is quiet because the thread runs,
  // not because nothing would be reported.
  auto starved = [](int) {
    return std::vector<ThreadObservation>{
        Blocked(5, ThreadState::kGilWait, {Frame("spin", "s.py", 3, 0xb, 40)})};
  };
  std::vector<FindingEvent> events = StepFor(4 * 30, starved);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].finding.kind, FindingKind::kGilWait);
}

TEST_F(HangDetectorTest, NativeLoopFirstSeenWaitingForTheGilIsANativeLoop) {
  auto threads = [](int i) {
    ThreadObservation native = Running(3, {Frame("call_c", "ext.py", 7, 0xa, i == 0 ? 40 : 42)}, kTick);
    if (i == 0) native.verdict.state = ThreadState::kGilWait;  // just back from time.sleep()
    native.progress_fingerprint = i == 0 ? 1 : 2;
    return std::vector<ThreadObservation>{native};
  };
  std::vector<FindingEvent> events = StepFor(4 * 12, threads);
  std::vector<FindingKind> started;
  for (const FindingEvent& event : events) {
    if (event.started) started.push_back(event.finding.kind);
  }
  EXPECT_THAT(started, ::testing::Contains(FindingKind::kNativeLoop));
  ASSERT_EQ(detector_.OpenFindings().size(), 1u);
  EXPECT_EQ(detector_.OpenFindings()[0]->kind, FindingKind::kNativeLoop);
}

TEST_F(HangDetectorTest, ThreadExitAndEndAllCloseFindingsWithAReason) {
  auto stuck = [](int) {
    return std::vector<ThreadObservation>{Blocked(7, ThreadState::kIoWait, {Frame("recv", "c.py", 2, 0x1)}),
                                          Blocked(8, ThreadState::kIoWait, {Frame("recv", "c.py", 2, 0x1)})};
  };
  ASSERT_EQ(StepFor(22, stuck).size(), 2u);
  std::vector<FindingEvent> events = Step({Blocked(8, ThreadState::kIoWait, {Frame("recv", "c.py", 2, 0x1)})});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].end_reason, "thread exited");
  events = detector_.EndAll(now_, "process exited");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].end_reason, "process exited");
  EXPECT_TRUE(detector_.OpenFindings().empty());
}

TEST_F(HangDetectorTest, ChurningThreadsLeaveNoStaleFindings) {
  // Short-lived threads, each blocked for 2 s and replaced by a new one.
  std::vector<FindingEvent> events = StepFor(4 * 60, [](int i) {
    int64_t tid = 100 + i / 8;
    return std::vector<ThreadObservation>{Blocked(tid, ThreadState::kLockWait, {Frame("job", "j.py", 1, 0x1)})};
  });
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(detector_.OpenFindings().empty());
}

// A thread asleep (time.sleep) inside a handler of `type`; cpu_ns > 0 says
// it ran since the last look.
ThreadObservation InHandler(int64_t tid, const std::string& type, uint64_t cpu_ns, int line = 8) {
  ThreadObservation thread = Blocked(tid, ThreadState::kSleep, {Frame("connect_forever", "app.py", line, 0xabc)});
  thread.verdict.detail = "clock_nanosleep";
  thread.verdict.timed = true;
  thread.cpu_ns = cpu_ns;
  python::HandledException handling;
  handling.chain.push_back({python::ExceptionRelation::kHandled, type, "[Errno 111] Connection refused", 0x5000});
  thread.handling = handling;
  return thread;
}

TEST_F(HangDetectorTest, ARetryLoopIsReportedWithTheExceptionAndItsRounds) {
  // Back in the handler at every look, having run in between: a failing
  // connect and a short sleep, over and over.
  auto retrying = [](int) { return std::vector<ThreadObservation>{InHandler(9, "ConnectionRefusedError", 200'000)}; };
  EXPECT_TRUE(StepFor(20, retrying).empty());  // the default threshold: 5 s
  std::vector<FindingEvent> events = StepFor(2, retrying);
  ASSERT_EQ(events.size(), 1u);
  const Finding& f = events[0].finding;
  EXPECT_EQ(f.kind, FindingKind::kRetryLoop);
  EXPECT_THAT(f.tids, ElementsAre(9));
  ASSERT_TRUE(f.evidence.handling.has_value());
  EXPECT_EQ(f.evidence.handling->chain[0].type, "ConnectionRefusedError");
  EXPECT_GE(f.evidence.rounds, 19u);
  EXPECT_THAT(f.evidence.summary, HasSubstr("ConnectionRefusedError: [Errno 111] Connection refused"));
  EXPECT_THAT(f.evidence.summary, HasSubstr("connect_forever (app.py:8)"));
  EXPECT_EQ(detector_.StateOf(9), ThreadState::kRetryLoop);
  // A look that catches it in the failing call, between handlers, does not
  // end it; two in a row without the exception end the streak, and the
  // finding ends after two looks without its condition, like every other.
  ThreadObservation trying = Running(9, {Frame("connect_forever", "app.py", 6, 0xabc)}, 100'000);
  EXPECT_TRUE(Step({trying}).empty());
  EXPECT_TRUE(StepFor(4, retrying).empty());
  EXPECT_TRUE(Step({trying}).empty());
  EXPECT_TRUE(Step({trying}).empty());
  events = Step({trying});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_FALSE(events[0].started);
  EXPECT_EQ(events[0].end_reason, "condition cleared");
}

TEST_F(HangDetectorTest, ARetryLoopDueAtALookBetweenHandlersKeepsTheHandlersEvidence) {
  // Every third look catches it in the failing call (socket.py), not in
  // its handler, the look at which the 5 s threshold passes (the 21st) too;
  // the finding still names the exception and the handler.
  std::vector<FindingEvent> events = StepFor(21, [](int i) {
    if (i % 3 != 2) return std::vector<ThreadObservation>{InHandler(9, "ConnectionRefusedError", 200'000)};
    return std::vector<ThreadObservation>{Running(9, {Frame("__init__", "socket.py", 232, 0x5ac)}, 100'000)};
  });
  ASSERT_EQ(events.size(), 1u);
  const Evidence& e = events[0].finding.evidence;
  EXPECT_EQ(events[0].finding.kind, FindingKind::kRetryLoop);
  ASSERT_TRUE(e.handling.has_value());
  EXPECT_EQ(e.handling->chain[0].type, "ConnectionRefusedError");
  EXPECT_EQ(e.loop_where, "connect_forever (app.py:8)");
  EXPECT_THAT(e.summary, HasSubstr("ConnectionRefusedError: [Errno 111] Connection refused"));
}

TEST_F(HangDetectorTest, HandlersThatDoNotGoRoundAreNotRetryLoops) {
  // Asleep in one handler for good: it never runs, so it never went round.
  EXPECT_TRUE(StepFor(80, [](int) { return std::vector<ThreadObservation>{InHandler(3, "OSError", 0)}; }).empty());
  // A poller that succeeds handles nothing while it sleeps.
  EXPECT_TRUE(StepFor(80, [](int) {
    ThreadObservation poller = InHandler(4, "OSError", 200'000);
    poller.handling.reset();
    return std::vector<ThreadObservation>{poller};
  }).empty());
  // One that failed a few times, then recovered.
  EXPECT_TRUE(StepFor(80, [](int i) {
    ThreadObservation thread = InHandler(5, "ConnectionRefusedError", 200'000);
    if (i >= 6) thread.handling.reset();
    return std::vector<ThreadObservation>{thread};
  }).empty());
  // Different failures each time are not one loop on one failure.
  EXPECT_TRUE(StepFor(80, [](int i) {
    return std::vector<ThreadObservation>{InHandler(6, i % 2 ? "TimeoutError" : "ConnectionRefusedError", 200'000)};
  }).empty());
  EXPECT_TRUE(detector_.OpenFindings().empty());
}

TEST_F(HangDetectorTest, ALoopThatNeverBlocksIsABusyLoopWhateverItHandles) {
  std::vector<FindingEvent> events = StepFor(24, [](int i) {
    ThreadObservation thread = Running(8, {Frame("spin", "s.py", 3 + i % 2, 0x77, 10 + i % 2)}, kTick);
    thread.handling = InHandler(8, "ValueError", kTick).handling;
    return std::vector<ThreadObservation>{thread};
  });
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].finding.kind, FindingKind::kBusyLoop);
}

}  // namespace
}  // namespace pyhang::analysis
