// Waits that are a thread's normal rest, not a hang: thread-pool workers
// waiting for work, event loops and servers waiting in their selector or in
// accept(). These threads get the state `idle` and never a finding.
#ifndef PYHANG_USERSPACE_ANALYSIS_IDLE_PATTERNS_H_
#define PYHANG_USERSPACE_ANALYSIS_IDLE_PATTERNS_H_

#include <optional>
#include <vector>

#include "absl/strings/string_view.h"
#include "userspace/analysis/observation.h"

namespace pyhang::analysis {

// The reason a blocked thread is idle ("thread pool worker waiting for
// work", ...), or nullopt if it is not one of the known idle waits.
std::optional<absl::string_view> IdleReason(const ThreadObservation& thread);

// True if `frame` is `function` in a file whose path ends with `file_suffix`.
bool FrameIs(const python::PyFrame& frame, absl::string_view function, absl::string_view file_suffix);

// Index of the outermost frame that runs asyncio's event loop iteration
// (BaseEventLoop._run_once), or nullopt.
std::optional<size_t> EventLoopFrame(const std::vector<python::PyFrame>& frames);

}  // namespace pyhang::analysis

#endif  // PYHANG_USERSPACE_ANALYSIS_IDLE_PATTERNS_H_
