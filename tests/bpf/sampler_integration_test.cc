// The BPF sampler against real interpreters (every supported version found:
// pyenv's, Debian's /usr/bin/python3, the sid root's chrooted 3.14/3.15, and
// pid-namespace twins; see tests/common/interpreters.h): a busy thread must
// be sampled with complete, decodable stacks; blocked threads must produce
// off-CPU intervals with the syscall they blocked in and their Python
// stack; errors are reported.
//
// Needs root. Without it the tests skip, unless PYHANG_REQUIRE_BPF=1 makes
// every skip a failure (and PYHANG_REQUIRE_PYTHONS every missing interpreter).
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/bpf/workload_process.h"
#include "tests/common/interpreters.h"
#include "userspace/common/file_util.h"
#include "userspace/memory/process_reader.h"
#include "userspace/python/decoder.h"
#include "userspace/python/python_process.h"
#include "userspace/python/python_target.h"
#include "userspace/python/versions.h"
#include "userspace/sampler/bpf_sampler.h"
#include "userspace/sampler/proc_config.h"
#include "userspace/sampler/stack_frames.h"
#include "userspace/threads/syscalls.h"

namespace pyhang::testing {
namespace {

namespace fs = std::filesystem;
using sampler::BpfSampler;
using sampler::Event;
using sampler::OffCpuEvent;
using sampler::Sample;
using sampler::SamplerOptions;

// ---- environment ----

uint64_t MonotonicNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);  // the clock of bpf_ktime_get_ns()
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

bool RequireBpf() {
  const char* value = std::getenv("PYHANG_REQUIRE_BPF");
  return value != nullptr && std::string(value) == "1";
}

#define SKIP_OR_FAIL(message)                                                   \
  do {                                                                          \
    if (RequireBpf()) {                                                         \
      FAIL() << message << " (a failure because PYHANG_REQUIRE_BPF=1)";         \
    } else {                                                                    \
      GTEST_SKIP() << message;                                                  \
    }                                                                           \
  } while (0)

bool RequirePythons() { return PythonsRequired(); }

// Every discovered interpreter (tests/common/interpreters.h: pyenv's,
// /usr/bin/python3, the sid root's, chrooted) and pid-namespace twins.
const std::vector<Interpreter>& Interpreters() {
  static const std::vector<Interpreter>* interpreters =
      new std::vector<Interpreter>(WithPidNamespaceTwins(FindInterpreters()));
  return *interpreters;
}

#define SKIP_OR_FAIL_NO_INTERPRETER()                                                    \
  do {                                                                                   \
    if (RequirePythons()) FAIL() << "no interpreter found, but PYHANG_REQUIRE_PYTHONS is set"; \
    SKIP_OR_FAIL("no supported Python interpreter found");                               \
  } while (0)

// ---- one run of the workload under the sampler ----

struct ThreadIds {
  uint32_t busy = 0, sleeper = 0, lock_waiter = 0, blocked = 0, main = 0;
};

struct Collected {
  std::vector<Sample> samples;
  std::vector<OffCpuEvent> offcpu;
  std::vector<OffCpuEvent> blocked_now;
  size_t exits = 0;
  double seconds = 0;
  double busy_cpu_seconds = 0;  // CPU time the busy thread got meanwhile
};

// The workload, the decoder over it and the sampler watching it.
class Scenario {
 public:
  // Everything up to "go"; a non-OK status means the environment cannot run it.
  absl::Status Start(const Interpreter& interpreter, const SamplerOptions& options) {
    absl::StatusOr<std::unique_ptr<BpfSampler>> sampler = BpfSampler::Create(options);
    if (!sampler.ok()) return sampler.status();
    sampler_ = *std::move(sampler);
    if (options.collect_run_stats) {
      // Cost of the programs with no target: what every other process pays.
      absl::SleepFor(absl::Seconds(1));
      absl::StatusOr<std::vector<sampler::ProgramRunStats>> idle = sampler_->ProgramStats();
      if (!idle.ok()) return idle.status();
      idle_ = *std::move(idle);
    }
    if (absl::Status launched = Launch(interpreter); !launched.ok()) return launched;
    if (absl::Status attached = Attach(); !attached.ok()) return attached;
    return StartThreads();
  }

  // Time the thread has spent on a CPU (/proc/PID/task/TID/schedstat).
  absl::StatusOr<uint64_t> ThreadCpuNs(uint32_t tid) {
    absl::StatusOr<std::string> text = ReadFileToString(
        absl::StrCat("/proc/", pid_, "/task/", tid, "/schedstat"), 4096);
    if (!text.ok()) return text.status();
    uint64_t ns = 0;
    std::vector<absl::string_view> fields = absl::StrSplit(*text, ' ');
    if (fields.empty() || !absl::SimpleAtoi(fields[0], &ns)) {
      return absl::InternalError(absl::StrCat("bad schedstat: ", *text));
    }
    return ns;
  }

  absl::StatusOr<Collected> Collect(absl::Duration duration) {
    Collected collected;
    absl::StatusOr<uint64_t> busy_before = ThreadCpuNs(tids_.busy);
    if (!busy_before.ok()) return busy_before.status();
    absl::Time start = absl::Now();
    absl::Time end = start + duration;
    // Samples queued while the threads were starting are not part of the run.
    uint64_t start_ns = MonotonicNs();
    auto on_event = [&](const Event& event) {
      if (const auto* sample = std::get_if<Sample>(&event)) {
        if (sample->ktime_ns >= start_ns) collected.samples.push_back(*sample);
      } else if (const auto* off = std::get_if<OffCpuEvent>(&event)) {
        if (off->start_ns >= start_ns) collected.offcpu.push_back(*off);
      } else {
        ++collected.exits;
      }
    };
    while (absl::Now() < end) {
      absl::StatusOr<size_t> polled = sampler_->Poll(absl::Milliseconds(50), on_event);
      if (!polled.ok()) return polled.status();
    }
    collected.seconds = absl::ToDoubleSeconds(absl::Now() - start);
    absl::StatusOr<uint64_t> busy_after = ThreadCpuNs(tids_.busy);
    if (!busy_after.ok()) return busy_after.status();
    collected.busy_cpu_seconds = (*busy_after - *busy_before) / 1e9;
    absl::StatusOr<size_t> rest = sampler_->Poll(absl::ZeroDuration(), on_event);
    if (!rest.ok()) return rest.status();
    absl::StatusOr<std::vector<OffCpuEvent>> blocked = sampler_->BlockedThreads();
    if (!blocked.ok()) return blocked.status();
    collected.blocked_now = *std::move(blocked);
    return collected;
  }

  absl::Status Stop() {
    if (absl::Status stop = workload_->WriteLine("stop"); !stop.ok()) return stop;
    absl::StatusOr<int> status = workload_->Wait(absl::Seconds(20));
    if (!status.ok()) return status.status();
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      return absl::InternalError(absl::StrCat("workload exit status ", *status));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<sampler::SymbolizedStack> Symbolize(const sampler::PythonStack& stack) {
    return sampler::SymbolizeStack(target_->decoder().walker(), stack);
  }

  // Run time per target event: total minus the no-target cost of the other
  // runs, over the runs that did target work.
  std::string TargetCosts() {
    absl::StatusOr<std::vector<sampler::ProgramRunStats>> now = sampler_->ProgramStats();
    absl::StatusOr<sampler::StatCounts> stats = sampler_->ReadStats();
    if (!now.ok() || !stats.ok() || idle_.size() != now->size()) return " (no run stats)";
    std::string text;
    for (size_t i = 0; i < now->size(); ++i) {
      const sampler::ProgramRunStats& before = idle_[i];
      const sampler::ProgramRunStats& after = (*now)[i];
      uint64_t target_runs = 0;
      if (after.name == "pyhang_on_cpu") {
        target_runs = (*stats)[PYHANG_STAT_SAMPLES];
      } else if (absl::StartsWith(after.name, "pyhang_sched_switch")) {
        target_runs = (*stats)[PYHANG_STAT_SWITCH_OUT] + (*stats)[PYHANG_STAT_OFFCPU_EVENTS];
      } else {
        continue;
      }
      double idle_cost = before.run_count ? double(before.run_time_ns) / before.run_count : 0;
      uint64_t runs = after.run_count - before.run_count;
      double time = after.run_time_ns - before.run_time_ns;
      double other = runs > target_runs ? (runs - target_runs) * idle_cost : 0;
      double per_target = target_runs ? (time - other) / target_runs : 0;
      absl::StrAppendFormat(&text, " %s: %.2fus per target event (%d), %.2fus otherwise",
                            after.name, per_target / 1000, target_runs, idle_cost / 1000);
    }
    return text;
  }

  BpfSampler& sampler() { return *sampler_; }
  const ThreadIds& tids() const { return tids_; }
  const sampler::ProcessConfig& config() const { return config_; }
  const python::PythonProcess& process() const { return target_->process(); }
  // The Python's host pid (not its launcher's).
  pid_t pid() const { return pid_; }

 private:
  // Starts the workload and finds the Python's host pid. Truth from the
  // Python itself: the pid it reports (os.getpid()) must be that process's
  // innermost NSpid, and without a pid namespace the spawned pid itself.
  absl::Status Launch(const Interpreter& interpreter) {
    absl::StatusOr<std::unique_ptr<WorkloadProcess>> workload =
        WorkloadProcess::Start(interpreter.Argv({PYHANG_BPF_WORKLOAD}));
    if (!workload.ok()) return workload.status();
    workload_ = *std::move(workload);
    absl::StatusOr<std::string> ready = workload_->ReadLine(absl::Seconds(30));
    if (!ready.ok()) return ready.status();
    int64_t reported = 0;
    absl::string_view words = *ready;
    if (!absl::ConsumePrefix(&words, "ready ") || !absl::SimpleAtoi(words, &reported)) {
      return absl::InternalError(absl::StrCat("workload said \"", *ready, "\", not \"ready PID\""));
    }
    absl::StatusOr<pid_t> pid = FindPythonPid(interpreter, workload_->pid(), absl::Seconds(10));
    if (!pid.ok()) return pid.status();
    pid_ = *pid;
    absl::StatusOr<int64_t> ns_pid = NamespacePid(pid_);
    if (!ns_pid.ok()) return ns_pid.status();
    if (*ns_pid != reported || (!interpreter.pidns && pid_ != reported)) {
      return absl::InternalError(absl::StrCat("the Python says its pid is ", reported, "; host pid ",
                                              pid_, " (launched as ", workload_->pid(),
                                              ") has namespace pid ", *ns_pid));
    }
    return absl::OkStatus();
  }

  absl::Status Attach() {
    absl::StatusOr<std::unique_ptr<python::PythonTarget>> target =
        python::PythonTarget::AttachLive(pid_);
    if (!target.ok()) return target.status();
    target_ = *std::move(target);
    absl::StatusOr<sampler::ProcessConfig> config =
        sampler::ComputeProcessConfig(target_->decoder(), target_->target());
    if (!config.ok()) return config.status();
    config_ = *std::move(config);
    return sampler_->AddTarget(pid_, config_.record);
  }

  // "go", then the threads' ids: the workload reports them in its own pid
  // namespace; BPF events carry host ids.
  absl::Status StartThreads() {
    if (absl::Status go = workload_->WriteLine("go"); !go.ok()) return go;
    absl::StatusOr<std::string> line = workload_->ReadLine(absl::Seconds(30));
    if (!line.ok()) return line.status();
    nlohmann::json reported = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (!reported.is_object()) return absl::InternalError(absl::StrCat("workload said ", *line));
    absl::StatusOr<std::map<int64_t, int64_t>> host = HostTidsByNamespaceTid(pid_);
    if (!host.ok()) return host.status();
    uint32_t* slots[] = {&tids_.busy, &tids_.sleeper, &tids_.lock_waiter, &tids_.blocked, &tids_.main};
    const char* names[] = {"busy", "sleeper", "lock_waiter", "blocked", "main"};
    for (size_t i = 0; i < std::size(names); ++i) {
      const nlohmann::json& ns_tid = reported[names[i]];
      if (!ns_tid.is_number_integer() || !host->contains(ns_tid.get<int64_t>())) {
        return absl::InternalError(absl::StrCat("workload's ", names[i], " tid in ", *line,
                                                " is no thread of process ", pid_));
      }
      *slots[i] = static_cast<uint32_t>(host->at(ns_tid.get<int64_t>()));
    }
    return absl::OkStatus();
  }

  std::unique_ptr<BpfSampler> sampler_;
  std::unique_ptr<WorkloadProcess> workload_;
  std::unique_ptr<python::PythonTarget> target_;
  sampler::ProcessConfig config_;
  pid_t pid_ = 0;
  ThreadIds tids_;
  std::vector<sampler::ProgramRunStats> idle_;
};

std::string Innermost(const sampler::SymbolizedStack& stack) {
  return stack.frames.empty() ? "" : stack.frames.front().function;
}

std::string Outermost(const sampler::SymbolizedStack& stack) {
  return stack.frames.empty() ? "" : stack.frames.back().function;
}

std::string Describe(const sampler::SymbolizedStack& stack) {
  std::vector<std::string> names;
  for (const python::PyFrame& frame : stack.frames) names.push_back(frame.function);
  return absl::StrCat(absl::StrJoin(names, " <- "), stack.error.empty() ? "" : " [", stack.error,
                      stack.error.empty() ? "" : "]");
}

struct BusyReport {
  size_t samples = 0;
  size_t complete = 0;  // innermost busy_function, root _bootstrap
  std::map<std::string, size_t> failures;  // description -> count
};

BusyReport CheckBusySamples(Scenario& scenario, const Collected& collected) {
  BusyReport report;
  for (const Sample& sample : collected.samples) {
    if (sample.tid != scenario.tids().busy) continue;
    ++report.samples;
    absl::StatusOr<sampler::SymbolizedStack> stack = scenario.Symbolize(sample.stack);
    if (!stack.ok()) {
      ++report.failures[std::string(stack.status().message())];
      continue;
    }
    bool complete = stack->error.empty() && !stack->truncated &&
                    Innermost(*stack) == "busy_function" &&
                    (Outermost(*stack) == "_bootstrap" || Outermost(*stack) == "<module>");
    if (complete) {
      ++report.complete;
    } else {
      ++report.failures[Describe(*stack)];
    }
  }
  return report;
}

std::string FormatFailures(const std::map<std::string, size_t>& failures) {
  std::string text;
  for (const auto& [what, count] : failures) absl::StrAppend(&text, "\n  ", count, "x ", what);
  return text;
}

std::string Role(const ThreadIds& tids, uint32_t tid) {
  if (tid == tids.busy) return "busy";
  if (tid == tids.sleeper) return "sleeper";
  if (tid == tids.lock_waiter) return "lock_waiter";
  if (tid == tids.blocked) return "blocked";
  if (tid == tids.main) return "main";
  return absl::StrCat("tid", tid);
}

// "sleeper/clock_nanosleep=100 busy/preempted=3 ..." for diagnostics.
std::string OffCpuBreakdown(const ThreadIds& tids, const std::vector<OffCpuEvent>& events) {
  std::map<std::string, size_t> counts;
  for (const OffCpuEvent& event : events) {
    std::string why = event.preempted() ? "preempted"
                      : !threads::KnownSyscallName(event.syscall_nr).empty()
                          ? std::string(threads::KnownSyscallName(event.syscall_nr))
                          : absl::StrCat("syscall", event.syscall_nr);
    ++counts[absl::StrCat(Role(tids, event.tid), "/", why)];
  }
  std::string text;
  for (const auto& [what, count] : counts) absl::StrAppend(&text, " ", what, "=", count);
  return text;
}

bool IsSleepSyscall(int64_t nr) {
  return nr == threads::kClockNanosleep || nr == threads::kNanosleep || nr == threads::kSelect ||
         nr == threads::kPselect6 || nr == threads::kPoll || nr == threads::kPpoll;
}

// ---- tests ----

class BpfSamplerTest : public ::testing::TestWithParam<Interpreter> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) SKIP_OR_FAIL("BPF integration tests need root");
  }
};

TEST_P(BpfSamplerTest, SamplesBusyThreadAndAccountsBlockedOnes) {
  const Interpreter& interpreter = GetParam();
  SamplerOptions options;
  options.frequency_hz = 1000;
  options.collect_run_stats = true;
  Scenario scenario;
  absl::Status started = scenario.Start(interpreter, options);
  if (absl::StartsWith(started.message(), "BPF unavailable")) SKIP_OR_FAIL(started.message());
  ASSERT_TRUE(started.ok()) << started;
  // How BPF finds each thread's PyThreadState: the pthread TSS key, or on
  // 3.15+ (no autoTSSkey) the thread-local _Py_tss_gilstate.
  if (python::Has(scenario.process().runtime.offsets.runtime_tss_key)) {
    EXPECT_TRUE(scenario.config().tss_layout_derived);
    EXPECT_GE(scenario.config().record.tss_key, 0);
  } else {
    EXPECT_TRUE(scenario.config().tls_derived);
    EXPECT_NE(scenario.config().record.tls_module, PYHANG_ABSENT);
  }
  EXPECT_EQ(scenario.config().record.in_pid_namespace, interpreter.pidns ? 1u : 0u);
  for (const std::string& warning : scenario.config().warnings) ADD_FAILURE() << warning;

  absl::StatusOr<Collected> collected = scenario.Collect(absl::Seconds(2));
  ASSERT_TRUE(collected.ok()) << collected.status();

  // On CPU: one sample per period of CPU time the busy thread got (the
  // machine may be shared, so not per period of wall time), all complete.
  BusyReport busy = CheckBusySamples(scenario, *collected);
  double expected = options.frequency_hz * collected->busy_cpu_seconds;
  EXPECT_GE(busy.samples, 0.8 * expected) << "busy thread samples vs its CPU time";
  EXPECT_LE(busy.samples, 1.2 * expected + 10) << "busy thread samples vs its CPU time";
  ASSERT_GT(busy.samples, 0u);
  EXPECT_GE(busy.complete, 0.99 * busy.samples)
      << busy.complete << " of " << busy.samples << " complete; others:"
      << FormatFailures(busy.failures);

  // Off CPU: sleeps (and the GIL waits after them) and timed lock waits,
  // each with the syscall it blocked in, a duration and the Python stack.
  size_t sleeps = 0, lock_waits = 0, sleeps_ok = 0, lock_waits_ok = 0;
  for (const OffCpuEvent& event : collected->offcpu) {
    EXPECT_GT(event.end_ns, event.start_ns);
    bool sleeper = event.tid == scenario.tids().sleeper && IsSleepSyscall(event.syscall_nr);
    bool waiter = event.tid == scenario.tids().lock_waiter && event.syscall_nr == threads::kFutex;
    if (!sleeper && !waiter) continue;
    absl::StatusOr<sampler::SymbolizedStack> stack = scenario.Symbolize(event.stack);
    ASSERT_TRUE(stack.ok()) << stack.status();
    if (sleeper) {
      ++sleeps;
      sleeps_ok += Innermost(*stack) == "sleepy" && Outermost(*stack) == "_bootstrap" &&
                   event.DurationNs() >= 10'000'000;
    } else {
      ++lock_waits;
      lock_waits_ok += Innermost(*stack) == "lock_waiter" && Outermost(*stack) == "_bootstrap";
    }
  }
  std::string breakdown = OffCpuBreakdown(scenario.tids(), collected->offcpu);
  EXPECT_GE(sleeps, 20u) << breakdown;
  EXPECT_GE(sleeps_ok, 0.95 * sleeps) << sleeps_ok << " of " << sleeps << " sleeps as expected";
  EXPECT_GE(lock_waits, 20u) << breakdown;
  EXPECT_GE(lock_waits_ok, 0.95 * lock_waits)
      << lock_waits_ok << " of " << lock_waits << " lock waits as expected";

  // Still blocked: the thread stuck on a lock since "go".
  std::optional<OffCpuEvent> stuck;
  for (const OffCpuEvent& event : collected->blocked_now) {
    if (event.tid == scenario.tids().blocked) stuck = event;
  }
  ASSERT_TRUE(stuck.has_value()) << "blocked thread not in BlockedThreads()";
  EXPECT_TRUE(stuck->still_off_cpu());
  EXPECT_EQ(stuck->syscall_nr, threads::kFutex);
  absl::StatusOr<sampler::SymbolizedStack> stuck_stack = scenario.Symbolize(stuck->stack);
  ASSERT_TRUE(stuck_stack.ok()) << stuck_stack.status();
  EXPECT_EQ(Innermost(*stuck_stack), "blocked_forever") << Describe(*stuck_stack);
  EXPECT_EQ(Outermost(*stuck_stack), "_bootstrap") << Describe(*stuck_stack);
  absl::StatusOr<std::vector<uint64_t>> kernel = scenario.sampler().KernelStack(stuck->kernel_stack_id);
  EXPECT_TRUE(kernel.ok() && !kernel->empty()) << "no kernel stack for the blocked thread";

  absl::StatusOr<sampler::ErrorCounts> errors = scenario.sampler().ReadErrorCounts();
  ASSERT_TRUE(errors.ok()) << errors.status();
  absl::StatusOr<sampler::StatCounts> stats = scenario.sampler().ReadStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(errors->counts[PYHANG_ERR_BAD_CONFIG], 0u);
  EXPECT_EQ(errors->counts[PYHANG_ERR_TSTATE_THREAD_ID], 0u);
  EXPECT_EQ(errors->counts[PYHANG_ERR_TSTATE_NATIVE_ID], 0u);
  EXPECT_EQ(errors->counts[PYHANG_ERR_RINGBUF_FULL], 0u);
  EXPECT_EQ(scenario.sampler().malformed_events(), 0u);

  std::string summary = absl::StrFormat(
      "%s (%s): busy %d samples in %.2fs (%.2f CPU-s) = %.0f per CPU-s at %d Hz, %d complete "
      "(%.2f%%); off-CPU events %d (sleeps %d, lock waits %d):%s; errors: %s; stats: %s;%s",
      interpreter.label, scenario.process().runtime.version.ToString(), busy.samples,
      collected->seconds, collected->busy_cpu_seconds, busy.samples / collected->busy_cpu_seconds,
      options.frequency_hz, busy.complete, 100.0 * busy.complete / busy.samples,
      collected->offcpu.size(), sleeps, lock_waits, breakdown, errors->ToString(), stats->ToString(), scenario.TargetCosts());
  if (!busy.failures.empty()) summary += absl::StrCat("; incomplete:", FormatFailures(busy.failures));
  std::cout << summary << std::endl;
  RecordProperty("summary", summary);

  // Exit: every thread reports, the last one as the process; the target is dropped.
  ASSERT_TRUE(scenario.Stop().ok());
  size_t exits = 0, process_exits = 0;
  for (int i = 0; i < 20 && process_exits == 0; ++i) {
    absl::StatusOr<size_t> polled =
        scenario.sampler().Poll(absl::Milliseconds(50), [&](const Event& event) {
          if (const auto* exit = std::get_if<sampler::ThreadExit>(&event)) {
            ++exits;
            process_exits += exit->process_exited;
          }
        });
    ASSERT_TRUE(polled.ok()) << polled.status();
  }
  EXPECT_GE(exits, 5u);
  EXPECT_EQ(process_exits, 1u);
  EXPECT_FALSE(scenario.sampler().HasTarget(scenario.pid()));
  absl::StatusOr<size_t> left = scenario.sampler().TrackedThreads();
  ASSERT_TRUE(left.ok()) << left.status();
  EXPECT_EQ(*left, 0u) << "per-thread state of the exited process left behind";
}

INSTANTIATE_TEST_SUITE_P(Interpreters, BpfSamplerTest, ::testing::ValuesIn(Interpreters()),
                         [](const auto& info) { return info.param.TestName(); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(BpfSamplerTest);

// What the per-interpreter tests above run on: every version pyhang
// supports that is here, PYHANG_REQUIRE_PYTHONS satisfied, each one starting
// as the version it claims. So the list cannot quietly shrink.
TEST(BpfSamplerEnvironmentTest, FindsInterpreters) {
  if (Interpreters().empty()) SKIP_OR_FAIL_NO_INTERPRETER();
  absl::Status required = CheckRequiredPythons(Interpreters(), Variants::kWithPidNamespaces);
  EXPECT_TRUE(required.ok()) << required.message();
  std::set<std::string> labels;
  for (const Interpreter& interpreter : Interpreters()) {
    std::cout << interpreter.label << ": " << interpreter.ShellCommand({}) << std::endl;
    EXPECT_TRUE(labels.insert(interpreter.TestName()).second) << "two interpreters named " << interpreter.label;
    EXPECT_TRUE(python::IsSupported({3, interpreter.minor, 0})) << interpreter.label;
    absl::Status started = Probe(interpreter);
    EXPECT_TRUE(started.ok()) << interpreter.label << ": " << started.message();
  }
}

// The last one on the host as it is (no chroot, no pid namespace): Debian's
// python3 when there is one.
const Interpreter* HostInterpreter() {
  const Interpreter* found = nullptr;
  for (const Interpreter& interpreter : Interpreters()) {
    if (interpreter.root.empty() && !interpreter.pidns) found = &interpreter;
  }
  return found;
}

// The fallbacks (raw_tp tracepoints, bounded loop instead of bpf_loop) and
// the rates at 100 Hz and 1 kHz, on one interpreter.
class BpfSamplerModesTest : public ::testing::TestWithParam<std::pair<uint32_t, bool>> {};

TEST_P(BpfSamplerModesTest, RateAndCompleteness) {
  if (geteuid() != 0) SKIP_OR_FAIL("BPF integration tests need root");
  const Interpreter* host = HostInterpreter();
  if (host == nullptr) SKIP_OR_FAIL_NO_INTERPRETER();
  const Interpreter& interpreter = *host;
  auto [frequency, fallbacks] = GetParam();
  SamplerOptions options;
  options.frequency_hz = frequency;
  options.collect_run_stats = true;
  options.force_raw_tracepoints = fallbacks;
  options.force_bounded_loop = fallbacks;
  Scenario scenario;
  absl::Status started = scenario.Start(interpreter, options);
  if (absl::StartsWith(started.message(), "BPF unavailable")) SKIP_OR_FAIL(started.message());
  ASSERT_TRUE(started.ok()) << started;
  absl::StatusOr<Collected> collected = scenario.Collect(absl::Seconds(2));
  ASSERT_TRUE(collected.ok()) << collected.status();
  BusyReport busy = CheckBusySamples(scenario, *collected);
  double rate = busy.samples / collected->busy_cpu_seconds;  // per CPU-second
  EXPECT_GE(rate, 0.8 * frequency);
  EXPECT_LE(rate, 1.2 * frequency + 10 / collected->busy_cpu_seconds);
  EXPECT_GE(busy.complete, 0.99 * busy.samples) << FormatFailures(busy.failures);
  size_t offcpu = 0;
  for (const OffCpuEvent& event : collected->offcpu) offcpu += event.tid == scenario.tids().sleeper;
  EXPECT_GE(offcpu, 20u);
  absl::StatusOr<sampler::ErrorCounts> errors = scenario.sampler().ReadErrorCounts();
  ASSERT_TRUE(errors.ok());
  std::string summary = absl::StrFormat(
      "%s at %d Hz (%s): busy %.0f samples per CPU-s (%.0f/s wall, %.2f CPU-s in %.2fs), %d/%d "
      "complete; errors: %s;%s",
      interpreter.label, frequency, scenario.sampler().features().ToString(), rate,
      busy.samples / collected->seconds, collected->busy_cpu_seconds, collected->seconds,
      busy.complete, busy.samples, errors->ToString(), scenario.TargetCosts());
  if (fallbacks) summary += " [forced raw_tp + bounded loop]";
  std::cout << summary << std::endl;
  RecordProperty("summary", summary);

  // RemoveTarget stops everything for the process at once.
  ASSERT_TRUE(scenario.sampler().RemoveTarget(scenario.pid()).ok());
  EXPECT_FALSE(scenario.sampler().HasTarget(scenario.pid()));
  EXPECT_EQ(scenario.sampler().TrackedThreads().value_or(99), 0u);
  uint64_t removed_ns = MonotonicNs();
  absl::SleepFor(absl::Milliseconds(200));
  size_t late = 0;
  ASSERT_TRUE(scenario.sampler()
                  .Poll(absl::ZeroDuration(),
                        [&](const Event& event) {
                          if (const auto* sample = std::get_if<Sample>(&event)) {
                            late += sample->ktime_ns > removed_ns;
                          }
                        })
                  .ok());
  EXPECT_EQ(late, 0u) << "samples after RemoveTarget";
  EXPECT_TRUE(scenario.Stop().ok());
}

INSTANTIATE_TEST_SUITE_P(Modes, BpfSamplerModesTest,
                         ::testing::Values(std::make_pair(100u, false), std::make_pair(1000u, false),
                                           std::make_pair(1000u, true)),
                         [](const auto& info) {
                           return absl::StrCat(info.param.first, "Hz",
                                               info.param.second ? "_fallbacks" : "");
                         });

// BpfSampler::Create(`options`)'s error as the user nobody: CI runs as root,
// so a child process drops root (and with it every capability) first.
// "" if it succeeded.
absl::StatusOr<std::string> CreateErrorAsNobody(const SamplerOptions& options) {
  int fds[2];
  if (pipe(fds) != 0) return absl::InternalError("pipe failed");
  pid_t child = fork();
  if (child < 0) return absl::InternalError("fork failed");
  if (child == 0) {
    close(fds[0]);
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    absl::StatusOr<std::unique_ptr<BpfSampler>> sampler = BpfSampler::Create(options);
    std::string message(sampler.ok() ? "" : sampler.status().message());
    bool written = write(fds[1], message.data(), message.size()) == ssize_t(message.size());
    _exit(written ? 0 : 3);
  }
  close(fds[1]);
  std::string message;
  char buffer[4096];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof(buffer))) > 0;) message.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("the child as nobody failed: status ", status));
  }
  return message;
}

TEST(BpfSamplerUnavailableTest, ErrorIsOneLineForTheUser) {
  // Bad options: refused before anything is loaded, whoever runs it.
  SamplerOptions options;
  options.frequency_hz = 20000;
  absl::StatusOr<std::unique_ptr<BpfSampler>> sampler = BpfSampler::Create(options);
  ASSERT_FALSE(sampler.ok());
  EXPECT_EQ(sampler.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(absl::StrContains(sampler.status().message(), "\n"));

  // No privileges: the one line the CLI shows (and falls back on).
  std::string message;
  if (geteuid() == 0) {
    absl::StatusOr<std::string> as_nobody = CreateErrorAsNobody(SamplerOptions{});
    ASSERT_TRUE(as_nobody.ok()) << as_nobody.status();
    message = *as_nobody;
  } else {
    sampler = BpfSampler::Create(SamplerOptions{});
    if (!sampler.ok()) message = std::string(sampler.status().message());
  }
  ASSERT_FALSE(message.empty()) << "BPF loaded without privileges (uid " << geteuid() << ")";
  EXPECT_TRUE(absl::StartsWith(message, "BPF unavailable: ")) << message;
  EXPECT_FALSE(absl::StrContains(message, "\n")) << message;
  std::cout << "without privileges: " << message << std::endl;
}

}  // namespace
}  // namespace pyhang::testing
