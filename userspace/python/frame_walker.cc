#include "absl/strings/string_view.h"
#include "userspace/python/frame_walker.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_format.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/python/line_table.h"
#include "userspace/python/value_reader.h"

namespace pyhang::python {
namespace {

using memory::LoadAt;

constexpr int kCoVarargs = 0x4;          // CO_VARARGS
constexpr int kCoVarkeywords = 0x8;      // CO_VARKEYWORDS
constexpr uint8_t kFastHidden = 0x10;    // CO_FAST_HIDDEN (3.12+)
constexpr uint8_t kFastCellOrFree = 0xc0;  // CO_FAST_CELL | CO_FAST_FREE
constexpr size_t kMaxLocals = 4096;

uint64_t MaskRef(uint64_t value, const PyOffsets& o) {
  return o.tagged_frame_refs ? value & ~uint64_t{3} : value;
}

}  // namespace

bool FrameWalker::IsEntryShim(const FrameFields& fields) const {
  const PyOffsets& o = runtime_.offsets;
  return o.frame_model == PYHANG_FRAME_INTERPRETER &&
         (fields.owner == o.owner_cstack || fields.owner == o.owner_interpreter);
}

absl::StatusOr<uint64_t> FrameWalker::TopFrame(uint64_t tstate) {
  const PyOffsets& o = runtime_.offsets;
  ASSIGN_OR_RETURN(uint64_t pointer, memory::ReadPointer(objects_.reader(), tstate + o.tstate_frame));
  // 3.11/3.12: tstate->cframe->current_frame.
  if (!Has(o.cframe_current_frame) || pointer == 0) return pointer;
  return memory::ReadPointer(objects_.reader(), pointer + o.cframe_current_frame);
}

int64_t FrameWalker::InstructionOffset(uint64_t instr_field, uint64_t code) const {
  const PyOffsets& o = runtime_.offsets;
  switch (o.instr_encoding) {
    case PYHANG_LASTI_BYTES:
      return static_cast<int32_t>(instr_field);
    case PYHANG_LASTI_UNITS: {
      int32_t lasti = static_cast<int32_t>(instr_field);
      return lasti < 0 ? lasti : int64_t{lasti} * 2;
    }
    case PYHANG_INSTR_POINTER: {
      int64_t delta = static_cast<int64_t>(instr_field - (code + o.code_adaptive));
      return delta < 0 ? -1 : delta / 2;
    }
  }
  return -1;
}

absl::StatusOr<std::optional<RawFrame>> FrameWalker::Interpret(const FrameFields& fields) {
  const PyOffsets& o = runtime_.offsets;
  const bool interpreter_frames = o.frame_model == PYHANG_FRAME_INTERPRETER;
  RawFrame raw;
  raw.frame_address = fields.frame_address;
  raw.code_address = MaskRef(fields.code, o);
  if (interpreter_frames) {
    // Shim/sentinel frames that C code pushes (3.12+) are not Python calls.
    if (fields.owner == o.owner_cstack || fields.owner == o.owner_interpreter) return std::nullopt;
    raw.is_generator = fields.owner == o.owner_generator;
    raw.entry = fields.is_entry;
  } else {
    raw.entry = true;  // <= 3.10: every Python call is its own eval-loop activation
  }
  absl::StatusOr<const CodeInfo*> code = codes_.Get(raw.code_address);
  if (!code.ok()) {
    if (memory::IsTargetGone(code.status())) return code.status();
    // 3.13 entry frames run `None`; anything else here is a broken chain.
    bool entry_frame = raw.code_address == 0 || raw.code_address == runtime_.types.none_object;
    if (interpreter_frames && entry_frame) return std::nullopt;
    return code.status();
  }
  raw.instruction = InstructionOffset(fields.instr_field, raw.code_address);
  // 3.11+: a frame still in its prologue is hidden by CPython too.
  if (interpreter_frames && !raw.is_generator && raw.instruction < (*code)->first_traceable) {
    return std::nullopt;
  }
  return raw;
}

absl::StatusOr<RawWalk> FrameWalker::WalkRaw(uint64_t top_frame, const WalkLimits& limits) {
  const PyOffsets& o = runtime_.offsets;
  RawWalk walk;
  absl::flat_hash_set<uint64_t> seen;
  // Skipped frames (shims) count against a looser cap so a chain of shims
  // cannot keep the walk going forever either.
  const size_t max_steps = limits.max_depth * 2 + 16;
  size_t steps = 0;
  for (uint64_t address = top_frame; address != 0;) {
    if (walk.frames.size() >= limits.max_depth || ++steps > max_steps) {
      walk.truncated = true;
      break;
    }
    if (!seen.insert(address).second) {
      walk.error = absl::StrFormat("frame chain loops at 0x%x", address);
      break;
    }
    absl::StatusOr<std::string> bytes = memory::ReadBytes(objects_.reader(), address, o.frame_size);
    if (!bytes.ok()) {
      if (memory::IsTargetGone(bytes.status())) return bytes.status();
      walk.error = std::string(bytes.status().message());
      break;
    }
    FrameFields fields;
    fields.frame_address = address;
    fields.code = LoadAt<uint64_t>(*bytes, o.frame_code);
    fields.instr_field = Has(o.frame_instr) ? LoadAt<uint64_t>(*bytes, o.frame_instr) : 0;
    fields.owner = Has(o.frame_owner) ? LoadAt<uint8_t>(*bytes, o.frame_owner) : 0;
    fields.is_entry = Has(o.frame_is_entry) && LoadAt<uint8_t>(*bytes, o.frame_is_entry) != 0;
    if (absl::Status appended = AppendFrame(fields, &walk); !appended.ok()) {
      if (memory::IsTargetGone(appended)) return appended;
      walk.error = std::string(appended.message());
      break;
    }
    address = LoadAt<uint64_t>(*bytes, o.frame_previous);
  }
  return walk;
}

absl::Status FrameWalker::AppendFrame(const FrameFields& fields, RawWalk* walk) {
  ASSIGN_OR_RETURN(std::optional<RawFrame> frame, Interpret(fields));
  if (frame) {
    walk->frames.push_back(*frame);
  } else if (IsEntryShim(fields) && !walk->frames.empty()) {
    // 3.12+: the eval loop pushes this frame below the first Python frame
    // it runs, so the frame walked just before it began an activation.
    walk->frames.back().entry = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<PyFrame> FrameWalker::Symbolize(const RawFrame& raw) {
  ASSIGN_OR_RETURN(const CodeInfo* code, codes_.Get(raw.code_address));
  PyFrame frame;
  frame.function = code->name;
  frame.qualname = code->qualname;
  frame.file = code->filename;
  frame.code_address = raw.code_address;
  frame.frame_address = raw.frame_address;
  frame.instruction = raw.instruction;
  frame.entry = raw.entry;
  std::optional<int> line;
  if (auto memo = code->line_memo.find(raw.instruction); memo != code->line_memo.end()) {
    line = memo->second;
  } else {
    line = LineForOffset(static_cast<pyhang_linetable_format>(runtime_.offsets.linetable_format),
                         code->line_table, code->first_line, raw.instruction);
    if (code->line_memo.size() < CodeInfo::kMaxMemoLines) code->line_memo.emplace(raw.instruction, line);
  }
  if (line) {
    frame.line = *line;
  } else {
    LOG_DEBUG("no line for ", code->qualname, " at instruction ", raw.instruction);
  }
  return frame;
}

absl::Status FrameWalker::ReadLocals(const RawFrame& raw, PyFrame* frame,
                                     const ReprLimits& limits) {
  const PyOffsets& o = runtime_.offsets;
  ASSIGN_OR_RETURN(const CodeInfo* code, codes_.GetWithLocalNames(raw.code_address));
  size_t count = std::min(code->local_names.size(), kMaxLocals);
  if (count == 0) return absl::OkStatus();
  std::vector<uint64_t> slots(count);
  RETURN_IF_ERROR(objects_.reader().Read(
      raw.frame_address + o.frame_localsplus,
      absl::MakeSpan(reinterpret_cast<std::byte*>(slots.data()), count * sizeof(uint64_t))));
  int arguments = code->argcount + code->kwonlyargcount + ((code->flags & kCoVarargs) ? 1 : 0) +
                  ((code->flags & kCoVarkeywords) ? 1 : 0);
  frame->locals.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    uint8_t kind = i < code->local_kinds.size() ? static_cast<uint8_t>(code->local_kinds[i]) : 0;
    if (kind & kFastHidden) continue;
    uint64_t value = MaskRef(slots[i], o);
    if (value == 0) continue;  // unbound
    bool is_cell = code->local_kinds.empty() ? i >= static_cast<size_t>(code->nlocals)
                                             : (kind & kFastCellOrFree) != 0;
    if (is_cell) {
      absl::StatusOr<bool> cell = objects_.IsInstance(value, runtime_.types.cell);
      if (cell.ok() && *cell) {
        absl::StatusOr<uint64_t> content = memory::ReadPointer(objects_.reader(), value + o.cell_ref);
        if (!content.ok() || *content == 0) continue;
        value = *content;
      }
    }
    frame->locals.push_back(LocalVariable{code->local_names[i], ValueOf(value, limits),
                                          static_cast<int>(i) < arguments, value});
  }
  return absl::OkStatus();
}

std::shared_ptr<const PyValue> FrameWalker::ValueOf(uint64_t object, const ReprLimits& limits) {
  if (auto it = values_by_object_.find(object); it != values_by_object_.end()) return it->second;
  if (values_by_object_.size() >= kMaxValuesRemembered) values_by_object_.clear();
  auto value = std::make_shared<const PyValue>(ValueReader(objects_, limits).Read(object));
  values_by_object_.emplace(object, value);
  return value;
}

absl::StatusOr<const FrameWalker::GlobalNames*> FrameWalker::GlobalsOf(uint64_t dict) {
  if (auto it = globals_by_dict_.find(dict); it != globals_by_dict_.end()) return &it->second;
  GlobalNames names;
  RETURN_IF_ERROR(objects_.ForEachDictEntry(dict, kMaxGlobalNames, [&](uint64_t key, uint64_t value) {
    absl::StatusOr<std::string> name = objects_.ReadString(key, 256);
    if (name.ok()) names.emplace(*std::move(name), value);
    return true;
  }));
  if (globals_by_dict_.size() >= 64) globals_by_dict_.clear();
  return &globals_by_dict_.emplace(dict, std::move(names)).first->second;
}

absl::Status FrameWalker::ReadGlobals(const RawFrame& raw, PyFrame* frame, const ReprLimits& limits) {
  const PyOffsets& o = runtime_.offsets;
  if (!Has(o.frame_globals) || !Has(o.code_names)) {
    return absl::UnimplementedError("this version's frame globals are not known");
  }
  ASSIGN_OR_RETURN(uint64_t dict, memory::ReadPointer(objects_.reader(), raw.frame_address + o.frame_globals));
  ASSIGN_OR_RETURN(uint64_t names, memory::ReadPointer(objects_.reader(), raw.code_address + o.code_names));
  if (dict == 0 || names == 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(const GlobalNames* globals, GlobalsOf(dict));
  ASSIGN_OR_RETURN(std::vector<uint64_t> name_objects, objects_.ReadTupleItems(names, 1024));
  absl::flat_hash_set<std::string> shown;
  for (uint64_t name_object : name_objects) {
    if (frame->globals.size() >= kMaxGlobalsPerFrame) break;
    absl::StatusOr<std::string> name = objects_.ReadString(name_object, 256);
    if (!name.ok() || shown.contains(*name)) continue;
    auto found = globals->find(*name);
    if (found == globals->end()) continue;  // an attribute or builtin name, not a global
    shown.insert(*name);
    frame->globals.push_back(LocalVariable{*name, ValueOf(found->second, limits), false, found->second});
  }
  return absl::OkStatus();
}

}  // namespace pyhang::python
