// `pyhang dump` output: text for a person at 3 a.m., JSON for scripts
// (the contract in ARCHITECTURE.md).
#ifndef PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
#define PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "userspace/analysis/finding.h"
#include "userspace/snapshot/snapshot.h"

namespace pyhang::output {

struct DumpFormatOptions {
  bool locals = false;
  bool source_lines = true;  // text only: show each frame's line of code
  bool native = false;       // frames carry a "kind" (python, native)
  bool globals = false;
};

std::string DumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options);
nlohmann::ordered_json DumpJson(const snapshot::ProcessSnapshot& snapshot,
                                const DumpFormatOptions& options);

// Pieces shared with `watch` and hang events.
nlohmann::ordered_json FramesJson(const std::vector<python::PyFrame>& frames, bool locals,
                                  bool kinds = false, bool globals = false);
// A value of a local or global: {"type", "repr", "items"?, "attrs"?, "truncated"?}.
nlohmann::ordered_json ValueJson(const python::PyValue& value);
nlohmann::ordered_json LockJson(const analysis::LockRef& lock);
// A deadlock cycle as in the JSON contract: one edge per waiting thread.
nlohmann::ordered_json CycleJson(const std::vector<analysis::CycleEdge>& cycle);
// "Found one Python-level deadlock:" and one line per thread of the cycle.
std::string DeadlockText(const analysis::Finding& deadlock);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
