#include "absl/strings/string_view.h"
#include "userspace/python/code_cache.h"

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/common/status_macros.h"

namespace pyhang::python {
namespace {

using memory::LoadAt;

int32_t Int32Field(absl::string_view bytes, int32_t offset) {
  return Has(offset) ? LoadAt<int32_t>(bytes, offset) : 0;
}

uint64_t PointerField(absl::string_view bytes, int32_t offset) {
  return Has(offset) ? LoadAt<uint64_t>(bytes, offset) : 0;
}

// Cheap identity of a code object: fields that differ between almost any
// two code objects, including the addresses of its name and table objects.
uint64_t Fingerprint(absl::string_view bytes, const PyOffsets& o) {
  return absl::HashOf(Int32Field(bytes, o.code_argcount), Int32Field(bytes, o.code_flags),
                      Int32Field(bytes, o.code_kwonlyargcount),
                      Int32Field(bytes, o.code_firstlineno), PointerField(bytes, o.code_name),
                      PointerField(bytes, o.code_filename), PointerField(bytes, o.code_linetable));
}

}  // namespace

bool CodeCache::IsCodeObject(uint64_t address) {
  if (address == 0) return false;
  if (runtime_.types.code == 0) return true;  // cannot tell: trust the walk
  absl::StatusOr<bool> is_code = objects_.IsInstance(address, runtime_.types.code);
  return is_code.ok() && *is_code;
}

absl::StatusOr<const CodeInfo*> CodeCache::Get(uint64_t address) {
  if (auto it = entries_.find(address); it != entries_.end()) {
    CodeInfo* info = it->second.get();
    if (!verify_ || info->verified_epoch == epoch_) return info;
    absl::StatusOr<uint64_t> fingerprint = ReadFingerprint(address);
    // Unreadable (e.g. the process just exited with samples still queued):
    // nothing can have replaced the code object, keep trusting the entry.
    if (!fingerprint.ok() || *fingerprint == info->fingerprint) {
      info->verified_epoch = epoch_;
      return info;
    }
    entries_.erase(it);  // the address now holds something else
  }
  ASSIGN_OR_RETURN(std::unique_ptr<CodeInfo> info, Decode(address));
  info->verified_epoch = epoch_;
  if (entries_.size() >= kMaxEntries) entries_.clear();
  const CodeInfo* result = info.get();
  entries_[address] = std::move(info);
  return result;
}

absl::StatusOr<uint64_t> CodeCache::ReadFingerprint(uint64_t address) {
  const PyOffsets& o = runtime_.offsets;
  ASSIGN_OR_RETURN(std::string bytes, memory::ReadBytes(objects_.reader(), address, o.code_size));
  return Fingerprint(bytes, o);
}

absl::StatusOr<std::unique_ptr<CodeInfo>> CodeCache::Decode(uint64_t address) {
  const PyOffsets& o = runtime_.offsets;
  if (!IsCodeObject(address)) {
    return absl::DataLossError(absl::StrFormat("0x%x is not a code object", address));
  }
  ASSIGN_OR_RETURN(std::string bytes, memory::ReadBytes(objects_.reader(), address, o.code_size));
  auto info = std::make_unique<CodeInfo>();
  info->fingerprint = Fingerprint(bytes, o);
  info->first_line = Int32Field(bytes, o.code_firstlineno);
  info->argcount = Int32Field(bytes, o.code_argcount);
  info->kwonlyargcount = Int32Field(bytes, o.code_kwonlyargcount);
  info->flags = Int32Field(bytes, o.code_flags);
  info->nlocals = Int32Field(bytes, Has(o.code_nlocalsplus) ? o.code_nlocalsplus : o.code_nlocals);
  info->stacksize = Int32Field(bytes, o.code_stacksize);
  if (Has(o.code_firsttraceable)) info->first_traceable = Int32Field(bytes, o.code_firsttraceable);

  ASSIGN_OR_RETURN(info->name, objects_.ReadString(PointerField(bytes, o.code_name), kMaxNameChars));
  ASSIGN_OR_RETURN(info->filename,
                   objects_.ReadString(PointerField(bytes, o.code_filename), kMaxFilenameChars));
  info->qualname = info->name;
  if (Has(o.code_qualname)) {
    absl::StatusOr<std::string> qualname =
        objects_.ReadString(PointerField(bytes, o.code_qualname), kMaxNameChars);
    if (qualname.ok()) info->qualname = *std::move(qualname);
  }
  // A missing line table costs the line number, not the frame.
  absl::StatusOr<std::string> table =
      objects_.ReadBytesObject(PointerField(bytes, o.code_linetable), kMaxLineTableBytes);
  if (table.ok()) info->line_table = *std::move(table);
  return info;
}

absl::StatusOr<const CodeInfo*> CodeCache::GetWithLocalNames(uint64_t address) {
  RETURN_IF_ERROR(Get(address).status());
  CodeInfo* info = entries_[address].get();
  RETURN_IF_ERROR(LoadLocalNames(address, info));
  return info;
}

absl::Status CodeCache::LoadLocalNames(uint64_t address, CodeInfo* info) {
  if (info->names_loaded) return absl::OkStatus();
  const PyOffsets& o = runtime_.offsets;
  ASSIGN_OR_RETURN(std::string bytes, memory::ReadBytes(objects_.reader(), address, o.code_size));
  auto append_names = [&](int32_t offset) -> absl::Status {
    if (!Has(offset)) return absl::OkStatus();
    ASSIGN_OR_RETURN(std::vector<uint64_t> items,
                     objects_.ReadTupleItems(PointerField(bytes, offset), 4096));
    for (uint64_t item : items) {
      info->local_names.push_back(objects_.ReadString(item, kMaxNameChars).value_or("?"));
    }
    return absl::OkStatus();
  };
  // <= 3.10: varnames, then cell slots, then free slots. 3.11+: one tuple.
  RETURN_IF_ERROR(append_names(o.code_varnames));
  if (!Has(o.code_localspluskinds)) {
    info->local_names.resize(std::min<size_t>(info->local_names.size(), info->nlocals));
    RETURN_IF_ERROR(append_names(o.code_cellvars));
    RETURN_IF_ERROR(append_names(o.code_freevars));
  } else {
    ASSIGN_OR_RETURN(info->local_kinds, objects_.ReadBytesObject(
                                            PointerField(bytes, o.code_localspluskinds), 4096));
  }
  info->names_loaded = true;
  return absl::OkStatus();
}

}  // namespace pyhang::python
