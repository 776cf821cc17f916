// Hang events as `watch --json` prints them: the threads of a finding carry
// the finding's state, other threads shown as evidence keep the kernel's.
#include "userspace/output/watch_output.h"

#include "gtest/gtest.h"

namespace pyhang::output {
namespace {

using analysis::FindingKind;
using threads::ThreadState;

analysis::ThreadObservation Thread(int64_t tid, ThreadState kernel_state) {
  analysis::ThreadObservation thread;
  thread.tid = tid;
  thread.verdict.state = kernel_state;
  return thread;
}

std::string StateOfThread(const nlohmann::ordered_json& event, int64_t tid) {
  for (const auto& thread : event["threads"]) {
    if (thread["tid"] == tid) return thread["state"];
  }
  return "<missing>";
}

TEST(WatchOutputTest, FindingThreadsCarryTheFindingsStateNotTheLastLook) {
  struct Case {
    FindingKind kind;
    ThreadState last_look;
    const char* expected;
  };
  for (const Case& c : {Case{FindingKind::kBusyLoop, ThreadState::kRunning, "busy_loop"},
                        Case{FindingKind::kNativeLoop, ThreadState::kRunning, "native_loop"},
                        Case{FindingKind::kRetryLoop, ThreadState::kSleep, "retry_loop"},
                        Case{FindingKind::kGilWait, ThreadState::kRunning, "gil_wait"},
                        Case{FindingKind::kDeadlock, ThreadState::kLockWait, "deadlock"},
                        Case{FindingKind::kIoWait, ThreadState::kSleep, "sleep"}}) {
    analysis::FindingEvent event;
    event.finding.kind = c.kind;
    event.finding.tids = {7};
    // Thread 8 is evidence only (e.g. the GIL holder).
    event.finding.threads = {Thread(7, c.last_look), Thread(8, ThreadState::kRunning)};
    nlohmann::ordered_json json = FindingEventJson(event, 0, 0);
    EXPECT_EQ(StateOfThread(json, 7), c.expected) << analysis::KindName(c.kind);
    EXPECT_EQ(StateOfThread(json, 8), "running") << analysis::KindName(c.kind);
  }
}

TEST(WatchOutputTest, RetryLoopEvidenceCarriesTheExceptionAndRounds) {
  analysis::FindingEvent event;
  event.finding.kind = FindingKind::kRetryLoop;
  event.finding.tids = {7};
  event.finding.threads = {Thread(7, ThreadState::kSleep)};
  python::HandledException handling;
  handling.chain.push_back({python::ExceptionRelation::kHandled, "ConnectionRefusedError",
                            "[Errno 111] Connection refused", 0x10});
  handling.chain.push_back({python::ExceptionRelation::kContext, "KeyError", "'k'", 0x20});
  event.finding.evidence.handling = handling;
  event.finding.evidence.rounds = 12;
  event.finding.evidence.loop_where = "connect (app.py:8)";
  nlohmann::ordered_json evidence = FindingEventJson(event, 0, 0)["evidence"];
  EXPECT_EQ(evidence["exception"]["type"], "ConnectionRefusedError");
  EXPECT_EQ(evidence["exception"]["message"], "[Errno 111] Connection refused");
  EXPECT_EQ(evidence["exception"]["chain"][0]["relation"], "context");
  EXPECT_EQ(evidence["exception"]["chain"][0]["type"], "KeyError");
  EXPECT_EQ(evidence["rounds"], 12);
  EXPECT_EQ(evidence["where"], "connect (app.py:8)");
}

}  // namespace
}  // namespace pyhang::output
