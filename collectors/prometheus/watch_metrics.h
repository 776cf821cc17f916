// Prometheus metrics of `pyhang watch --metrics-addr HOST:PORT`: what a
// dashboard or an alert needs to know about one watched process — threads
// per state, open hang findings per kind and how old the oldest is, CPU and
// GIL use, and pyhang's own health (samples, losses, look duration).
// Labels are bounded: state and kind come from fixed vocabularies; no
// per-thread labels (thread ids churn).
#ifndef PYHANG_COLLECTORS_PROMETHEUS_WATCH_METRICS_H_
#define PYHANG_COLLECTORS_PROMETHEUS_WATCH_METRICS_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collectors/prometheus/metrics_address.h"
#include "userspace/analysis/finding.h"
#include "userspace/analysis/watch_stats.h"
#include "userspace/sampler/sample_source.h"

namespace prometheus {
class Counter;
class Exposer;
class Gauge;
class Registry;
}  // namespace prometheus

namespace pyhang::collectors {

class WatchMetrics {
 public:
  // Serves /metrics on `address` (port 0 = any free port).
  static absl::StatusOr<std::unique_ptr<WatchMetrics>> Create(const MetricsAddress& address, pid_t pid,
                                                              const std::string& python_version,
                                                              const std::string& sampler);
  ~WatchMetrics();

  // "http://127.0.0.1:PORT/metrics" with the port actually bound.
  std::string url() const { return url_; }

  // Once per refresh.
  void Update(const analysis::WatchSummary& summary, const std::vector<const analysis::Finding*>& open,
              const sampler::SourceStats& stats, uint64_t now_ns, double unix_time);
  void CountFindingStart(const analysis::Finding& finding);
  void RecordLook(double seconds, double unix_time, bool ok);

 private:
  WatchMetrics() = default;
  void Build(pid_t pid, const std::string& python_version, const std::string& sampler);

  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::string url_;
  std::map<std::string, prometheus::Gauge*> threads_by_state_;
  std::map<std::string, prometheus::Gauge*> open_by_kind_;
  std::map<std::string, prometheus::Gauge*> oldest_by_kind_;
  std::map<std::string, prometheus::Counter*> started_by_kind_;
  prometheus::Gauge* cpu_ = nullptr;
  prometheus::Gauge* gil_ = nullptr;
  prometheus::Counter* samples_ = nullptr;
  prometheus::Counter* lost_ = nullptr;
  prometheus::Counter* torn_ = nullptr;
  prometheus::Counter* sampler_errors_ = nullptr;
  prometheus::Counter* looks_ = nullptr;
  prometheus::Counter* look_errors_ = nullptr;
  prometheus::Gauge* look_seconds_ = nullptr;
  prometheus::Gauge* last_look_ = nullptr;
  sampler::SourceStats reported_;  // totals already added to the counters
};

}  // namespace pyhang::collectors

#endif  // PYHANG_COLLECTORS_PROMETHEUS_WATCH_METRICS_H_
