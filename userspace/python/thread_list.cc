#include "absl/strings/string_view.h"
#include "userspace/python/thread_list.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"

namespace pyhang::python {
namespace {

using memory::LoadAt;
using memory::ReadPointer;
using memory::ReadValue;

}  // namespace

absl::StatusOr<std::vector<uint64_t>> ThreadList::ListInterpreters() {
  const PyOffsets& o = runtime_.offsets;
  ASSIGN_OR_RETURN(uint64_t interp, ReadPointer(objects_.reader(),
                                                runtime_.runtime_address + o.runtime_interpreters_head));
  if (interp == 0) {
    return absl::FailedPreconditionError("the Python runtime is not initialized (yet)");
  }
  std::vector<uint64_t> interpreters;
  absl::flat_hash_set<uint64_t> seen;
  while (interp != 0 && interpreters.size() < kMaxInterpreters && seen.insert(interp).second) {
    interpreters.push_back(interp);
    absl::StatusOr<uint64_t> next = ReadPointer(objects_.reader(), interp + o.interp_next);
    if (!next.ok()) {
      if (memory::IsTargetGone(next.status())) return next.status();
      break;
    }
    interp = *next;
  }
  return interpreters;
}

absl::StatusOr<GilState> ThreadList::ReadGil(uint64_t interp) {
  const PyOffsets& o = runtime_.offsets;
  GilState gil;
  if (o.gil_location == PYHANG_GIL_IN_RUNTIME) {
    gil.address = runtime_.runtime_address + o.runtime_gil;
  } else {
    ASSIGN_OR_RETURN(gil.address, ReadPointer(objects_.reader(), interp + o.interp_gil));
  }
  if (gil.address == 0) return gil;
  ASSIGN_OR_RETURN(std::string bytes, memory::ReadBytes(objects_.reader(), gil.address,
                                                        o.gil_switch_number + 8));
  // locked: 1 held, 0 free, -1 not created. last_holder is stale when free.
  gil.locked = LoadAt<int32_t>(bytes, o.gil_locked) == 1;
  gil.holder = gil.locked ? LoadAt<uint64_t>(bytes, o.gil_last_holder) : 0;
  gil.switch_number = LoadAt<uint64_t>(bytes, o.gil_switch_number);
  return gil;
}

size_t ThreadList::TstateReadSize() const {
  const PyOffsets& o = runtime_.offsets;
  int32_t end = std::max({o.tstate_next, o.tstate_interp, o.tstate_frame, o.tstate_thread_id,
                          o.tstate_native_thread_id, o.tstate_status, o.tstate_state,
                          o.tstate_holds_gil});
  return static_cast<size_t>(end) + 8;
}

bool ThreadList::HoldsGil(absl::string_view bytes, uint64_t tstate, const GilState& gil) const {
  const PyOffsets& o = runtime_.offsets;
  if (Has(o.tstate_holds_gil)) return LoadAt<int32_t>(bytes, o.tstate_holds_gil) != 0;
  if (o.holds_gil_bit != PYHANG_NO_OWNER && Has(o.tstate_status)) {
    return (LoadAt<uint32_t>(bytes, o.tstate_status) >> o.holds_gil_bit) & 1;
  }
  return gil.locked && gil.holder == tstate;
}

absl::Status ThreadList::AppendThreads(uint64_t interp, std::vector<ThreadStateRecord>* out, bool* cut) {
  const PyOffsets& o = runtime_.offsets;
  memory::MemoryReader& reader = objects_.reader();
  int64_t interpreter_id = ReadValue<int64_t>(reader, interp + o.interp_id).value_or(-1);
  absl::StatusOr<GilState> gil = ReadGil(interp);
  if (!gil.ok() && memory::IsTargetGone(gil.status())) return gil.status();
  ASSIGN_OR_RETURN(uint64_t tstate, ReadPointer(reader, interp + o.interp_threads_head));
  absl::flat_hash_set<uint64_t> seen;
  const size_t read_size = TstateReadSize();
  while (tstate != 0 && out->size() < kMaxThreads && seen.insert(tstate).second) {
    absl::StatusOr<std::string> bytes = memory::ReadBytes(reader, tstate, read_size);
    if (!bytes.ok()) {
      if (memory::IsTargetGone(bytes.status())) return bytes.status();
      LOG_DEBUG("thread list ends at unreadable tstate: ", bytes.status().message());
      break;
    }
    if (LoadAt<uint64_t>(*bytes, o.tstate_interp) != interp) {
      LOG_DEBUG("thread list ends: tstate does not point back to its interpreter");
      break;
    }
    ThreadStateRecord record;
    record.address = tstate;
    record.interp = interp;
    record.interpreter_id = interpreter_id;
    record.thread_id = LoadAt<uint64_t>(*bytes, o.tstate_thread_id);
    if (Has(o.tstate_native_thread_id)) {
      record.native_thread_id = LoadAt<int64_t>(*bytes, o.tstate_native_thread_id);
    }
    record.holds_gil = gil.ok() && HoldsGil(*bytes, tstate, *gil);
    out->push_back(record);
    tstate = LoadAt<uint64_t>(*bytes, o.tstate_next);
  }
  if (tstate != 0 && out->size() >= kMaxThreads) *cut = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ThreadStateRecord>> ThreadList::ListThreadStates(bool* cut) {
  ASSIGN_OR_RETURN(std::vector<uint64_t> interpreters, ListInterpreters());
  std::vector<ThreadStateRecord> threads;
  bool was_cut = false;
  for (uint64_t interp : interpreters) RETURN_IF_ERROR(AppendThreads(interp, &threads, &was_cut));
  if (cut != nullptr) *cut = was_cut;
  return threads;
}

absl::StatusOr<absl::flat_hash_map<uint64_t, std::string>> ThreadList::ThreadNames(
    uint64_t interp) {
  absl::flat_hash_map<uint64_t, std::string> names;
  ASSIGN_OR_RETURN(uint64_t modules,
                   ReadPointer(objects_.reader(), interp + runtime_.offsets.interp_modules));
  if (modules == 0) return names;
  ASSIGN_OR_RETURN(uint64_t threading, objects_.DictGetString(modules, "threading"));
  if (threading == 0) return names;  // never imported: no named threads
  ASSIGN_OR_RETURN(uint64_t globals, ReadPointer(objects_.reader(),
                                                 threading + runtime_.offsets.module_dict));
  if (globals == 0) return names;
  ASSIGN_OR_RETURN(uint64_t active, objects_.DictGetString(globals, "_active"));
  if (active == 0) return names;
  RETURN_IF_ERROR(objects_.ForEachDictEntry(
      active, kMaxThreads, [&](uint64_t key, uint64_t thread) {
        absl::StatusOr<std::optional<int64_t>> ident = objects_.ReadSmallInt(key);
        if (!ident.ok() || !ident->has_value()) return true;
        absl::StatusOr<uint64_t> name = objects_.InstanceAttribute(thread, "_name");
        if (!name.ok() || *name == 0) return true;
        absl::StatusOr<std::string> text = objects_.ReadString(*name, 256);
        if (text.ok()) names[static_cast<uint64_t>(**ident)] = *text;
        return true;
      }));
  return names;
}

}  // namespace pyhang::python
