#include "userspace/sampler/proc_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/sampler/tls_tstate.h"

namespace pyhang::sampler {
namespace {

using python::Has;

constexpr size_t kPthreadScanBytes = 4096;  // struct pthread is 0x900 bytes in glibc 2.36
constexpr size_t kScanChunk = 512;
constexpr int32_t kFirstBlockBytes = 16 * PYHANG_TSS_FIRST_BLOCK_KEYS;

// As much of struct pthread as is readable, up to kPthreadScanBytes.
absl::StatusOr<std::string> ReadPthread(memory::MemoryReader& reader, uint64_t pthread) {
  std::string bytes;
  while (bytes.size() < kPthreadScanBytes) {
    absl::StatusOr<std::string> chunk = memory::ReadBytes(reader, pthread + bytes.size(), kScanChunk);
    if (!chunk.ok()) {
      if (memory::IsTargetGone(chunk.status())) return chunk.status();
      break;
    }
    bytes += *chunk;
  }
  return bytes;
}

// What pthread_getspecific(key) returns in the thread at `pthread`.
std::optional<uint64_t> ResolveSlot(memory::MemoryReader& reader, const TssLayout& layout,
                                    uint64_t pthread, int32_t key) {
  uint64_t slot;
  if (key < PYHANG_TSS_FIRST_BLOCK_KEYS) {
    slot = pthread + layout.specific_1stblock + 16 * key + 8;
  } else {
    absl::StatusOr<uint64_t> block = memory::ReadPointer(
        reader, pthread + layout.specific + 8 * (key / PYHANG_TSS_FIRST_BLOCK_KEYS));
    if (!block.ok() || *block == 0) return std::nullopt;
    slot = *block + 16 * (key % PYHANG_TSS_FIRST_BLOCK_KEYS) + 8;
  }
  absl::StatusOr<uint64_t> value = memory::ReadPointer(reader, slot);
  if (!value.ok()) return std::nullopt;
  return *value;
}

bool HoldsFor(memory::MemoryReader& reader, const TssLayout& layout, int32_t key,
              const KnownThread& thread) {
  // glibc: specific[0] always points at specific_1stblock.
  absl::StatusOr<uint64_t> first = memory::ReadPointer(reader, thread.pthread + layout.specific);
  if (!first.ok() || *first != thread.pthread + layout.specific_1stblock) return false;
  return ResolveSlot(reader, layout, thread.pthread, key) == thread.tstate;
}

std::vector<TssLayout> Candidates(absl::string_view pthread_bytes, const KnownThread& thread,
                                  int32_t key) {
  std::vector<TssLayout> candidates;
  auto add = [&](TssLayout layout) {
    if (layout.specific_1stblock < 0) return;
    if (std::find(candidates.begin(), candidates.end(), layout) == candidates.end()) {
      candidates.push_back(layout);
    }
  };
  for (size_t offset = 0; offset + 8 <= pthread_bytes.size(); offset += 8) {
    uint64_t word = memory::LoadAt<uint64_t>(pthread_bytes, offset);
    int32_t position = static_cast<int32_t>(offset);
    if (key < PYHANG_TSS_FIRST_BLOCK_KEYS && word == thread.tstate) {
      int32_t first = position - 8 - 16 * key;
      add(TssLayout{first, first + kFirstBlockBytes});
    }
    if (position >= kFirstBlockBytes && word == thread.pthread + position - kFirstBlockBytes) {
      add(TssLayout{position - kFirstBlockBytes, position});
    }
  }
  return candidates;
}

}  // namespace

absl::StatusOr<std::optional<int32_t>> ReadTssKey(memory::MemoryReader& reader,
                                                  const python::RuntimeInfo& runtime) {
  const python::PyOffsets& o = runtime.offsets;
  if (!Has(o.runtime_tss_key)) return std::optional<int32_t>();
  // Py_tss_t { int _is_initialized; pthread_key_t _key; }
  ASSIGN_OR_RETURN(uint64_t both, memory::ReadValue<uint64_t>(
                                      reader, runtime.runtime_address + o.runtime_tss_key));
  int32_t initialized = static_cast<int32_t>(both & 0xffffffff);
  int32_t key = static_cast<int32_t>(both >> 32);
  if (initialized != 1 || key < 0) return std::optional<int32_t>();
  return std::optional<int32_t>(key);
}

absl::StatusOr<std::optional<TssLayout>> FindTssLayout(memory::MemoryReader& reader, int32_t key,
                                                       const std::vector<KnownThread>& threads) {
  if (key < 0 || key >= PYHANG_TSS_MAX_KEYS) return std::optional<TssLayout>();
  // Candidates from every thread (one may be exiting and unreadable), then
  // the one that holds for the most threads; glibc 2.36's wins ties.
  std::vector<TssLayout> candidates;
  for (const KnownThread& thread : threads) {
    ASSIGN_OR_RETURN(std::string bytes, ReadPthread(reader, thread.pthread));
    for (const TssLayout& layout : Candidates(bytes, thread, key)) {
      if (std::find(candidates.begin(), candidates.end(), layout) == candidates.end()) {
        candidates.push_back(layout);
      }
    }
  }
  std::optional<TssLayout> best;
  size_t best_count = 0;
  for (const TssLayout& layout : candidates) {
    size_t count = std::count_if(threads.begin(), threads.end(), [&](const KnownThread& thread) {
      return HoldsFor(reader, layout, key, thread);
    });
    if (count > best_count || (count == best_count && count > 0 && layout == kGlibc236TssLayout)) {
      best = layout;
      best_count = count;
    }
  }
  if (best && best_count < threads.size()) {
    LOG_DEBUG("TSS layout 0x", absl::Hex(best->specific_1stblock), " holds for ", best_count,
              " of ", threads.size(), " threads");
  }
  return best;
}

absl::Status PlanFrameCopy(pyhang_proc_config* config) {
  const python::PyOffsets& o = config->offsets;
  if (!Has(o.frame_code) || !Has(o.frame_previous)) {
    return absl::InternalError("offsets lack frame_code/frame_previous");
  }
  int32_t start = std::min(o.frame_code, o.frame_previous);
  int32_t end = std::max(o.frame_code, o.frame_previous) + 8;
  if (Has(o.frame_instr)) {
    start = std::min(start, o.frame_instr);
    end = std::max(end, o.frame_instr + 8);
  }
  if (Has(o.frame_owner)) {
    start = std::min(start, o.frame_owner);
    end = std::max(end, o.frame_owner + 1);
  }
  start &= ~7;
  if (end - start > PYHANG_FRAME_READ_MAX) {
    return absl::InternalError(absl::StrFormat(
        "frame fields span %d bytes, more than the %d BPF copies", end - start,
        PYHANG_FRAME_READ_MAX));
  }
  config->frame_read_offset = static_cast<uint16_t>(start);
  config->frame_read_size = static_cast<uint16_t>(end - start);
  return absl::OkStatus();
}

namespace {

std::vector<KnownThread> KnownThreads(python::Decoder& decoder, absl::Status* gone) {
  std::vector<KnownThread> threads;
  absl::StatusOr<std::vector<python::ThreadStateRecord>> records =
      decoder.thread_list().ListThreadStates();
  if (!records.ok()) {
    if (memory::IsTargetGone(records.status())) *gone = records.status();
    LOG_DEBUG("thread states: ", records.status().message());
    return threads;
  }
  for (const python::ThreadStateRecord& thread : *records) {
    if (thread.thread_id != 0) threads.push_back(KnownThread{thread.thread_id, thread.address});
  }
  return threads;
}

// <= 3.14: CPython's autoTSSkey and glibc's pthread_key_data layout.
absl::Status PlanTssLookup(python::Decoder& decoder, const std::vector<KnownThread>& threads,
                           ProcessConfig* config) {
  memory::MemoryReader& reader = decoder.objects().reader();
  pyhang_proc_config& record = config->record;
  ASSIGN_OR_RETURN(std::optional<int32_t> key, ReadTssKey(reader, decoder.runtime()));
  record.tss_key = key.value_or(PYHANG_ABSENT);
  if (!key) {
    config->warnings.push_back(
        "CPython's TSS key is not initialized yet: BPF cannot find thread states");
  }
  std::optional<TssLayout> layout;
  if (key) {
    ASSIGN_OR_RETURN(layout, FindTssLayout(reader, *key, threads));
  }
  config->tss_layout_derived = layout.has_value();
  if (!layout) {
    layout = kGlibc236TssLayout;
    if (key) {
      config->warnings.push_back(absl::StrFormat(
          "could not derive glibc's thread-specific data layout from %d thread(s); "
          "assuming glibc 2.36 (specific_1stblock at 0x%x)",
          threads.size(), kGlibc236TssLayout.specific_1stblock));
    }
  }
  record.tls_specific_1stblock = layout->specific_1stblock;
  record.tls_specific = layout->specific;
  return absl::OkStatus();
}

// 3.15+: the thread-local _Py_tss_gilstate, located from the code of
// PyGILState_GetThisThreadState and checked against every known thread.
absl::Status PlanTlsLookup(python::Decoder& decoder, const std::vector<KnownThread>& threads,
                           ProcessConfig* config) {
  memory::MemoryReader& reader = decoder.objects().reader();
  const uint64_t getter = decoder.runtime().gilstate_getter;
  std::optional<TlsLocation> location;
  if (getter != 0) {
    absl::StatusOr<std::string> code = memory::ReadBytes(reader, getter, 48);
    if (code.ok()) {
      ASSIGN_OR_RETURN(location, DecodeTstateGetter(reader, getter, *code));
    } else if (memory::IsTargetGone(code.status())) {
      return code.status();
    }
  }
  if (!location) {
    return absl::FailedPreconditionError(
        "cannot tell where this Python keeps its thread states (PyGILState_GetThisThreadState "
        "is missing or has an unknown shape): BPF sampling is not possible");
  }
  size_t matching = 0;
  for (const KnownThread& thread : threads) {
    std::optional<uint64_t> slot = TlsSlot(reader, *location, thread.pthread);
    if (slot && memory::ReadPointer(reader, *slot).value_or(0) == thread.tstate) ++matching;
  }
  if (!threads.empty() && matching == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the thread-local tstate found in PyGILState_GetThisThreadState (module %d, offset %d) "
        "holds no thread's state: BPF sampling is not possible",
        location->module, location->offset));
  }
  if (matching < threads.size()) {
    LOG_DEBUG("thread-local tstate holds for ", matching, " of ", threads.size(), " threads");
  }
  config->record.tls_module = location->module;
  config->record.tls_offset = location->offset;
  config->tls_derived = true;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ProcessConfig> ComputeProcessConfig(python::Decoder& decoder) {
  const python::RuntimeInfo& runtime = decoder.runtime();
  ProcessConfig config;
  pyhang_proc_config& record = config.record;
  record.offsets = runtime.offsets;
  record.runtime_address = runtime.runtime_address;
  record.tss_key = PYHANG_ABSENT;
  record.tls_module = PYHANG_ABSENT;
  record.tls_specific_1stblock = kGlibc236TssLayout.specific_1stblock;
  record.tls_specific = kGlibc236TssLayout.specific;
  RETURN_IF_ERROR(PlanFrameCopy(&record));
  absl::Status gone = absl::OkStatus();
  std::vector<KnownThread> threads = KnownThreads(decoder, &gone);
  RETURN_IF_ERROR(gone);
  if (Has(runtime.offsets.runtime_tss_key)) {
    RETURN_IF_ERROR(PlanTssLookup(decoder, threads, &config));
  } else {
    RETURN_IF_ERROR(PlanTlsLookup(decoder, threads, &config));
  }
  return config;
}

absl::StatusOr<ProcessConfig> ComputeProcessConfig(python::Decoder& decoder,
                                                   const target::Target& target) {
  ASSIGN_OR_RETURN(ProcessConfig config, ComputeProcessConfig(decoder));
  // Its tstates record the thread ids of its own pid namespace.
  config.record.in_pid_namespace = target.in_pid_namespace() ? 1 : 0;
  return config;
}

}  // namespace pyhang::sampler
