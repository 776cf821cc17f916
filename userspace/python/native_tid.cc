#include "userspace/python/native_tid.h"

#include <algorithm>

#include "userspace/common/status_macros.h"

namespace pyhang::python {
namespace {

constexpr size_t kScanBytes = 2048;        // struct pthread is ~0x900 bytes in glibc 2.36
constexpr int32_t kPreferredOffset = 0x2d0;  // glibc 2.36 x86_64, tried first

}  // namespace

absl::StatusOr<std::optional<int32_t>> FindPthreadTidOffset(
    memory::MemoryReader& reader, const std::vector<uint64_t>& pthreads,
    const absl::flat_hash_set<int64_t>& task_tids) {
  if (pthreads.empty()) return std::optional<int32_t>();
  absl::StatusOr<std::string> first = memory::ReadBytes(reader, pthreads[0], kScanBytes);
  if (!first.ok()) {
    if (memory::IsTargetGone(first.status())) return first.status();
    return std::optional<int32_t>();
  }
  std::vector<int32_t> candidates;
  for (int32_t offset = 0; offset + 4 <= static_cast<int32_t>(kScanBytes); offset += 4) {
    if (task_tids.contains(memory::LoadAt<int32_t>(*first, offset))) candidates.push_back(offset);
  }
  // Keep offsets that give a live, distinct tid for every other thread.
  for (size_t i = 1; i < pthreads.size() && !candidates.empty(); ++i) {
    std::vector<int32_t> surviving;
    for (int32_t offset : candidates) {
      absl::StatusOr<int32_t> tid = memory::ReadValue<int32_t>(reader, pthreads[i] + offset);
      if (!tid.ok() && memory::IsTargetGone(tid.status())) return tid.status();
      if (tid.ok() && task_tids.contains(*tid)) surviving.push_back(offset);
    }
    candidates = std::move(surviving);
  }
  if (candidates.empty()) return std::optional<int32_t>();
  if (std::find(candidates.begin(), candidates.end(), kPreferredOffset) != candidates.end()) {
    return std::optional<int32_t>(kPreferredOffset);
  }
  return std::optional<int32_t>(candidates.front());
}

}  // namespace pyhang::python
