#include "collectors/prometheus/watch_metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pyhang::collectors {
namespace {

using threads::ThreadState;

constexpr ThreadState kStates[] = {ThreadState::kRunning,   ThreadState::kBusyLoop, ThreadState::kNativeLoop,
                                   ThreadState::kRetryLoop, ThreadState::kLockWait, ThreadState::kGilWait,
                                   ThreadState::kIoWait,    ThreadState::kSleep,    ThreadState::kDeadlock,
                                   ThreadState::kIdle,      ThreadState::kUnknown};
constexpr analysis::FindingKind kKinds[] = {
    analysis::FindingKind::kLockWait,   analysis::FindingKind::kGilWait,   analysis::FindingKind::kIoWait,
    analysis::FindingKind::kBusyLoop,   analysis::FindingKind::kNativeLoop, analysis::FindingKind::kRetryLoop,
    analysis::FindingKind::kDeadlock};

// Adds the growth of a running total to a counter.
void Advance(prometheus::Counter* counter, uint64_t now, uint64_t* reported) {
  if (now > *reported) counter->Increment(static_cast<double>(now - *reported));
  *reported = std::max(now, *reported);
}

}  // namespace

absl::StatusOr<std::unique_ptr<WatchMetrics>> WatchMetrics::Create(const MetricsAddress& address, pid_t pid,
                                                                   const std::string& python_version,
                                                                   const std::string& sampler) {
  auto metrics = std::unique_ptr<WatchMetrics>(new WatchMetrics());
  try {
    // prometheus-cpp reports a failed bind by throwing; nothing else here does.
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(address.listen, 1);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serve metrics on ", address.listen, ": ", error.what()));
  }
  std::vector<int> ports = metrics->exposer_->GetListeningPorts();
  if (ports.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot serve metrics on ", address.listen));
  metrics->url_ = absl::StrCat("http://", address.host, ":", ports.front(), "/metrics");
  metrics->Build(pid, python_version, sampler);
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  return metrics;
}

WatchMetrics::~WatchMetrics() = default;

void WatchMetrics::Build(pid_t pid, const std::string& python_version, const std::string& sampler) {
  registry_ = std::make_shared<prometheus::Registry>();
  prometheus::Registry& r = *registry_;
  prometheus::BuildGauge().Name("pyhang_build_info").Help("pyhang build, as a label; always 1.").Register(r)
      .Add({{"version", PYHANG_VERSION}}).Set(1);
  prometheus::BuildGauge().Name("pyhang_target_info").Help("The watched process; always 1.").Register(r)
      .Add({{"pid", std::to_string(pid)}, {"python_version", python_version}, {"sampler", sampler}}).Set(1);
  auto& threads = prometheus::BuildGauge().Name("pyhang_threads").Help("Python threads by state.").Register(r);
  for (ThreadState state : kStates) {
    std::string name(threads::StateName(state));
    threads_by_state_[name] = &threads.Add({{"state", name}});
  }
  auto& open = prometheus::BuildGauge().Name("pyhang_hangs_open").Help("Open hang findings by kind.").Register(r);
  auto& oldest = prometheus::BuildGauge()
                     .Name("pyhang_hang_oldest_since_timestamp_seconds")
                     .Help("Unix time the oldest open finding of a kind began; 0 if none is open.")
                     .Register(r);
  auto& started = prometheus::BuildCounter().Name("pyhang_hangs_total").Help("Hang findings started, by kind.").Register(r);
  for (analysis::FindingKind kind : kKinds) {
    std::string name(analysis::KindName(kind));
    open_by_kind_[name] = &open.Add({{"kind", name}});
    oldest_by_kind_[name] = &oldest.Add({{"kind", name}});
    started_by_kind_[name] = &started.Add({{"kind", name}});
  }
  cpu_ = &prometheus::BuildGauge().Name("pyhang_process_cpu_ratio")
              .Help("CPUs the Python threads used over the last second (1 = one full CPU).").Register(r).Add({});
  gil_ = &prometheus::BuildGauge().Name("pyhang_gil_held_ratio")
              .Help("Share of looks that found some thread holding the GIL, last second.").Register(r).Add({});
  samples_ = &prometheus::BuildCounter().Name("pyhang_samples_total").Help("Stack samples taken.").Register(r).Add({});
  lost_ = &prometheus::BuildCounter().Name("pyhang_samples_lost_total")
               .Help("Samples dropped before delivery (ring buffer full).").Register(r).Add({});
  torn_ = &prometheus::BuildCounter().Name("pyhang_samples_torn_total")
               .Help("Samples whose stack changed while it was read.").Register(r).Add({});
  sampler_errors_ = &prometheus::BuildCounter().Name("pyhang_sampler_errors_total")
                         .Help("Other sampler failures (unreadable thread state, ...).").Register(r).Add({});
  looks_ = &prometheus::BuildCounter().Name("pyhang_looks_total").Help("Looks at every thread for hangs.")
                .Register(r).Add({});
  look_errors_ = &prometheus::BuildCounter().Name("pyhang_look_errors_total").Help("Looks that failed.")
                      .Register(r).Add({});
  look_seconds_ = &prometheus::BuildGauge().Name("pyhang_look_duration_seconds")
                       .Help("How long the last look at every thread took.").Register(r).Add({});
  last_look_ = &prometheus::BuildGauge().Name("pyhang_last_look_timestamp_seconds")
                    .Help("Unix time of the last look.").Register(r).Add({});
}

void WatchMetrics::Update(const analysis::WatchSummary& summary, const std::vector<const analysis::Finding*>& open,
                          const sampler::SourceStats& stats, uint64_t now_ns, double unix_time) {
  for (auto& [state, gauge] : threads_by_state_) gauge->Set(0);
  double cpu = 0;
  double gil = 0;
  for (const analysis::ThreadShare& thread : summary.threads) {
    threads_by_state_[std::string(threads::StateName(thread.state))]->Increment();
    cpu += thread.cpu;
    gil += thread.gil;
  }
  cpu_->Set(cpu);
  gil_->Set(std::min(gil, 1.0));
  std::map<std::string, int> counts;
  std::map<std::string, double> oldest;
  for (const analysis::Finding* finding : open) {
    std::string kind(analysis::KindName(finding->kind));
    ++counts[kind];
    double since = unix_time - finding->DurationSeconds(now_ns);
    if (!oldest.count(kind) || since < oldest[kind]) oldest[kind] = since;
  }
  for (auto& [kind, gauge] : open_by_kind_) gauge->Set(counts[kind]);
  for (auto& [kind, gauge] : oldest_by_kind_) gauge->Set(oldest.count(kind) ? oldest[kind] : 0);
  Advance(samples_, stats.samples, &reported_.samples);
  Advance(lost_, stats.lost, &reported_.lost);
  Advance(torn_, stats.torn, &reported_.torn);
  Advance(sampler_errors_, stats.errors, &reported_.errors);
}

void WatchMetrics::CountFindingStart(const analysis::Finding& finding) {
  started_by_kind_[std::string(analysis::KindName(finding.kind))]->Increment();
}

void WatchMetrics::RecordLook(double seconds, double unix_time, bool ok) {
  looks_->Increment();
  if (!ok) look_errors_->Increment();
  look_seconds_->Set(seconds);
  last_look_->Set(unix_time);
}

}  // namespace pyhang::collectors
