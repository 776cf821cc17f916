// Parsers of /proc text, version strings, and the thread-state classifier.
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "userspace/common/clock.h"
#include "userspace/process/maps.h"
#include "userspace/python/python_process.h"
#include "userspace/python/python_version.h"
#include "userspace/python/versions.h"
#include "userspace/threads/kernel_thread.h"
#include "userspace/threads/thread_state.h"

namespace pyhang {
namespace {

TEST(ParseMaps, ReadsRangesPermissionsAndPaths) {
  std::vector<process::MemoryMap> maps = process::ParseMaps(
      "00400000-00423000 r--p 00000000 fe:01 1234   /usr/bin/python3.11\n"
      "7f0000000000-7f0000001000 rw-p 00010000 00:00 0 \n"
      "7f0000002000-7f0000003000 r-xp 00000000 fe:01 99  /opt/my app/lib.so (deleted)\n"
      "garbage line\n");
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].start, 0x400000u);
  EXPECT_EQ(maps[0].end, 0x423000u);
  EXPECT_TRUE(maps[0].readable);
  EXPECT_FALSE(maps[0].writable);
  EXPECT_EQ(maps[0].inode, 1234u);
  EXPECT_EQ(maps[0].path, "/usr/bin/python3.11");
  EXPECT_TRUE(maps[0].IsFile());
  EXPECT_FALSE(maps[1].IsFile());
  EXPECT_EQ(maps[1].offset, 0x10000u);
  EXPECT_EQ(maps[2].path, "/opt/my app/lib.so");
  EXPECT_TRUE(maps[2].deleted);
  EXPECT_TRUE(maps[2].executable);
}

TEST(PythonVersion, ParsesAndFormats) {
  EXPECT_EQ(python::PythonVersion::Parse("3.9.18")->ToString(), "3.9.18");
  EXPECT_EQ(python::PythonVersion::Parse("3.13.0rc1")->ToString(), "3.13.0rc1");
  EXPECT_EQ(python::PythonVersion::FromHex(0x030d00f0).ToString(), "3.13.0");
  EXPECT_EQ(python::PythonVersion::FromHex(0x030b02f0).ToString(), "3.11.2");
  EXPECT_EQ(python::PythonVersion::Parse("3.12.1")->ToHex(), 0x030c01f0u);
  EXPECT_FALSE(python::PythonVersion::Parse("python").has_value());
  EXPECT_TRUE(python::IsSupported(*python::PythonVersion::Parse("3.8.0")));
  EXPECT_FALSE(python::IsSupported(*python::PythonVersion::Parse("3.7.16")));
  EXPECT_TRUE(python::IsSupported(*python::PythonVersion::Parse("3.15.2")));
  EXPECT_FALSE(python::IsSupported(*python::PythonVersion::Parse("3.16.0")));
  EXPECT_FALSE(python::IsSupported(*python::PythonVersion::Parse("2.7.18")));
  EXPECT_EQ(python::SupportedRangeText(), "3.8-3.15");
}

TEST(VersionFromFileName, KnowsLibpythonAndExecutables) {
  EXPECT_EQ(python::VersionFromFileName("libpython3.9.so.1.0")->ToString(), "3.9");
  EXPECT_EQ(python::VersionFromFileName("libpython3.7m.so.1.0")->ToString(), "3.7");
  EXPECT_EQ(python::VersionFromFileName("python2.7")->ToString(), "2.7");
  EXPECT_EQ(python::VersionFromFileName("python3.12")->ToString(), "3.12");
  EXPECT_FALSE(python::VersionFromFileName("python3").has_value());
  EXPECT_FALSE(python::VersionFromFileName("bash").has_value());
}

TEST(FindVersionString, FindsPyGetVersionText) {
  std::string blob("\0\0junk 13.2 (x) 3.10.13 (main, May  9 2026, 07:36:11) [GCC 12.2.0]\0", 68);
  EXPECT_EQ(python::FindVersionString(blob)->ToString(), "3.10.13");
  EXPECT_FALSE(python::FindVersionString("version 3.10 only").has_value());
}

TEST(ParseStat, HandlesParenthesesInComm) {
  threads::KernelThread thread;
  ASSERT_TRUE(threads::ParseStat(
      "4242 (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 3 0 0 20 0 1 0 100 0 0 "
      "18446744073709551615 0 0 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0",
      &thread));
  EXPECT_EQ(thread.tid, 4242);
  EXPECT_EQ(thread.comm, "weird) name");
  EXPECT_EQ(thread.state, 'S');
  EXPECT_EQ(thread.user_ticks, 17u);
  EXPECT_EQ(thread.system_ticks, 3u);
  EXPECT_EQ(thread.processor, 1);
}

TEST(ParseKernelStack, FunctionNamesInnermostFirst) {
  EXPECT_EQ(threads::ParseKernelStack("[<0>] futex_wait_queue+0x60/0x90\n"
                                      "[<0>] __futex_wait+0x13b/0x1b0\n"
                                      "[<0>] entry_SYSCALL_64_after_hwframe+0x76/0x7e\n"),
            (std::vector<std::string>{"futex_wait_queue", "__futex_wait", "entry_SYSCALL_64_after_hwframe"}));
  EXPECT_TRUE(threads::ParseKernelStack("").empty());  // a running thread
  EXPECT_EQ(threads::ParseKernelStack("garbage\n[<0>] \n").size(), 1u);
}

TEST(ParseSyscall, ReadsNumberArgumentsAndRegisters) {
  threads::KernelThread blocked;
  ASSERT_TRUE(threads::ParseSyscall(
      "202 0x7f12a0 0x189 0x0 0x0 0x0 0xffffffff 0x7ffd10 0x7f55e0\n", &blocked));
  EXPECT_EQ(blocked.syscall_status, threads::SyscallStatus::kInSyscall);
  EXPECT_EQ(blocked.syscall, 202);
  EXPECT_EQ(blocked.args[0], 0x7f12a0u);
  EXPECT_EQ(blocked.args[1], 0x189u);
  EXPECT_EQ(blocked.stack_pointer, 0x7ffd10u);
  EXPECT_EQ(blocked.instruction_pointer, 0x7f55e0u);

  threads::KernelThread running;
  ASSERT_TRUE(threads::ParseSyscall("running\n", &running));
  EXPECT_EQ(running.syscall_status, threads::SyscallStatus::kRunning);

  threads::KernelThread faulting;
  ASSERT_TRUE(threads::ParseSyscall("-1 0x7ffd10 0x7f55e0\n", &faulting));
  EXPECT_EQ(faulting.syscall_status, threads::SyscallStatus::kNotInSyscall);
  EXPECT_FALSE(threads::ParseSyscall("", &faulting));
}

TEST(ParseSched, ReadsLastRunAndCpuTime) {
  threads::KernelThread thread;
  ASSERT_TRUE(threads::ParseSched(
      "sleep (14238, #threads: 1)\n-------\n"
      "se.exec_start                                :       2076237.449951\n"
      "se.vruntime                                  :        627660.306596\n"
      "se.sum_exec_runtime                          :             1.304515\n",
      &thread));
  EXPECT_EQ(thread.last_ran_sched_ns, 2076237449951u);
  EXPECT_EQ(thread.cpu_time_ns, 1304515u);
  EXPECT_FALSE(threads::ParseSched("nothing here", &thread));
}

TEST(SchedClock, PerCpuOffsetsKeepMonotonic) {
  EXPECT_EQ(threads::SchedClock({std::nullopt, 100}).ToMonotonic(1000, 1), 1100u);
  EXPECT_EQ(threads::SchedClock({std::nullopt, 100}).ToMonotonic(1000, 0), std::nullopt);
  EXPECT_EQ(threads::SchedClock({5}).ToMonotonic(1000, 3), std::nullopt);
  EXPECT_EQ(threads::SchedClock({5}).ToMonotonic(1000, -1), std::nullopt);
}

// A thread that blocks on each CPU in turn: the time it blocked, from its
// exec_start through the measured clock of the CPU it ran on, is what its
// own CLOCK_MONOTONIC said. (One offset for all CPUs is a second off on a
// VM up for hours: steal time is left out of each CPU's clock apart.)
TEST(SchedClock, BlockedSinceMatchesTheThreadsOwnClockOnEveryCpu) {
  cpu_set_t allowed;
  ASSERT_EQ(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
  std::optional<threads::SchedClock> clock = threads::SchedClock::Measure();
  ASSERT_TRUE(clock.has_value());
  cpu_set_t after;
  ASSERT_EQ(sched_getaffinity(0, sizeof(after), &after), 0);
  EXPECT_TRUE(CPU_EQUAL(&allowed, &after)) << "Measure() did not restore the affinity";
  // How far the thread's last run, read from the kernel and converted, is
  // from the moment it blocked; nullopt if it could not be read.
  auto error_ms_on = [&](int cpu) -> std::optional<int64_t> {
    int release[2];
    if (pipe(release) != 0) return std::nullopt;
    std::atomic<int64_t> tid{0};
    std::atomic<uint64_t> blocked_at{0};
    std::thread blocker([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      sched_setaffinity(0, sizeof(one), &one);
      tid = syscall(SYS_gettid);
      blocked_at = MonotonicNowNs();
      char byte;
      // One block, no wakeups until released: exec_start stays at blocked_at.
      (void)!read(release[0], &byte, 1);
    });
    while (blocked_at == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // asleep now
    threads::KernelReadOptions options;
    options.scheduler_times = true;
    absl::StatusOr<threads::KernelThread> thread = threads::ReadKernelThread(getpid(), tid, options);
    (void)!write(release[1], "x", 1);
    blocker.join();
    close(release[0]);
    close(release[1]);
    if (!thread.ok() || thread->processor != cpu) return std::nullopt;
    std::optional<uint64_t> since = clock->ToMonotonic(thread->last_ran_sched_ns, thread->processor);
    if (!since) return std::nullopt;
    return (static_cast<int64_t>(*since) - static_cast<int64_t>(blocked_at.load())) / 1000000;
  };
  int compared = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    // A loaded machine can preempt the blocker between its clock read and
    // its read(): that error is random and one-sided, so the best of three
    // tries is judged. A wrong offset would be wrong in all three.
    std::optional<int64_t> best;
    for (int attempt = 0; attempt < 3 && !(best && std::abs(*best) <= 20); ++attempt) {
      std::optional<int64_t> error_ms = error_ms_on(cpu);
      if (error_ms && (!best || std::abs(*error_ms) < std::abs(*best))) best = error_ms;
    }
    ASSERT_TRUE(best.has_value()) << "cpu " << cpu << ": the blocked thread's last run could not be read";
    EXPECT_LE(std::abs(*best), 20) << "cpu " << cpu;
    ++compared;
  }
  EXPECT_GE(compared, 1);
}

threads::KernelThread Blocked(int64_t syscall, uint64_t arg0 = 0, uint64_t arg1 = 0) {
  threads::KernelThread thread;
  thread.state = 'S';
  thread.syscall_status = threads::SyscallStatus::kInSyscall;
  thread.syscall = syscall;
  thread.args[0] = arg0;
  thread.args[1] = arg1;
  return thread;
}

TEST(ClassifyKernelThread, NamesWhatABlockedThreadWaitsFor) {
  threads::GilRange gil{0x5000, 208};
  using threads::ThreadState;
  auto state = [&](const threads::KernelThread& t) { return threads::ClassifyKernelThread(t, gil).state; };
  EXPECT_EQ(state(Blocked(202, 0x9000)), ThreadState::kLockWait);
  EXPECT_EQ(state(Blocked(202, 0x5000 + 40)), ThreadState::kGilWait);
  EXPECT_EQ(state(Blocked(202, 0x5000 + 208)), ThreadState::kLockWait);
  EXPECT_EQ(state(Blocked(230)), ThreadState::kSleep);                  // clock_nanosleep
  EXPECT_EQ(state(Blocked(270, 0)), ThreadState::kSleep);               // pselect6 with no fds
  EXPECT_EQ(state(Blocked(270, 5)), ThreadState::kIoWait);
  EXPECT_EQ(state(Blocked(45, 3)), ThreadState::kIoWait);               // recvfrom
  EXPECT_EQ(state(Blocked(232, 3)), ThreadState::kIoWait);              // epoll_wait
  EXPECT_EQ(state(Blocked(9999)), ThreadState::kUnknown);
  threads::KernelThread running;
  running.state = 'R';
  EXPECT_EQ(state(running), ThreadState::kRunning);
  EXPECT_EQ(threads::StateName(ThreadState::kGilWait), "gil_wait");

  // sem_wait() has no timeout; sem_clockwait() passes one in args[3].
  threads::KernelThread untimed = Blocked(202, 0x9000, 0x189);
  EXPECT_FALSE(threads::ClassifyKernelThread(untimed, gil).timed);
  threads::KernelThread timed = untimed;
  timed.args[3] = 0x7ffd0000;
  EXPECT_TRUE(threads::ClassifyKernelThread(timed, gil).timed);
  threads::KernelThread recv = Blocked(45, 7);
  EXPECT_EQ(threads::ClassifyKernelThread(recv, gil).fd, 7);
}

}  // namespace
}  // namespace pyhang
