// The per-process record the BPF programs need (struct pyhang_proc_config):
// the decoder's CPython offsets, CPython's TSS key, where glibc keeps
// thread-specific data inside struct pthread, and which span of each frame
// to copy. Computed once per target from a live process (or any memory
// image) through the shared decoder.
#ifndef PYHANG_USERSPACE_SAMPLER_PROC_CONFIG_H_
#define PYHANG_USERSPACE_SAMPLER_PROC_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/python/decoder.h"
#include "userspace/python/runtime_info.h"
#include "userspace/sampler/abi.h"
#include "userspace/target/target.h"

namespace pyhang::sampler {

// Where glibc's pthread_getspecific() looks, relative to struct pthread
// (== pthread_self() == the x86_64 thread pointer).
struct TssLayout {
  int32_t specific_1stblock = 0;  // struct pthread_key_data specific_1stblock[32]
  int32_t specific = 0;           // struct pthread_key_data *specific[32]
  bool operator==(const TssLayout&) const = default;
};
// glibc 2.36 x86_64 (Debian 12); used when the layout cannot be derived.
inline constexpr TssLayout kGlibc236TssLayout{0x310, 0x510};

// A thread whose struct pthread and PyThreadState are both known.
struct KnownThread {
  uint64_t pthread = 0;  // PyThreadState.thread_id
  uint64_t tstate = 0;
};

// CPython's autoTSSkey (pthread_key_t), nullopt if not initialized yet.
absl::StatusOr<std::optional<int32_t>> ReadTssKey(memory::MemoryReader& reader,
                                                  const python::RuntimeInfo& runtime);

// Solves for the layout that makes pthread_getspecific(key) return each
// thread's tstate. Candidates come from the tstate pointer itself (keys
// below 32) and from glibc's invariant specific[0] == &specific_1stblock[0];
// the one that holds for the most threads wins. nullopt if none holds.
absl::StatusOr<std::optional<TssLayout>> FindTssLayout(memory::MemoryReader& reader, int32_t key,
                                                       const std::vector<KnownThread>& threads);

// Chooses frame_read_offset/size: the smallest 8-aligned span covering the
// frame fields BPF copies. An error if it exceeds PYHANG_FRAME_READ_MAX.
absl::Status PlanFrameCopy(pyhang_proc_config* config);

struct ProcessConfig {
  pyhang_proc_config record{};
  bool tss_layout_derived = false;    // false: fell back to kGlibc236TssLayout
  bool tls_derived = false;           // 3.15+: the thread-local tstate was located
  std::vector<std::string> warnings;  // for the user, e.g. the fallbacks taken
};

// The whole record for the process `decoder` reads. Needs an initialized
// runtime (at least one thread state) to derive the TSS layout. On 3.15+
// fails (kFailedPrecondition) if the thread-local tstate cannot be found:
// a BPF sampler that finds no thread state would record nothing.
// `target` says how the process relates to pyhang (its pid namespace);
// pass the one `decoder` reads.
absl::StatusOr<ProcessConfig> ComputeProcessConfig(python::Decoder& decoder,
                                                   const target::Target& target);
// For memory images (tests): a process in pyhang's own pid namespace.
absl::StatusOr<ProcessConfig> ComputeProcessConfig(python::Decoder& decoder);

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_PROC_CONFIG_H_
