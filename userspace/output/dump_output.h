// `pyhang dump` output: text for a person at 3 a.m., JSON for scripts
// (the contract in ARCHITECTURE.md).
#ifndef PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
#define PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_

#include <string>

#include "nlohmann/json.hpp"
#include "userspace/snapshot/snapshot.h"

namespace pyhang::output {

struct DumpFormatOptions {
  bool locals = false;
  bool source_lines = true;  // text only: show each frame's line of code
};

std::string DumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options);
nlohmann::ordered_json DumpJson(const snapshot::ProcessSnapshot& snapshot,
                                const DumpFormatOptions& options);

// One thread's frames as JSON objects (shared with watch/hang output).
nlohmann::ordered_json FramesJson(const python::PyThread& thread, bool locals);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_DUMP_OUTPUT_H_
