#include "userspace/output/watch_output.h"

#include <algorithm>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "userspace/output/dump_output.h"
#include "userspace/output/text_escape.h"

namespace pyhang::output {
namespace {

using analysis::Evidence;
using analysis::Finding;
using analysis::FindingKind;
using nlohmann::ordered_json;

double Round3(double value) { return static_cast<double>(static_cast<int64_t>(value * 1000 + 0.5)) / 1000; }

// The state a finding gives its own threads (the condition's, not the last
// look's: a thread starving for the GIL can be caught runnable, a looping
// one is "running" to the kernel). Other threads shown as evidence keep
// what the kernel said.
threads::ThreadState StateInFinding(const Finding& finding, const analysis::ThreadObservation& thread) {
  if (std::find(finding.tids.begin(), finding.tids.end(), thread.tid) == finding.tids.end()) {
    return thread.verdict.state;
  }
  switch (finding.kind) {
    case FindingKind::kDeadlock: return threads::ThreadState::kDeadlock;
    case FindingKind::kBusyLoop: return threads::ThreadState::kBusyLoop;
    case FindingKind::kNativeLoop: return threads::ThreadState::kNativeLoop;
    case FindingKind::kRetryLoop: return threads::ThreadState::kRetryLoop;
    case FindingKind::kGilWait: return threads::ThreadState::kGilWait;
    case FindingKind::kLockWait: return threads::ThreadState::kLockWait;
    case FindingKind::kIoWait: break;  // io_wait, or sleep on an event loop
  }
  return thread.verdict.state;
}

ordered_json ThreadsJson(const Finding& finding) {
  ordered_json threads = ordered_json::array();
  for (const analysis::ThreadObservation& thread : finding.threads) {
    ordered_json item = {{"tid", thread.tid}};
    if (thread.ns_tid != 0 && thread.ns_tid != thread.tid) item["ns_tid"] = thread.ns_tid;
    item["name"] = thread.name.empty() ? ordered_json(nullptr) : ordered_json(thread.name);
    item["state"] = threads::StateName(StateInFinding(finding, thread));
    item["holds_gil"] = thread.holds_gil;
    // Frames carry a kind once native frames are among them (native_loop).
    bool native = absl::c_any_of(thread.frames, [](const python::PyFrame& frame) {
      return frame.kind != python::FrameKind::kPython;
    });
    item["frames"] = FramesJson(thread.frames, false, native);
    threads.push_back(std::move(item));
  }
  return threads;
}

ordered_json EvidenceJson(const Finding& finding) {
  const Evidence& e = finding.evidence;
  ordered_json json;
  json["summary"] = e.summary;
  switch (finding.kind) {
    case FindingKind::kLockWait:
      if (e.lock) json["lock"] = LockJson(*e.lock);
      json["notification"] = e.waits_for_notification;
      if (e.owner_tid != 0) {
        json["owner"] = {{"tid", e.owner_tid},
                         {"evidence", e.owner_evidence ? analysis::EvidenceName(*e.owner_evidence) : "unknown"},
                         {"where", e.owner_where}};
      } else {
        json["owner"] = nullptr;
      }
      json["blocking_call"] = e.blocking_call;
      break;
    case FindingKind::kGilWait:
      json["gil_holder"] = e.gil_holder_tid != 0 ? ordered_json(e.gil_holder_tid) : ordered_json(nullptr);
      break;
    case FindingKind::kIoWait:
      json["blocking_call"] = e.blocking_call;
      if (e.io) json["io"] = {{"fd", e.io->fd}, {"description", e.io->description}};
      break;
    case FindingKind::kBusyLoop:
    case FindingKind::kNativeLoop:
      json["cpu_fraction"] = Round3(e.cpu_fraction);
      json["loop_lines"] = e.loop_lines;
      json["native_symbols"] = e.native_symbols;
      break;
    case FindingKind::kRetryLoop:
      json["exception"] = e.handling ? HandlingJson(*e.handling) : ordered_json(nullptr);
      json["rounds"] = e.rounds;
      json["where"] = e.loop_where;
      break;
    case FindingKind::kDeadlock:
      json["cycle"] = CycleJson(e.cycle);
      break;
  }
  if (e.asyncio_loop_stalled) {
    json["asyncio"] = {{"loop_stalled", true}, {"coroutine_frames", FramesJson(e.coroutine_frames, false)}};
  }
  return json;
}

std::string Percent(double fraction) { return absl::StrFormat("%5.1f", fraction * 100); }

std::string ThreadLabel(int64_t tid, const std::string& name) {
  return name.empty() ? absl::StrCat(tid) : absl::StrCat(tid, " \"", TerminalSafe(name), "\"");
}

}  // namespace

ordered_json SummaryJson(const WatchHeader& header, const analysis::WatchSummary& summary, size_t open_findings) {
  ordered_json threads = ordered_json::array();
  for (const analysis::ThreadShare& thread : summary.threads) {
    ordered_json item = {{"tid", thread.tid}};
    if (thread.ns_tid != 0 && thread.ns_tid != thread.tid) item["ns_tid"] = thread.ns_tid;
    item["name"] = thread.name.empty() ? ordered_json(nullptr) : ordered_json(thread.name);
    item["state"] = threads::StateName(thread.state);
    item["cpu"] = Round3(thread.cpu);
    item["gil"] = Round3(thread.gil);
    threads.push_back(std::move(item));
  }
  ordered_json top = ordered_json::array();
  for (const analysis::FunctionShare& function : summary.top) {
    top.push_back({{"function", function.function}, {"file", function.file}, {"line", function.line},
                   {"own", Round3(function.own)}, {"total", Round3(function.total)}});
  }
  return {{"event", "summary"},  {"time", header.unix_time},     {"pid", header.pid},
          {"elapsed_s", Round3(header.elapsed_s)},       {"window_s", Round3(summary.window_s)},
          {"samples", summary.samples}, {"threads", std::move(threads)}, {"top", std::move(top)},
          {"open_findings", open_findings}};
}

ordered_json FindingEventJson(const analysis::FindingEvent& event, uint64_t now_ns, double unix_time) {
  const Finding& f = event.finding;
  ordered_json json;
  json["event"] = event.started ? "hang" : "hang_end";
  json["id"] = f.id;
  json["kind"] = analysis::KindName(f.kind);
  json["tids"] = f.tids;
  json["duration_s"] = Round3(f.DurationSeconds(now_ns));
  json["time"] = unix_time;
  if (event.started) {
    json["summary"] = f.evidence.summary;
    json["threads"] = ThreadsJson(f);
    json["evidence"] = EvidenceJson(f);
  } else {
    json["reason"] = event.end_reason;
  }
  return json;
}

std::string FindingEventText(const analysis::FindingEvent& event, uint64_t now_ns) {
  const Finding& f = event.finding;
  std::string tids = absl::StrJoin(f.tids, ", ");
  if (!event.started) {
    return absl::StrFormat("hang #%d ended (%s) after %.1f s: %s on thread %s\n", f.id, event.end_reason,
                           f.DurationSeconds(now_ns), analysis::KindName(f.kind), tids);
  }
  std::string out = absl::StrFormat("HANG #%d %s for %.1f s on thread %s: %s\n", f.id, analysis::KindName(f.kind),
                                    f.DurationSeconds(now_ns), tids, TerminalSafe(f.evidence.summary));
  for (const analysis::ThreadObservation& thread : f.threads) {
    absl::StrAppend(&out, "  thread ", ThreadLabel(thread.tid, thread.name), ":\n");
    for (const python::PyFrame& frame : thread.frames) {
      if (frame.kind == python::FrameKind::kNative) {
        std::string name = frame.function.empty() ? absl::StrFormat("0x%x", frame.pc) : TerminalSafe(frame.function);
        absl::StrAppend(&out, "    [native] ", name,
                        frame.module.empty() ? "" : absl::StrCat(" (", TerminalSafe(frame.module), ")"), "\n");
        continue;
      }
      absl::StrAppend(&out, "    ", TerminalSafe(frame.qualname), " (", TerminalSafe(frame.file), ":", frame.line, ")\n");
    }
  }
  return out;
}

std::string PlainSummary(const WatchHeader& header, const analysis::WatchSummary& summary) {
  std::string out = absl::StrFormat("[%.1fs] pid %d: %d samples", header.elapsed_s, header.pid, summary.samples);
  for (const analysis::ThreadShare& thread : summary.threads) {
    absl::StrAppendFormat(&out, "; %s %s cpu %.0f%% gil %.0f%%", ThreadLabel(thread.tid, thread.name),
                          threads::StateName(thread.state), thread.cpu * 100, thread.gil * 100);
  }
  absl::StrAppend(&out, "\n");
  for (size_t i = 0; i < std::min<size_t>(summary.top.size(), 5); ++i) {
    const analysis::FunctionShare& f = summary.top[i];
    absl::StrAppendFormat(&out, "  %s%% own %s%% total  %s (%s:%d)\n", Percent(f.own), Percent(f.total),
                          TerminalSafe(f.function), TerminalSafe(f.file), f.line);
  }
  return out;
}

std::string LiveScreen(const WatchHeader& header, const analysis::WatchSummary& summary,
                       const std::vector<const analysis::Finding*>& findings, uint64_t now_ns) {
  std::string out = absl::StrFormat("pyhang watch  pid %d  Python %s  %s  %.0f s\n%s\n\n", header.pid,
                                    header.python_version, header.source, header.elapsed_s,
                                    TerminalSafe(header.command_line));
  if (!findings.empty()) {
    absl::StrAppend(&out, "HANGS\n");
    for (const analysis::Finding* f : findings) {
      absl::StrAppendFormat(&out, "  #%d %-11s %6.1f s  thread %s: %s\n", f->id, analysis::KindName(f->kind),
                            f->DurationSeconds(now_ns), absl::StrJoin(f->tids, ", "),
                            TerminalSafe(f->evidence.summary));
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppendFormat(&out, "%-8s %-24s %-12s %6s %6s\n", "TID", "THREAD", "STATE", "CPU%", "GIL%");
  for (const analysis::ThreadShare& thread : summary.threads) {
    absl::StrAppendFormat(&out, "%-8d %-24s %-12s %s %s\n", thread.tid,
                          std::string(Utf8Prefix(TerminalSafe(thread.name), 24)),
                          threads::StateName(thread.state), Percent(thread.cpu), Percent(thread.gil));
  }
  absl::StrAppendFormat(&out, "\nSamples: %d in the last %.1f s\n%6s %7s  %s\n", summary.samples, summary.window_s,
                        "%Own", "%Total", "Function (file:line)");
  for (const analysis::FunctionShare& f : summary.top) {
    absl::StrAppendFormat(&out, "%s %s   %s (%s:%d)\n", Percent(f.own), Percent(f.total), TerminalSafe(f.function),
                          TerminalSafe(f.file), f.line);
  }
  return out;
}

}  // namespace pyhang::output
