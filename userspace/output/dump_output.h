// `pyhang dump` output: text for a person at 3 a.m., JSON for scripts
// (the contract in ARCHITECTURE.md).
#ifndef PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
#define PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

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

// Receives the text in pieces as it is made (a thread at a time, or more);
// false stops the dump (the output cannot be written).
using TextSink = std::function<bool(absl::string_view)>;
// The text dump, handed to `sink` as it is made: a dump with --locals runs to
// megabytes, which need not be held (or copied as a string grows) at once.
// False if the sink stopped it.
bool WriteDumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options,
                   const TextSink& sink);
// The same text, whole.
std::string DumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options);
nlohmann::ordered_json DumpJson(const snapshot::ProcessSnapshot& snapshot,
                                const DumpFormatOptions& options);
// DumpJson's text on one line and a newline, handed to `sink` a thread at a
// time or more (the JSON of 100 threads' locals is hundreds of MiB as a tree).
bool WriteDumpJson(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options,
                   const TextSink& sink);

// Pieces shared with `watch` and hang events.
nlohmann::ordered_json FramesJson(const std::vector<python::PyFrame>& frames, bool locals,
                                  bool kinds = false, bool globals = false);
// A value of a local or global: {"type", "repr", "items"?, "attrs"?, "truncated"?}.
nlohmann::ordered_json ValueJson(const python::PyValue& value);
nlohmann::ordered_json LockJson(const analysis::LockRef& lock);
// A thread's handled exception: {"type", "message", "address", "chain":
// [{"relation", "type", "message", "address"}], "cycle_to"?, "cut"?}.
nlohmann::ordered_json HandlingJson(const python::HandledException& handling);
// A deadlock cycle as in the JSON contract: one edge per waiting thread.
nlohmann::ordered_json CycleJson(const std::vector<analysis::CycleEdge>& cycle);
// "Found one Python-level deadlock:" and one line per thread of the cycle.
std::string DeadlockText(const analysis::Finding& deadlock);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
