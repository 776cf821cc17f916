#include "userspace/output/dump_output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/core/core_file.h"
#include "userspace/output/source_lines.h"
#include "userspace/output/text_escape.h"
#include "userspace/python/exception_reader.h"
#include "userspace/python/thread_list.h"

namespace pyhang::output {
namespace {

using analysis::HeldLock;
using analysis::LockRef;
using analysis::ThreadObservation;
using nlohmann::ordered_json;

std::string LockText(const LockRef& lock) {
  if (lock.address == 0) return absl::StrFormat("a lock (futex 0x%x)", lock.futex);
  return absl::StrFormat("<%s at 0x%x>", TerminalSafe(lock.type), lock.address);
}

std::string ThreadName(const snapshot::ProcessSnapshot& snapshot, int64_t tid) {
  for (const snapshot::ThreadSnapshot& thread : snapshot.threads) {
    if (thread.thread.tid == tid && !thread.thread.name.empty()) {
      return absl::StrCat("thread ", tid, " \"", TerminalSafe(thread.thread.name), "\"");
    }
  }
  return absl::StrCat("thread ", tid);
}

// Who holds `lock`, from every thread's evidence; 0 if unknown.
const HeldLock* Holder(const snapshot::ProcessSnapshot& snapshot, const LockRef& lock, int64_t* tid) {
  for (const snapshot::ThreadSnapshot& thread : snapshot.threads) {
    for (const HeldLock& held : thread.thread.holds) {
      bool same = lock.address != 0 ? held.lock.address == lock.address : held.lock.futex == lock.futex;
      if (same && thread.thread.tid != 0) {
        *tid = thread.thread.tid;
        return &held;
      }
    }
  }
  return nullptr;
}

std::string ThreadHeader(const snapshot::ThreadSnapshot& snapshot_thread) {
  const ThreadObservation& thread = snapshot_thread.thread;
  std::string state(threads::StateName(snapshot_thread.state));
  if (thread.holds_gil) absl::StrAppend(&state, ", holds the GIL");
  std::string header = thread.tid != 0 ? absl::StrCat("Thread ", thread.tid)
                                       : absl::StrFormat("Thread 0x%x", thread.thread_id);
  if (thread.ns_tid != 0 && thread.ns_tid != thread.tid) {
    absl::StrAppend(&header, " [", thread.ns_tid, " in its pid namespace]");
  }
  absl::StrAppend(&header, " (", state, ")");
  if (!thread.name.empty()) absl::StrAppend(&header, ": \"", TerminalSafe(thread.name), "\"");
  return header;
}

// Lines under the header: what the thread waits for and what it holds.
void AppendWaitDetail(const snapshot::ProcessSnapshot& snapshot, const snapshot::ThreadSnapshot& entry,
                      std::string* out) {
  const ThreadObservation& thread = entry.thread;
  if (thread.waits_for_notification) {
    absl::StrAppend(out, "    waiting for a notification (Condition.wait)\n");
  } else if (thread.waiting_for) {
    std::string line = absl::StrCat("    waiting for ", LockText(*thread.waiting_for));
    int64_t holder_tid = 0;
    if (const HeldLock* held = Holder(snapshot, *thread.waiting_for, &holder_tid)) {
      absl::StrAppend(&line, " held by ", ThreadName(snapshot, holder_tid), " (", TerminalSafe(held->where), ")");
    }
    absl::StrAppend(out, line, "\n");
  } else if (!thread.verdict.detail.empty() && entry.state != threads::ThreadState::kRunning) {
    std::string detail = thread.verdict.detail;
    if (thread.io && !thread.io->description.empty()) absl::StrAppend(&detail, ": ", thread.io->description);
    absl::StrAppend(out, "    (", TerminalSafe(detail), ")\n");
  }
  for (const HeldLock& held : thread.holds) {
    absl::StrAppend(out, "    holding ", LockText(held.lock), " (", TerminalSafe(held.where), ")\n");
  }
}

// "handling ConnectionRefusedError: [Errno 111] Connection refused" and
// where that exception came from, as traceback would print the chain.
void AppendHandling(const python::HandledException& handling, std::string* out) {
  for (size_t i = 0; i < handling.chain.size(); ++i) {
    const python::PyExceptionLink& link = handling.chain[i];
    const char* lead = link.relation == python::ExceptionRelation::kCause     ? "        raised from "
                       : link.relation == python::ExceptionRelation::kContext ? "        raised while handling "
                                                                              : "    handling ";
    absl::StrAppend(out, lead, TerminalSafe(python::ExceptionLine(link)), "\n");
  }
  if (handling.cycle && handling.cycle_to < handling.chain.size()) {
    absl::StrAppend(out, "        ... and back to ", TerminalSafe(handling.chain[handling.cycle_to].type),
                    absl::StrFormat(" at 0x%x", handling.chain[handling.cycle_to].address),
                    ": the exception chain is a cycle\n");
  }
  if (handling.cut) {
    absl::StrAppend(out, "        ... (the chain goes on: cut after ", handling.chain.size(), " exceptions)\n");
  }
}

const char* RelationName(python::ExceptionRelation relation) {
  switch (relation) {
    case python::ExceptionRelation::kCause: return "cause";
    case python::ExceptionRelation::kContext: return "context";
    case python::ExceptionRelation::kHandled: break;
  }
  return "handled";
}

ordered_json ExceptionLinkJson(const python::PyExceptionLink& link) {
  ordered_json item;
  if (link.relation != python::ExceptionRelation::kHandled) item["relation"] = RelationName(link.relation);
  item["type"] = link.type;
  item["message"] = link.message;
  item["address"] = link.address;
  return item;
}

std::string NativeFrameText(const python::PyFrame& frame) {
  std::string name = frame.function.empty() ? absl::StrFormat("0x%x", frame.pc) : TerminalSafe(frame.function);
  return frame.module.empty() ? name : absl::StrCat(name, " (", TerminalSafe(frame.module), ")");
}

std::string VariableText(const python::LocalVariable& variable) {
  std::string text =
      absl::StrCat("            ", TerminalSafe(variable.name), ": ", TerminalSafe(variable.value->repr));
  if (variable.held_by != 0) absl::StrAppend(&text, "  (held by thread ", variable.held_by, ")");
  return text + "\n";
}

void AppendLocals(const python::PyFrame& frame, std::string* out) {
  for (bool arguments : {true, false}) {
    bool first = true;
    for (const python::LocalVariable& local : frame.locals) {
      if (local.is_argument != arguments) continue;
      if (first) absl::StrAppend(out, "        ", arguments ? "Arguments:" : "Locals:", "\n");
      first = false;
      absl::StrAppend(out, VariableText(local));
    }
  }
}

void AppendGlobals(const python::PyFrame& frame, std::string* out) {
  if (frame.globals.empty()) return;
  absl::StrAppend(out, "        Globals:\n");
  for (const python::LocalVariable& global : frame.globals) absl::StrAppend(out, VariableText(global));
}

void AppendThread(const snapshot::ProcessSnapshot& snapshot, const snapshot::ThreadSnapshot& entry,
                  const DumpFormatOptions& options, SourceLines& sources, std::string* out) {
  const ThreadObservation& thread = entry.thread;
  absl::StrAppend(out, ThreadHeader(entry), "\n");
  AppendWaitDetail(snapshot, entry, out);
  if (thread.handling) AppendHandling(*thread.handling, out);
  bool python_frames = false;
  for (const python::PyFrame& frame : thread.frames) {
    if (frame.kind == python::FrameKind::kKernel) {
      absl::StrAppend(out, "    [kernel] ", TerminalSafe(frame.function), "\n");
      continue;
    }
    if (frame.kind == python::FrameKind::kNative) {
      absl::StrAppend(out, "    [native] ", NativeFrameText(frame), "\n");
      continue;
    }
    python_frames = true;
    absl::StrAppend(out, "    ", TerminalSafe(frame.qualname), " (", TerminalSafe(frame.file), ":", frame.line, ")\n");
    if (options.source_lines) {
      if (std::optional<std::string> line = sources.Line(frame.file, frame.line)) {
        absl::StrAppend(out, "        ", TerminalSafe(*line), "\n");
      }
    }
    if (options.locals) AppendLocals(frame, out);
    if (options.globals) AppendGlobals(frame, out);
  }
  if (!python_frames) absl::StrAppend(out, "    (no Python frames)\n");
  if (thread.truncated) absl::StrAppend(out, "    ... (stack truncated at the depth limit)\n");
  if (!thread.walk_error.empty()) absl::StrAppend(out, "    ... (stack ends early: ", thread.walk_error, ")\n");
}

// "Core file core.123: SIGSEGV at 0x0 in thread 7 (strlen (libc.so.6))".
std::string CoreText(const snapshot::CoreSummary& core) {
  std::string out = absl::StrCat("Core file ", TerminalSafe(core.file));
  if (core.compression != "none") absl::StrAppend(&out, " (", core.compression, ")");
  if (core.crashing_tid == 0) {
    absl::StrAppend(&out, ": written while the process ran (no fatal signal)");
  } else {
    absl::StrAppend(&out, ": ", core::SignalName(core.signal));
    if (core.fault_address) absl::StrAppend(&out, absl::StrFormat(" at 0x%x", *core.fault_address));
    absl::StrAppend(&out, " in thread ", core.crashing_tid);
    if (!core.crashed_in.empty()) absl::StrAppend(&out, ", in ", TerminalSafe(core.crashed_in));
  }
  if (core.truncated) absl::StrAppend(&out, " [truncated file]");
  return out + "\n";
}

ordered_json CoreJson(const snapshot::CoreSummary& core) {
  ordered_json out;
  out["file"] = core.file;
  out["compression"] = core.compression;
  out["signal"] = core.signal != 0 ? ordered_json(core.signal) : ordered_json(nullptr);
  out["signal_name"] = core.signal != 0 ? ordered_json(core::SignalName(core.signal)) : ordered_json(nullptr);
  out["fault_address"] = core.fault_address ? ordered_json(absl::StrFormat("0x%x", *core.fault_address))
                                            : ordered_json(nullptr);
  out["crashing_tid"] = core.crashing_tid != 0 ? ordered_json(core.crashing_tid) : ordered_json(nullptr);
  out["crashed_in"] = core.crashed_in.empty() ? ordered_json(nullptr) : ordered_json(core.crashed_in);
  out["threads"] = core.threads;
  out["truncated"] = core.truncated;
  return out;
}

ordered_json HoldsJson(const std::vector<HeldLock>& holds) {
  ordered_json list = ordered_json::array();
  for (const HeldLock& held : holds) {
    ordered_json item = LockJson(held.lock);
    item["evidence"] = analysis::EvidenceName(held.evidence);
    item["where"] = held.where;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

std::string DeadlockText(const analysis::Finding& deadlock) {
  std::string out = "Found one Python-level deadlock:\n";
  for (const analysis::CycleEdge& edge : deadlock.evidence.cycle) {
    std::string waiter = absl::StrCat("thread ", edge.tid);
    std::string holder = absl::StrCat("thread ", edge.held_by);
    for (const ThreadObservation& thread : deadlock.threads) {
      if (thread.tid == edge.tid && !thread.name.empty()) {
        absl::StrAppend(&waiter, " \"", TerminalSafe(thread.name), "\"");
      }
      if (thread.tid == edge.held_by && !thread.name.empty()) {
        absl::StrAppend(&holder, " \"", TerminalSafe(thread.name), "\"");
      }
    }
    absl::StrAppend(&out, "  ", waiter, " waits for ", LockText(edge.lock), ",\n      held by ", holder, " (",
                    TerminalSafe(edge.where), edge.how == analysis::OwnershipEvidence::kAcquireInCode ? ", inferred" : "", ")\n");
  }
  return out;
}

bool WriteDumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options,
                   const TextSink& sink) {
  // Handed on once this much is made: few writes, and little held at once.
  constexpr size_t kPieceBytes = 256 << 10;
  std::string out = snapshot.core ? CoreText(*snapshot.core) : "";
  out.reserve(kPieceBytes + (64 << 10));
  absl::StrAppend(&out, "Process ", snapshot.pid);
  if (snapshot.ns_pid != 0 && snapshot.ns_pid != snapshot.pid) {
    absl::StrAppend(&out, " [", snapshot.ns_pid, " in its pid namespace]");
  }
  absl::StrAppend(&out, ": ", TerminalSafe(snapshot.command_line), "\n", "Python v", snapshot.version.ToString(),
                  " (", TerminalSafe(snapshot.python_binary), ")\n");
  for (const analysis::Finding& deadlock : snapshot.deadlocks) absl::StrAppend(&out, "\n", DeadlockText(deadlock));
  SourceLines sources(snapshot.source_root, snapshot.source_cwd);
  for (const snapshot::ThreadSnapshot& thread : snapshot.threads) {
    absl::StrAppend(&out, "\n");
    AppendThread(snapshot, thread, options, sources, &out);
    if (out.size() >= kPieceBytes) {
      if (!sink(out)) return false;
      out.clear();
    }
  }
  if (snapshot.native_only_threads > 0) {
    absl::StrAppend(&out, "\n(", snapshot.native_only_threads, " more OS threads run no Python code)\n");
  }
  if (snapshot.threads_not_read > 0) {
    absl::StrAppend(&out, "\n(", snapshot.threads_not_read, " more OS threads not read: the Python thread list is cut at ",
                    python::ThreadList::kMaxThreads, " threads)\n");
  }
  return out.empty() || sink(out);
}

std::string DumpText(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options) {
  std::string text;
  WriteDumpText(snapshot, options, [&text](absl::string_view piece) {
    text.append(piece.data(), piece.size());
    return true;
  });
  return text;
}

ordered_json HandlingJson(const python::HandledException& handling) {
  ordered_json item = handling.chain.empty() ? ordered_json::object() : ExceptionLinkJson(handling.chain[0]);
  ordered_json chain = ordered_json::array();
  for (size_t i = 1; i < handling.chain.size(); ++i) chain.push_back(ExceptionLinkJson(handling.chain[i]));
  item["chain"] = std::move(chain);
  if (handling.cycle && handling.cycle_to < handling.chain.size()) {
    item["cycle_to"] = handling.chain[handling.cycle_to].address;
  }
  if (handling.cut) item["cut"] = true;
  return item;
}

ordered_json LockJson(const LockRef& lock) {
  ordered_json item;
  item["address"] = lock.address != 0 ? ordered_json(absl::StrFormat("0x%x", lock.address)) : ordered_json(nullptr);
  item["type"] = lock.type.empty() ? ordered_json(nullptr) : ordered_json(lock.type);
  item["futex"] = absl::StrFormat("0x%x", lock.futex);
  return item;
}

ordered_json CycleJson(const std::vector<analysis::CycleEdge>& cycle) {
  ordered_json json = ordered_json::array();
  for (const analysis::CycleEdge& edge : cycle) {
    json.push_back({{"tid", edge.tid}, {"waits_for", LockJson(edge.lock)}, {"held_by", edge.held_by},
                    {"evidence", analysis::EvidenceName(edge.how)}, {"where", edge.where}});
  }
  return json;
}

ordered_json ValueJson(const python::PyValue& value) {
  ordered_json json{{"type", value.type}, {"repr", value.repr}};
  bool sequence = !value.items.empty() || value.type == "list" || value.type == "tuple" ||
                  value.type == "set" || value.type == "frozenset";
  if (value.type == "dict" || !value.entries.empty()) {
    ordered_json items = ordered_json::array();
    for (const python::PyValueEntry& entry : value.entries) {
      items.push_back(ordered_json::array({ValueJson(entry.key), ValueJson(entry.value)}));
    }
    json["items"] = std::move(items);
  } else if (sequence) {
    ordered_json items = ordered_json::array();
    for (const python::PyValue& item : value.items) items.push_back(ValueJson(item));
    json["items"] = std::move(items);
  }
  if (!value.attributes.empty()) {
    ordered_json attrs = ordered_json::object();
    for (const python::PyValueAttribute& attribute : value.attributes) {
      attrs[attribute.name] = ValueJson(attribute.value);
    }
    json["attrs"] = std::move(attrs);
  }
  if (value.truncated) json["truncated"] = true;
  return json;
}

namespace {

ordered_json VariablesJson(const std::vector<python::LocalVariable>& variables) {
  ordered_json values = ordered_json::array();
  for (const python::LocalVariable& variable : variables) {
    ordered_json item{{"name", variable.name}, {"repr", variable.value->repr}, {"arg", variable.is_argument},
                      {"addr", variable.address}, {"value", ValueJson(*variable.value)}};
    if (variable.held_by != 0) item["held_by"] = variable.held_by;
    values.push_back(std::move(item));
  }
  return values;
}

}  // namespace

ordered_json FramesJson(const std::vector<python::PyFrame>& frames, bool locals, bool kinds, bool globals) {
  ordered_json list = ordered_json::array();
  for (const python::PyFrame& frame : frames) {
    if (frame.kind == python::FrameKind::kKernel) {
      list.push_back({{"kind", "kernel"}, {"function", frame.function}});
      continue;
    }
    if (frame.kind == python::FrameKind::kNative) {
      list.push_back({{"kind", "native"},
                      {"function", frame.function.empty() ? ordered_json(nullptr) : ordered_json(frame.function)},
                      {"module", frame.module},
                      {"address", absl::StrFormat("0x%x", frame.pc)}});
      continue;
    }
    ordered_json item = ordered_json::object();
    if (kinds) item["kind"] = "python";
    item.update(ordered_json{{"function", frame.function},
                         {"qualname", frame.qualname},
                         {"file", frame.file},
                         {"line", frame.line}});
    if (locals) item["locals"] = VariablesJson(frame.locals);
    if (globals) item["globals"] = VariablesJson(frame.globals);
    list.push_back(std::move(item));
  }
  return list;
}

namespace {

ordered_json ThreadJson(const snapshot::ProcessSnapshot& snapshot, const snapshot::ThreadSnapshot& entry,
                        const DumpFormatOptions& options) {
  const ThreadObservation& thread = entry.thread;
  ordered_json item;
  item["tid"] = thread.tid != 0 ? ordered_json(thread.tid) : ordered_json(nullptr);
  if (thread.ns_tid != 0 && thread.ns_tid != thread.tid) item["ns_tid"] = thread.ns_tid;
  item["name"] = thread.name.empty() ? ordered_json(nullptr) : ordered_json(thread.name);
  item["holds_gil"] = thread.holds_gil;
  item["state"] = threads::StateName(entry.state);
  item["state_detail"] = thread.verdict.detail;
  item["thread_id"] = thread.thread_id;
  item["interpreter_id"] = thread.interpreter_id;
  if (thread.waiting_for) {
    ordered_json waiting = LockJson(*thread.waiting_for);
    int64_t holder_tid = 0;
    if (const HeldLock* held = Holder(snapshot, *thread.waiting_for, &holder_tid)) {
      waiting["held_by"] = holder_tid;
      waiting["evidence"] = analysis::EvidenceName(held->evidence);
    }
    waiting["notification"] = thread.waits_for_notification;
    item["waiting_for"] = std::move(waiting);
  }
  if (!thread.holds.empty()) item["holds"] = HoldsJson(thread.holds);
  if (thread.io) item["io"] = {{"fd", thread.io->fd}, {"description", thread.io->description}};
  if (thread.handling) item["handling"] = HandlingJson(*thread.handling);
  item["frames"] = FramesJson(thread.frames, options.locals, options.native, options.globals);
  if (thread.truncated) item["truncated"] = true;
  if (!thread.walk_error.empty()) item["walk_error"] = thread.walk_error;
  return item;
}

// The dump's keys before "threads" (head) and after it (tail).
std::pair<ordered_json, ordered_json> DumpJsonAround(const snapshot::ProcessSnapshot& snapshot) {
  ordered_json head;
  head["pid"] = snapshot.pid;
  if (snapshot.core) head["core"] = CoreJson(*snapshot.core);
  if (snapshot.ns_pid != 0 && snapshot.ns_pid != snapshot.pid) head["ns_pid"] = snapshot.ns_pid;
  head["python_version"] = snapshot.version.ToString();
  head["command_line"] = snapshot.command_line;
  head["executable"] = snapshot.executable;
  head["python_binary"] = snapshot.python_binary;
  ordered_json deadlocks = ordered_json::array();
  for (const analysis::Finding& deadlock : snapshot.deadlocks) {
    deadlocks.push_back({{"tids", deadlock.tids}, {"cycle", CycleJson(deadlock.evidence.cycle)}});
  }
  ordered_json tail;
  tail["deadlocks"] = std::move(deadlocks);
  tail["native_only_threads"] = snapshot.native_only_threads;
  if (snapshot.threads_not_read > 0) tail["threads_not_read"] = snapshot.threads_not_read;
  return {std::move(head), std::move(tail)};
}

std::string CompactJson(const ordered_json& json) {
  return json.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace

ordered_json DumpJson(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options) {
  auto [out, tail] = DumpJsonAround(snapshot);
  ordered_json threads = ordered_json::array();
  for (const snapshot::ThreadSnapshot& entry : snapshot.threads) {
    threads.push_back(ThreadJson(snapshot, entry, options));
  }
  out["threads"] = std::move(threads);
  for (auto& [key, value] : tail.items()) out[key] = value;
  return out;
}

bool WriteDumpJson(const snapshot::ProcessSnapshot& snapshot, const DumpFormatOptions& options,
                   const TextSink& sink) {
  constexpr size_t kPieceBytes = 256 << 10;
  auto [head, tail] = DumpJsonAround(snapshot);
  // {"pid":...,"python_binary":"..."  +  ,"threads":[ ... ]  +  ,"deadlocks":...}
  std::string out = CompactJson(head);
  out.pop_back();
  out += ",\"threads\":[";
  bool first = true;
  for (const snapshot::ThreadSnapshot& entry : snapshot.threads) {
    if (!first) out += ",";
    first = false;
    out += CompactJson(ThreadJson(snapshot, entry, options));
    if (out.size() >= kPieceBytes) {
      if (!sink(out)) return false;
      out.clear();
    }
  }
  out += "],";
  out += CompactJson(tail).substr(1);
  out += "\n";
  return sink(out);
}

}  // namespace pyhang::output
