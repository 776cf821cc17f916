// Decoded code objects, cached by address. Code objects are immutable for
// their lifetime, but an address can be reused after one is freed: entries
// carry a fingerprint of cheap fields that Lookup() re-checks when asked to.
#ifndef PYHANG_USERSPACE_PYTHON_CODE_CACHE_H_
#define PYHANG_USERSPACE_PYTHON_CODE_CACHE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "userspace/python/objects.h"
#include "userspace/python/runtime_info.h"

namespace pyhang::python {

struct CodeInfo {
  std::string name;
  std::string qualname;
  std::string filename;
  int first_line = 0;
  std::string line_table;
  int64_t first_traceable = 0;  // 3.11+: earlier instructions are the prologue
  uint64_t fingerprint = 0;
  // Lines already computed, by instruction offset: samplers ask for the
  // same few offsets again and again, and a line-table scan is the
  // costliest part of naming a frame. Bounded by kMaxMemoLines.
  static constexpr size_t kMaxMemoLines = 4096;
  mutable absl::flat_hash_map<int64_t, std::optional<int>> line_memo;

  // For locals (read lazily).
  int argcount = 0;
  int kwonlyargcount = 0;
  int flags = 0;
  int nlocals = 0;       // <= 3.10: fast locals; 3.11+: co_nlocalsplus
  int stacksize = 0;     // value stack slots
  bool names_loaded = false;
  uint64_t verified_epoch = 0;
  std::vector<std::string> local_names;  // one per localsplus slot
  std::string local_kinds;               // 3.11+: CO_FAST_* per slot
};

class CodeCache {
 public:
  static constexpr size_t kMaxEntries = 1 << 16;
  static constexpr size_t kMaxNameChars = 1024;
  static constexpr size_t kMaxFilenameChars = 4096;
  static constexpr size_t kMaxLineTableBytes = 1 << 20;

  CodeCache(ObjectReader& objects, const RuntimeInfo& runtime)
      : objects_(objects), runtime_(runtime) {}

  // The decoded code object at `address`; an error if it is not a code
  // object (wrong type, unreadable). With verification on (long-running
  // readers), an entry is re-checked against its fingerprint once per
  // epoch, so a code object freed and replaced at the same address is
  // decoded again.
  absl::StatusOr<const CodeInfo*> Get(uint64_t address);

  // For readers that look at the target again and again (samplers, watch):
  // turns verification on and starts a new epoch; call it after each
  // refresh of the memory snapshot.
  void BeginEpoch() {
    verify_ = true;
    ++epoch_;
  }
  // Like Get(), with local_names / local_kinds loaded.
  absl::StatusOr<const CodeInfo*> GetWithLocalNames(uint64_t address);

  bool IsCodeObject(uint64_t address);
  void Clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

 private:
  absl::StatusOr<std::unique_ptr<CodeInfo>> Decode(uint64_t address);
  absl::StatusOr<uint64_t> ReadFingerprint(uint64_t address);
  absl::Status LoadLocalNames(uint64_t address, CodeInfo* info);

  ObjectReader& objects_;
  const RuntimeInfo& runtime_;
  absl::flat_hash_map<uint64_t, std::unique_ptr<CodeInfo>> entries_;
  bool verify_ = false;
  uint64_t epoch_ = 0;
};

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_CODE_CACHE_H_
