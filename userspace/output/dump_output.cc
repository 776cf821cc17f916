#include "userspace/output/dump_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/output/source_lines.h"

namespace pyhang::output {
namespace {

using nlohmann::ordered_json;

std::string ThreadHeader(const snapshot::ThreadSnapshot& thread) {
  const python::PyThread& py = thread.python;
  std::string state(threads::StateName(thread.verdict.state));
  if (py.holds_gil) absl::StrAppend(&state, ", holds the GIL");
  std::string header = py.tid != 0 ? absl::StrCat("Thread ", py.tid)
                                   : absl::StrFormat("Thread 0x%x", py.thread_id);
  absl::StrAppend(&header, " (", state, ")");
  if (!py.name.empty()) absl::StrAppend(&header, ": \"", py.name, "\"");
  return header;
}

void AppendLocals(const python::PyFrame& frame, std::string* out) {
  for (bool arguments : {true, false}) {
    bool first = true;
    for (const python::LocalVariable& local : frame.locals) {
      if (local.is_argument != arguments) continue;
      if (first) absl::StrAppend(out, "        ", arguments ? "Arguments:" : "Locals:", "\n");
      first = false;
      absl::StrAppend(out, "            ", local.name, ": ", local.repr, "\n");
    }
  }
}

void AppendThread(const snapshot::ThreadSnapshot& thread, const DumpFormatOptions& options,
                  SourceLines& sources, std::string* out) {
  absl::StrAppend(out, ThreadHeader(thread), "\n");
  if (!thread.verdict.detail.empty() && thread.verdict.state != threads::ThreadState::kRunning) {
    absl::StrAppend(out, "    (", thread.verdict.detail, ")\n");
  }
  for (const python::PyFrame& frame : thread.python.frames) {
    absl::StrAppend(out, "    ", frame.qualname, " (", frame.file, ":", frame.line, ")\n");
    if (options.source_lines) {
      if (std::optional<std::string> line = sources.Line(frame.file, frame.line)) {
        absl::StrAppend(out, "        ", *line, "\n");
      }
    }
    if (options.locals) AppendLocals(frame, out);
  }
  if (thread.python.frames.empty()) absl::StrAppend(out, "    (no Python frames)\n");
  if (thread.python.truncated) absl::StrAppend(out, "    ... (stack truncated at the depth limit)\n");
  if (!thread.python.walk_error.empty()) {
    absl::StrAppend(out, "    ... (stack ends early: ", thread.python.walk_error, ")\n");
  }
}

}  // namespace

std::string DumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options) {
  std::string out = absl::StrCat("Process ", snapshot.pid, ": ", snapshot.command_line, "\n",
                                 "Python v", snapshot.version.ToString(), " (",
                                 snapshot.python_binary, ")\n");
  SourceLines sources(snapshot.pid);
  for (const snapshot::ThreadSnapshot& thread : snapshot.threads) {
    absl::StrAppend(&out, "\n");
    AppendThread(thread, options, sources, &out);
  }
  if (snapshot.native_only_threads > 0) {
    absl::StrAppend(&out, "\n(", snapshot.native_only_threads,
                    " more OS threads run no Python code)\n");
  }
  return out;
}

ordered_json FramesJson(const python::PyThread& thread, bool locals) {
  ordered_json frames = ordered_json::array();
  for (const python::PyFrame& frame : thread.frames) {
    ordered_json item = {{"function", frame.function},
                         {"qualname", frame.qualname},
                         {"file", frame.file},
                         {"line", frame.line}};
    if (locals) {
      ordered_json values = ordered_json::array();
      for (const python::LocalVariable& local : frame.locals) {
        values.push_back({{"name", local.name},
                          {"repr", local.repr},
                          {"arg", local.is_argument},
                          {"addr", local.address}});
      }
      item["locals"] = std::move(values);
    }
    frames.push_back(std::move(item));
  }
  return frames;
}

ordered_json DumpJson(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options) {
  ordered_json threads = ordered_json::array();
  for (const snapshot::ThreadSnapshot& thread : snapshot.threads) {
    const python::PyThread& py = thread.python;
    ordered_json item;
    item["tid"] = py.tid != 0 ? ordered_json(py.tid) : ordered_json(nullptr);
    item["name"] = py.name.empty() ? ordered_json(nullptr) : ordered_json(py.name);
    item["holds_gil"] = py.holds_gil;
    item["state"] = threads::StateName(thread.verdict.state);
    item["state_detail"] = thread.verdict.detail;
    item["thread_id"] = py.thread_id;
    item["interpreter_id"] = py.interpreter_id;
    item["frames"] = FramesJson(py, options.locals);
    if (py.truncated) item["truncated"] = true;
    if (!py.walk_error.empty()) item["walk_error"] = py.walk_error;
    threads.push_back(std::move(item));
  }
  ordered_json out;
  out["pid"] = snapshot.pid;
  out["python_version"] = snapshot.version.ToString();
  out["command_line"] = snapshot.command_line;
  out["executable"] = snapshot.executable;
  out["python_binary"] = snapshot.python_binary;
  out["threads"] = std::move(threads);
  out["native_only_threads"] = snapshot.native_only_threads;
  return out;
}

}  // namespace pyhang::output
