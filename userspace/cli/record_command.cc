#include "userspace/cli/record_command.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "collectors/pprof/pprof_writer.h"
#include "userspace/analysis/aggregator.h"
#include "userspace/cli/attached.h"
#include "userspace/cli/exit_codes.h"
#include "userspace/cli/output_file.h"
#include "userspace/common/log.h"
#include "userspace/output/collapsed.h"
#include "userspace/output/flamegraph.h"
#include "userspace/output/speedscope.h"
#include "userspace/output/text_escape.h"
#include "userspace/sampler/perf_events.h"
#include "userspace/sampler/procfs_sampler.h"
#include "bpf/pyhang_abi.h"

namespace pyhang::cli {
namespace {

const std::map<std::string, std::string> kFormats = {
    {"flamegraph", "flamegraph"}, {"svg", "flamegraph"},  {"raw", "raw"},
    {"collapsed", "raw"},         {"speedscope", "speedscope"}, {"pprof", "pprof"}};

absl::StatusOr<std::string> Render(const profile::Profile& profile, const RecordArgs& args) {
  const std::string format = kFormats.at(args.format);
  const output::Weight weight = args.mode == "wall" ? output::Weight::kTime : output::Weight::kSamples;
  if (format == "raw") {
    output::CollapsedOptions options;
    options.short_filenames = !args.full_filenames;
    options.thread_roots = args.threads;
    return output::RenderCollapsed(profile, options);
  }
  if (format == "speedscope") {
    output::SpeedscopeOptions options;
    options.weight = weight;
    return output::RenderSpeedscope(profile, options);
  }
  if (format == "pprof") return collectors::RenderPprof(profile);
  output::FlamegraphOptions options;
  options.title = args.title;
  options.inverted = args.inverted;
  options.full_filenames = args.full_filenames;
  options.thread_roots = args.threads;
  return output::RenderFlamegraphSvg(profile, options);
}

}  // namespace

CLI::App* AddRecordCommand(CLI::App& app, RecordArgs& args) {
  CLI::App* record = app.add_subcommand("record", "Sample a process and write a profile (flamegraph by default)");
  record->add_option("-p,--pid", args.pid, "Process id of the Python program")->required();
  record->add_option("-o,--output", args.output, "File to write")->required();
  record->add_option("-d,--duration", args.duration_s, "Seconds to record (default: until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7));
  record->add_option("-r,--rate", args.rate_hz, "Samples per second per thread, 1-10000 (default 100)")
      ->check(CLI::Range(1, 10000));
  record->add_option("-f,--format", args.format, "flamegraph (svg), raw (collapsed), speedscope, pprof")
      ->check(CLI::IsMember({"flamegraph", "svg", "raw", "collapsed", "speedscope", "pprof"}));
  record->add_option("--mode", args.mode, "cpu: on-CPU samples; wall: also time spent blocked")
      ->check(CLI::IsMember({"cpu", "wall"}));
  record->add_flag("-t,--threads", args.threads, "A root frame per thread");
  record->add_flag("-i,--idle", args.idle, "Include idle time (sleeping, waiting for work)");
  record->add_option("--sampler", args.sampler, "auto (BPF, else /proc), bpf, procfs")
      ->check(CLI::IsMember({"auto", "bpf", "procfs"}));
  record->add_option("--title", args.title, "Flamegraph title");
  record->add_flag("--inverted", args.inverted, "Icicle graph: roots at the top");
  record->add_flag("--full-filenames", args.full_filenames, "Full paths in frame labels");
  record->add_flag("-n,--native", args.native,
                   "Native frames too (C extensions, CPython, libc), unwound from a copy of each "
                   "sample's stack; BPF sampler only");
  record->add_option("--native-stack-bytes", args.native_stack_bytes,
                     "User stack copied per sample with --native (default 16384)")
      ->check(CLI::Range(4096u, static_cast<unsigned>(PYHANG_NATIVE_STACK_MAX)));
  return record;
}

int RunRecord(const RecordArgs& args) {
  // Fail on an unwritable path before sampling, not after.
  absl::StatusOr<std::unique_ptr<OutputFile>> file = OutputFile::Create(args.output);
  if (!file.ok()) return ReportError(file.status());
  const bool wall = args.mode == "wall";
  if (args.native && args.sampler == "procfs") {
    std::fprintf(stderr, "pyhang: --native needs the BPF sampler (native stacks are copied by BPF)\n");
    return kExitUsage;
  }
  SourceRequest request{args.pid, args.rate_hz, wall || args.idle, ParseSampler(args.sampler),
                        /*native_symbols=*/false, args.native ? args.native_stack_bytes : 0};
  absl::StatusOr<std::unique_ptr<sampler::SampleSource>> source = CreateSource(request);
  if (!source.ok()) return ReportError(source.status());
  DropUnneededPrivileges((*source)->UsesBpf() ? StillNeeded::kReadingAndBpf : StillNeeded::kReading);

  profile::Profile profile;
  analysis::AggregatorOptions aggregation;
  aggregation.mode = wall ? analysis::ProfileMode::kWall : analysis::ProfileMode::kCpu;
  aggregation.idle = args.idle;
  aggregation.sample_period_ns = sampler::SamplingPeriodNs(static_cast<uint32_t>(args.rate_hz));
  analysis::Aggregator aggregator(profile, aggregation);
  sampler::SampleSink sink = [&](sampler::StackSample&& sample) {
    aggregator.Add(sample, (*source)->ThreadName(sample.tid));
  };

  InstallStopHandlers();
  const absl::Time start = absl::Now();
  const absl::Duration limit = args.duration_s > 0 ? absl::Seconds(args.duration_s) : absl::InfiniteDuration();
  profile.start_time_ns = static_cast<uint64_t>(absl::ToUnixNanos(start));
  absl::Status exited;  // the target ended (or exec'd) while recorded: kUnavailable
  absl::Status failed;  // sampling broke off: still write what was sampled
  while (!g_stop_requested.load() && absl::Now() - start < limit) {
    absl::Status status = (*source)->Run(std::min(limit - (absl::Now() - start), absl::Milliseconds(200)), sink);
    if (absl::IsUnavailable(status)) {
      exited = status;
      break;
    }
    if (!status.ok()) {
      failed = status;
      break;
    }
  }
  if (exited.ok() && failed.ok()) (*source)->Finish(sink).IgnoreError();
  aggregator.Finish();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  profile.duration_ns = static_cast<uint64_t>(seconds * 1e9);
  profile.title = args.title.empty() ? absl::StrCat("pyhang record: pid ", args.pid) : args.title;
  profile.subtitle = absl::StrFormat("%s mode, %d Hz, %.1f s, %s", args.mode, args.rate_hz, seconds,
                                     (*source)->description());

  absl::StatusOr<std::string> content = Render(profile, args);
  if (!content.ok()) return ReportError(content.status());
  if (absl::Status written = (*file)->Commit(*content); !written.ok()) return ReportError(written);
  sampler::SourceStats stats = (*source)->stats();
  std::string summary = absl::StrFormat("wrote %s: %d samples in %.1f s (%d lost, %d torn, %d errors)",
                                        args.output, profile.total_count(), seconds, stats.lost, stats.torn,
                                        stats.errors);
  if (args.native) {
    absl::StrAppend(&summary, absl::StrFormat("; %d native stacks, %.1f%% unwound to the thread's root",
                                              stats.native_stacks,
                                              stats.native_stacks ? 100.0 * stats.native_to_root /
                                                                        stats.native_stacks : 0.0));
  }
  if (!exited.ok()) summary = absl::StrCat(exited.message(), "; ", summary);
  if (!failed.ok()) summary = absl::StrCat("sampling stopped: ", failed.message(), "; ", summary);
  log::Write(log::Level::kInfo, output::TerminalSafe(summary));
  if (profile.total_count() == 0 && failed.ok()) {
    log::Write(log::Level::kWarning, "no samples: the process was idle the whole time (try --idle or --mode wall)");
  }
  return failed.ok() ? kExitOk : kExitError;
}

}  // namespace pyhang::cli
