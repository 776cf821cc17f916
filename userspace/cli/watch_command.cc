#include "userspace/cli/watch_command.h"

#include <unistd.h>

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collectors/prometheus/watch_metrics.h"
#include "userspace/analysis/aggregator.h"
#include "userspace/analysis/hang_detector.h"
#include "userspace/analysis/monitor.h"
#include "userspace/analysis/watch_stats.h"
#include "userspace/cli/attached.h"
#include "userspace/cli/exit_codes.h"
#include "userspace/cli/output_file.h"
#include "userspace/cli/sampling.h"
#include "userspace/common/clock.h"
#include "userspace/common/log.h"
#include "userspace/output/flamegraph.h"
#include "userspace/output/watch_output.h"
#include "userspace/sampler/native_snapshot.h"
#include "userspace/sampler/procfs_sampler.h"
#include "userspace/snapshot/native_frames.h"
#include "userspace/native/merge.h"
#include "userspace/process/symbolizer.h"
#include "bpf/pyhang_abi.h"

namespace pyhang::cli {
namespace {

constexpr size_t kTopFunctions = 12;
constexpr size_t kMaxNativeSymbolsPerThread = 8;
constexpr size_t kMaxNativeFrames = 256;  // per thread, in a native loop's evidence
constexpr char kClearScreen[] = "\033[H\033[2J";

// Everything one `watch` run keeps between iterations.
class Watcher {
 public:
  Watcher(const WatchArgs& args, std::unique_ptr<sampler::SampleSource> source,
          std::unique_ptr<analysis::Monitor> monitor, std::unique_ptr<collectors::WatchMetrics> metrics)
      : args_(args),
        source_(std::move(source)),
        monitor_(std::move(monitor)),
        metrics_(std::move(metrics)),
        detector_(analysis::HangOptions{args.hang_threshold_s}),
        aggregator_(profile_, analysis::AggregatorOptions{}),
        tty_(!args.json && ::isatty(STDOUT_FILENO)) {
    header_.pid = args.pid;
    header_.command_line = monitor_->process().command_line;
    header_.python_version = monitor_->process().runtime.version.ToString();
    header_.source = source_->description();
  }

  // Runs until the duration ends, Ctrl-C, or the process exits.
  int Run(OutputFile* flamegraph_file);

 private:
  void OnSample(sampler::StackSample&& sample);
  // One look at the threads for hangs; false once the process is gone. A
  // look that fails otherwise is counted and skipped.
  bool Look();
  void Refresh();
  void Emit(const std::vector<analysis::FindingEvent>& events);
  void Print(const std::string& text);
  double ElapsedSeconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

  const WatchArgs& args_;
  std::unique_ptr<sampler::SampleSource> source_;
  std::unique_ptr<analysis::Monitor> monitor_;
  std::unique_ptr<collectors::WatchMetrics> metrics_;  // null without --metrics-addr
  analysis::HangDetector detector_;
  analysis::WatchStats stats_;
  profile::Profile profile_;
  analysis::Aggregator aggregator_;
  absl::flat_hash_map<int64_t, absl::flat_hash_set<std::string>> native_symbols_;
  output::WatchHeader header_;
  const bool tty_;
  absl::Time start_ = absl::Now();
  absl::Time last_refresh_ = absl::Now();
  bool write_failed_ = false;
  bool warned_without_tid_ = false;
};

void Watcher::Print(const std::string& text) {
  if (!write_failed_ && WriteStdout(text) != kExitOk) write_failed_ = true;
}

void Watcher::OnSample(sampler::StackSample&& sample) {
  stats_.AddSample(sample);
  if (const std::optional<python::PyFrame>& leaf = sample.native_leaf) {
    auto& symbols = native_symbols_[sample.tid];
    if (symbols.size() < kMaxNativeSymbolsPerThread) {
      symbols.insert(process::Symbolizer::Describe({leaf->function, leaf->module}, leaf->pc));
    }
  }
  if (!args_.flamegraph.empty()) aggregator_.Add(sample, source_->ThreadName(sample.tid));
}

// A native loop's evidence is its native stack: copied (BPF, without
// stopping anything) when the finding starts, merged with the Python frames.
// Without BPF the finding keeps its Python frames and leaf symbols.
void AddNativeFrames(pid_t pid, analysis::Finding& finding) {
  absl::StatusOr<std::vector<target::StackCopy>> copies = sampler::CopyNativeStacks(pid, PYHANG_NATIVE_STACK_MAX);
  if (!copies.ok()) {
    LOG_DEBUG("no native stack for hang #", finding.id, ": ", copies.status().message());
    return;
  }
  std::vector<target::StackCopy> wanted;
  for (target::StackCopy& copy : *copies) {
    if (absl::c_linear_search(finding.tids, copy.tid)) wanted.push_back(std::move(copy));
  }
  snapshot::NativeStacks native = snapshot::UnwindCopies(pid, std::move(wanted), kMaxNativeFrames);
  for (analysis::ThreadObservation& thread : finding.threads) {
    auto it = native.find(thread.tid);
    if (it != native.end()) thread.frames = native::MergeStacks(it->second, thread.frames).frames;
  }
}

void Watcher::Emit(const std::vector<analysis::FindingEvent>& events) {
  const uint64_t now_ns = MonotonicNowNs();
  for (analysis::FindingEvent event : events) {
    if (event.started && event.finding.kind == analysis::FindingKind::kNativeLoop) {
      AddNativeFrames(args_.pid, event.finding);
    }
    if (metrics_ && event.started) metrics_->CountFindingStart(event.finding);
    if (args_.json) {
      Print(JsonText(output::FindingEventJson(event, now_ns, absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()))) +
            "\n");
    } else if (!tty_) {
      Print(output::FindingEventText(event, now_ns));
    }
  }
}

bool Watcher::Look() {
  const absl::Time begin = absl::Now();
  absl::StatusOr<analysis::ProcessObservation> observation = monitor_->Observe();
  if (metrics_) {
    metrics_->RecordLook(absl::ToDoubleSeconds(absl::Now() - begin),
                         absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()), observation.ok());
  }
  if (!observation.ok()) {
    if (absl::IsUnavailable(observation.status())) return false;
    LOG_DEBUG("look failed: ", observation.status().message());
    return true;
  }
  for (analysis::ThreadObservation& thread : observation->threads) {
    if (auto it = native_symbols_.find(thread.tid); it != native_symbols_.end()) {
      thread.native_symbols.assign(it->second.begin(), it->second.end());
      std::sort(thread.native_symbols.begin(), thread.native_symbols.end());
    }
  }
  native_symbols_.clear();
  if (observation->python_threads_without_tid > 0 && !warned_without_tid_) {
    warned_without_tid_ = true;
    LOG_WARNING(observation->python_threads_without_tid,
                " Python threads are left out: their OS threads could not be found");
  }
  stats_.AddObservation(*observation);
  Emit(detector_.Observe(*observation));
  return true;
}

void Watcher::Refresh() {
  const double window = absl::ToDoubleSeconds(absl::Now() - last_refresh_);
  last_refresh_ = absl::Now();
  header_.elapsed_s = ElapsedSeconds();
  header_.unix_time = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  analysis::WatchSummary summary =
      stats_.TakeSummary(window, kTopFunctions, [&](int64_t tid) { return detector_.StateOf(tid); });
  std::vector<const analysis::Finding*> open = detector_.OpenFindings();
  if (metrics_) metrics_->Update(summary, open, source_->stats(), MonotonicNowNs(), header_.unix_time);
  if (args_.json) {
    Print(JsonText(output::SummaryJson(header_, summary, open.size())) + "\n");
  } else if (tty_) {
    Print(kClearScreen + output::LiveScreen(header_, summary, open, MonotonicNowNs()));
  } else {
    Print(output::PlainSummary(header_, summary));
  }
}

int Watcher::Run(OutputFile* flamegraph_file) {
  const absl::Duration limit = args_.duration_s > 0 ? absl::Seconds(args_.duration_s) : absl::InfiniteDuration();
  const absl::Duration look_interval = absl::Seconds(args_.look_interval_s);
  sampler::SampleSink sink = [&](sampler::StackSample&& sample) { OnSample(std::move(sample)); };
  bool exited = false;
  absl::Status failed;  // sampling broke off: still end findings and write files
  while (!g_stop_requested.load() && absl::Now() - start_ < limit && !write_failed_) {
    absl::Status status = source_->Run(std::min(look_interval, limit - (absl::Now() - start_)), sink);
    if (!status.ok() && !absl::IsUnavailable(status)) {
      failed = status;
      break;
    }
    if (absl::IsUnavailable(status) || !Look()) {
      exited = true;
      break;
    }
    if (absl::Now() - last_refresh_ >= absl::Seconds(1)) Refresh();
  }
  const std::string reason = exited ? "process exited" : failed.ok() ? "watch stopped" : "watch failed";
  Emit(detector_.EndAll(MonotonicNowNs(), reason));
  if (exited) log::Write(log::Level::kInfo, absl::StrCat("process ", args_.pid, " exited"));
  if (flamegraph_file != nullptr) {
    profile_.title = absl::StrCat("pyhang watch: pid ", args_.pid);
    absl::StatusOr<std::string> svg = output::RenderFlamegraphSvg(profile_, {});
    absl::Status written = svg.ok() ? flamegraph_file->Commit(*svg) : svg.status();
    if (!written.ok()) return ReportError(written);
  }
  if (!failed.ok()) return ReportError(failed);
  return write_failed_ ? kExitError : kExitOk;
}

}  // namespace

CLI::App* AddWatchCommand(CLI::App& app, WatchArgs& args) {
  CLI::App* watch = app.add_subcommand("watch", "Live view of a process: threads, hot functions, and hangs");
  watch->add_option("-p,--pid", args.pid, "Process id of the Python program")->required();
  watch->add_option("-d,--duration", args.duration_s, "Seconds to watch (default: until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7));
  watch->add_option("-r,--rate", args.rate_hz, "Samples per second per thread, 1-10000 (default 100)")
      ->check(CLI::Range(1, 10000));
  watch->add_flag("-j,--json", args.json, "One JSON object per line (summary, hang, hang_end events)");
  watch->add_option("--hang-threshold", args.hang_threshold_s,
                    "Seconds a thread must be stuck before it is reported (default 5)")
      ->check(CLI::Range(0.0, 1e6));
  watch->add_option("--look-interval", args.look_interval_s, "Seconds between looks for hangs (default 0.25)")
      ->check(CLI::Range(0.01, 60.0));
  watch->add_option("--sampler", args.sampler, "auto (BPF, else /proc), bpf, procfs")
      ->check(CLI::IsMember({"auto", "bpf", "procfs"}));
  watch->add_option("--flamegraph", args.flamegraph, "Also write a CPU flamegraph SVG here when done");
  watch->add_option("--metrics-addr", args.metrics_addr,
                    "Serve Prometheus metrics at [HOST:]PORT/metrics (HOST defaults to 127.0.0.1; "
                    "port 0: any free port)");
  return watch;
}

int RunWatch(const WatchArgs& args) {
  std::optional<collectors::MetricsAddress> metrics_address;
  if (!args.metrics_addr.empty()) {
    absl::StatusOr<collectors::MetricsAddress> parsed = collectors::ParseMetricsAddress(args.metrics_addr);
    if (!parsed.ok()) return ReportError(parsed.status());
    metrics_address = *parsed;
  }
  std::unique_ptr<OutputFile> flamegraph_file;
  if (!args.flamegraph.empty()) {
    absl::StatusOr<std::unique_ptr<OutputFile>> file = OutputFile::Create(args.flamegraph);
    if (!file.ok()) return ReportError(file.status());
    flamegraph_file = *std::move(file);
  }
  absl::StatusOr<std::unique_ptr<sampler::SampleSource>> source =
      CreateSource(SourceRequest{args.pid, args.rate_hz, false, ParseSampler(args.sampler)});
  if (!source.ok()) return ReportError(source.status());
  absl::StatusOr<std::unique_ptr<analysis::Monitor>> monitor = analysis::Monitor::Create(args.pid, {});
  if (!monitor.ok()) return ReportError(monitor.status());
  DropUnneededPrivileges(StillNeeded::kReadingAndBpf,
                         metrics_address && metrics_address->port > 0 && metrics_address->port < 1024);
  std::unique_ptr<collectors::WatchMetrics> metrics;
  if (metrics_address) {
    // A bounded label: which sampler, not its settings.
    std::string sampler = (*source)->UsesBpf() ? "bpf" : "procfs";
    absl::StatusOr<std::unique_ptr<collectors::WatchMetrics>> created = collectors::WatchMetrics::Create(
        *metrics_address, args.pid, (*monitor)->process().runtime.version.ToString(), sampler);
    if (!created.ok()) return ReportError(created.status());
    metrics = *std::move(created);
    log::Write(log::Level::kInfo, absl::StrCat("serving metrics at ", metrics->url()));
    std::string exposed = collectors::ExposureWarning(*metrics_address);
    if (!exposed.empty()) log::Write(log::Level::kWarning, exposed);
  }
  InstallStopHandlers();
  Watcher watcher(args, *std::move(source), *std::move(monitor), std::move(metrics));
  return watcher.Run(flamegraph_file.get());
}

}  // namespace pyhang::cli
