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

}  // namespace
}  // namespace pyhang::output
