// `pyhang watch` output: the live screen (like `py-spy top`), plain lines
// when stdout is not a terminal, and JSON lines (`summary`, `hang`,
// `hang_end` events; the contract in ARCHITECTURE.md).
#ifndef PYHANG_USERSPACE_OUTPUT_WATCH_OUTPUT_H_
#define PYHANG_USERSPACE_OUTPUT_WATCH_OUTPUT_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "userspace/analysis/finding.h"
#include "userspace/analysis/watch_stats.h"

namespace pyhang::output {

struct WatchHeader {
  pid_t pid = 0;
  std::string command_line;
  std::string python_version;
  std::string source;   // "BPF at 100 Hz"
  double elapsed_s = 0;
  double unix_time = 0;  // seconds since the epoch, for JSON
};

nlohmann::ordered_json SummaryJson(const WatchHeader& header, const analysis::WatchSummary& summary,
                                   size_t open_findings);
// {"event": "hang", ...} or {"event": "hang_end", ...}.
nlohmann::ordered_json FindingEventJson(const analysis::FindingEvent& event, uint64_t now_ns, double unix_time);

// The full screen, for a terminal (no escape codes; the caller clears).
std::string LiveScreen(const WatchHeader& header, const analysis::WatchSummary& summary,
                       const std::vector<const analysis::Finding*>& findings, uint64_t now_ns);
// One block of plain lines per refresh, for pipes and files.
std::string PlainSummary(const WatchHeader& header, const analysis::WatchSummary& summary);
// One line (plus stack lines) when a finding starts or ends.
std::string FindingEventText(const analysis::FindingEvent& event, uint64_t now_ns);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_WATCH_OUTPUT_H_
