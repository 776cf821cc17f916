#include "userspace/analysis/idle_patterns.h"

#include "absl/strings/match.h"

namespace pyhang::analysis {

bool FrameIs(const python::PyFrame& frame, absl::string_view function, absl::string_view file_suffix) {
  return frame.function == function && absl::EndsWith(frame.file, file_suffix);
}

std::optional<size_t> EventLoopFrame(const std::vector<python::PyFrame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    if (FrameIs(frames[i], "_run_once", "asyncio/base_events.py")) return i;
  }
  return std::nullopt;
}

std::optional<absl::string_view> IdleReason(const ThreadObservation& thread) {
  using threads::ThreadState;
  const ThreadState state = thread.verdict.state;
  if (state != ThreadState::kLockWait && state != ThreadState::kIoWait) return std::nullopt;
  const std::vector<python::PyFrame>& frames = thread.frames;
  if (frames.empty()) return std::nullopt;
  const python::PyFrame& innermost = frames.front();
  // concurrent.futures.ThreadPoolExecutor: _worker blocks in work_queue.get().
  if (state == ThreadState::kLockWait && FrameIs(innermost, "_worker", "concurrent/futures/thread.py")) {
    return "thread pool worker waiting for work";
  }
  // multiprocessing.pool.ThreadPool / Pool workers: worker() in inqueue.get().
  if (state == ThreadState::kLockWait && frames.size() >= 2 && FrameIs(frames[1], "worker", "multiprocessing/pool.py")) {
    return "pool worker waiting for work";
  }
  if (state == ThreadState::kIoWait) {
    bool in_selector = FrameIs(innermost, "select", "selectors.py");
    if (in_selector && EventLoopFrame(frames)) return "event loop waiting for events";
    for (const python::PyFrame& frame : frames) {
      if (in_selector && FrameIs(frame, "serve_forever", "socketserver.py")) return "server waiting for requests";
    }
    if (absl::StartsWith(thread.verdict.detail, "accept")) return "server waiting for connections";
  }
  return std::nullopt;
}

}  // namespace pyhang::analysis
