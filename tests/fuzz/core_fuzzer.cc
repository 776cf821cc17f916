// libFuzzer targets over what reads a core file (tools/fuzz.sh runs them).
//
// core_fuzzer: the input is a core. CoreFile::FromBytes parses it; on
// success everything the core offers is exercised: ReadMemory at every
// segment's boundaries, at the addresses the registers and the auxiliary
// vector hold and at pseudo-random ones, FileAt, Auxv, MappedBuildId over
// the core's own bytes, then CoreTarget: Maps(), Threads(), KernelThread()
// of every thread, BuildIdOf() of every mapped file.
//
// core_input_fuzzer (-DPYHANG_FUZZ_CORE_INPUT): the input is a file on
// disk, written to a memfd and opened as /proc/self/fd/N: as an ELF file a
// core names (FileBuildId, ElfFile: symbols, sections, DT_NEEDED), and as
// a core through OpenCoreInput (compression detection, the zstd/lz4/xz
// decoders), then CoreFile::Open (the mmap path) and the same as above.
//
// Hermetic: no file of the host is ever opened. CoreTarget's sysroot is a
// path below /dev/null, and what could make BinaryLocator look at the
// host (memory reads that fall back to mapped files, OpenMappedFile) runs
// only when no recorded path or build id could lead it there: the locator
// also tries the recorded path itself and the host's /usr/lib/debug.
// Invariants the code promises are checked too (FUZZ_CHECK aborts).

#include <elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <sanitizer/asan_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "tests/fuzz/fuzz_util.h"
#include "userspace/core/core_file.h"
#include "userspace/core/core_input.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/process/build_id.h"
#include "userspace/process/elf_file.h"
#include "userspace/target/core_target.h"

namespace {

using pyhang::core::CoreFile;
using pyhang::fuzz::Fnv1a;
using pyhang::fuzz::Random;

// Reads bigger than this are not tried (a fuzzed segment can be 2^63 long).
constexpr size_t kMaxRead = 3 * 4096;
constexpr int kRandomReads = 16;

// CoreTarget's sysroot: nothing can exist below a character device, not
// even "<sysroot>name" for a relative recorded path.
constexpr char kSysroot[] = "/dev/null/sysroot";

// The core's own bytes as a MemoryReader.
class CoreReader : public pyhang::memory::MemoryReader {
 public:
  explicit CoreReader(const CoreFile& core) : core_(core) {}
  absl::Status Read(uint64_t address, absl::Span<std::byte> out) override {
    if (core_.ReadMemory(address, out)) return absl::OkStatus();
    return pyhang::memory::UnreadableError(address, out.size());
  }

 private:
  const CoreFile& core_;
};

// Read buffers, reused (an allocation per read would cost more than the
// reads): what lies past the bytes asked for is poisoned, so ASan still
// catches ReadMemory writing beyond `out`.
std::byte g_whole[kMaxRead], g_left[kMaxRead], g_right[kMaxRead];

absl::Span<std::byte> Buffer(std::byte* buffer, size_t size) {
  ASAN_UNPOISON_MEMORY_REGION(buffer, kMaxRead);
  ASAN_POISON_MEMORY_REGION(buffer + size, kMaxRead - size);
  return absl::MakeSpan(buffer, size);
}

// ReadMemory of [address, address + size); when it succeeds, every piece
// of the range must read the same bytes on its own.
void TryRead(const CoreFile& core, uint64_t address, size_t size, Random& random,
             bool check_pieces) {
  size = std::min(size, kMaxRead);
  absl::Span<std::byte> whole = Buffer(g_whole, size);
  if (!core.ReadMemory(address, whole)) return;
  if (size < 2 || !check_pieces) return;
  size_t split = 1 + random.Next() % (size - 1);
  absl::Span<std::byte> left = Buffer(g_left, split), right = Buffer(g_right, size - split);
  FUZZ_CHECK(core.ReadMemory(address, left));
  FUZZ_CHECK(core.ReadMemory(address + split, right));
  FUZZ_CHECK(std::memcmp(whole.data(), left.data(), split) == 0);
  FUZZ_CHECK(std::memcmp(whole.data() + split, right.data(), size - split) == 0);
}

void TryFileAt(const CoreFile& core, uint64_t address) {
  if (const pyhang::core::FileMapping* file = core.FileAt(address)) {
    FUZZ_CHECK(file->start <= address && address < file->end);
  }
}

void TryBuildId(pyhang::memory::MemoryReader& reader, uint64_t address) {
  std::string id = pyhang::process::MappedBuildId(reader, address);
  FUZZ_CHECK(id.size() % 2 == 0);
  FUZZ_CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
}

// Everything CoreFile offers, core-only (no file of the host involved).
void ExerciseCoreFile(const CoreFile& core, Random& random) {
  const auto& segments = core.segments();
  const auto& files = core.files();
  FUZZ_CHECK(!core.threads().empty());
  FUZZ_CHECK(std::is_sorted(segments.begin(), segments.end(),
                            [](const auto& a, const auto& b) { return a.vaddr < b.vaddr; }));
  FUZZ_CHECK(std::is_sorted(files.begin(), files.end(),
                            [](const auto& a, const auto& b) { return a.start < b.start; }));
  for (const auto& file : files) FUZZ_CHECK(file.end > file.start);
  (void)core.process().comm.size();
  (void)core.truncated();
  if (core.signal()) (void)pyhang::core::SignalName(core.signal()->signo);

  // Addresses worth trying: segment and file boundaries, what registers
  // and the auxiliary vector point at, and pseudo-random ones.
  std::vector<uint64_t> addresses;
  size_t segment_count = 0;
  for (const auto& segment : segments) {
    FUZZ_CHECK(segment.file_size <= segment.memory_size);
    if (++segment_count > 64) break;
    for (uint64_t at : {segment.vaddr, segment.vaddr + segment.file_size,
                        segment.vaddr + segment.memory_size}) {
      addresses.push_back(at - 1);
      addresses.push_back(at);
      addresses.push_back(at - 8);
    }
  }
  size_t file_count = 0;
  for (const auto& file : files) {
    if (++file_count > 64) break;
    addresses.push_back(file.start);
    addresses.push_back(file.end - 1);
    addresses.push_back(file.end);
  }
  size_t thread_count = 0;
  for (const auto& thread : core.threads()) {
    if (++thread_count > 16) break;
    addresses.push_back(thread.registers.rsp);
    addresses.push_back(thread.registers.rip);
    addresses.push_back(thread.registers.fs_base);
  }
  for (uint64_t type : {AT_PHDR, AT_ENTRY, AT_BASE, AT_EXECFN, AT_RANDOM, AT_SYSINFO_EHDR,
                        AT_PLATFORM, AT_NULL}) {
    if (std::optional<uint64_t> value = core.Auxv(type)) addresses.push_back(*value);
  }
  for (int i = 0; i < kRandomReads; ++i) {
    uint64_t value = random.Next();
    if (!segments.empty() && (value & 1)) {  // near a segment more often than not
      const auto& segment = segments[value % segments.size()];
      uint64_t span = segment.memory_size + 16;  // 0 if it wraps: anywhere
      value = segment.vaddr + (span == 0 ? random.Next() : random.Next() % span);
    }
    addresses.push_back(value);
  }
  addresses.push_back(0);
  addresses.push_back(UINT64_MAX);

  std::sort(addresses.begin(), addresses.end());
  addresses.erase(std::unique(addresses.begin(), addresses.end()), addresses.end());
  CoreReader reader(core);
  const bool check_pieces = true;
  for (uint64_t address : addresses) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{8}, size_t{64}, size_t{4097}}) {
      TryRead(core, address, size, random, check_pieces);
    }
    TryRead(core, address, random.Next() % kMaxRead, random, check_pieces);
    TryFileAt(core, address);
  }
  // Build ids: where ELF images are mapped (NT_FILE at offset 0), at every
  // segment (the vDSO has no file) and at some of the addresses above.
  file_count = 0;
  for (const auto& file : files) {
    if (++file_count > 64) break;
    TryBuildId(reader, file.start);
  }
  segment_count = 0;
  for (const auto& segment : segments) {
    if (++segment_count > 64) break;
    TryBuildId(reader, segment.vaddr);
  }
  for (int i = 0; i < 8; ++i) TryBuildId(reader, addresses[random.Next() % addresses.size()]);
  if (std::optional<uint64_t> execfn = core.Auxv(AT_EXECFN)) {
    (void)pyhang::memory::ReadCString(reader, *execfn, 4096);
  }
}

// True if BinaryLocator cannot reach a file of the host from this target:
// every recorded path is relative (the locator skips those unless under the
// sysroot, and "<sysroot>name" cannot exist) and no build id long enough
// for a /usr/lib/debug/.build-id link is known.
bool LocatorIsHermetic(pyhang::target::CoreTarget& target,
                       const std::vector<pyhang::process::MemoryMap>& maps) {
  for (const auto& map : maps) {
    const std::string& path = map.path;
    if (!path.empty() && (path[0] == '/' || path[0] == '.' || path.find("..") != std::string::npos)) {
      return false;
    }
    if (target.BuildIdOf(path).size() >= 3) return false;
  }
  return true;
}

void ExerciseTarget(std::unique_ptr<CoreFile> core, Random& random) {
  pyhang::target::CoreOptions options;
  options.sysroot = kSysroot;  // --exe stays unset
  absl::StatusOr<std::unique_ptr<pyhang::target::CoreTarget>> opened =
      pyhang::target::CoreTarget::Open(std::move(core), options);
  if (!opened.ok()) return;
  pyhang::target::CoreTarget& target = **opened;
  (void)target.info();
  (void)target.crashing_tid();
  (void)target.in_pid_namespace();

  absl::StatusOr<std::vector<pyhang::process::MemoryMap>> maps = target.Maps();
  FUZZ_CHECK(maps.ok());
  FUZZ_CHECK(std::is_sorted(maps->begin(), maps->end(),
                            [](const auto& a, const auto& b) { return a.start < b.start; }));
  size_t map_count = 0;
  for (const auto& map : *maps) {
    if (++map_count > 64) break;
    std::string id = target.BuildIdOf(map.path);
    FUZZ_CHECK(id == target.BuildIdOf(map.path));  // remembered
  }
  (void)target.BuildIdOf("/no/such/file");

  absl::StatusOr<std::vector<pyhang::target::ThreadIds>> threads = target.Threads();
  FUZZ_CHECK(threads.ok() && !threads->empty());
  size_t thread_count = 0;
  for (size_t i = 0; i < threads->size(); ++i) {
    const auto& thread = (*threads)[i];
    if (i > 0) FUZZ_CHECK((*threads)[i - 1].tid < thread.tid);
    if (++thread_count > 64) break;
    FUZZ_CHECK(target.ThreadRegisters(thread.tid) != nullptr);
    pyhang::threads::KernelReadOptions read_options;
    absl::StatusOr<pyhang::threads::KernelThread> kernel = target.KernelThread(thread.tid, read_options);
    FUZZ_CHECK(kernel.ok());
    if (kernel->syscall >= 0) (void)pyhang::threads::SyscallName(kernel->syscall);
  }
  int64_t missing = static_cast<int64_t>(random.Next());
  if (target.ThreadRegisters(missing) == nullptr) {
    FUZZ_CHECK(!target.KernelThread(missing, {}).ok());
  }

  // Reads that may fall back to mapped files, and opening them: only where
  // the locator provably finds nothing of the host's (see above).
  if (!LocatorIsHermetic(target, *maps)) return;
  map_count = 0;
  for (const auto& map : *maps) {
    if (++map_count > 16) break;
    std::vector<std::byte> bytes(std::min<uint64_t>(map.end - map.start, 4096 + 64));
    (void)target.memory().Read(map.start + 4096 - 32, absl::MakeSpan(bytes));
    (void)target.memory().Read(map.start, absl::MakeSpan(bytes));
    absl::StatusOr<pyhang::process::MappedFile> file = target.OpenMappedFile(*maps, map);
    FUZZ_CHECK(!file.ok());  // nothing is found
  }
}

void Exercise(std::unique_ptr<CoreFile> core, absl::string_view data) {
  Random random{Fnv1a(data)};
  ExerciseCoreFile(*core, random);
  ExerciseTarget(std::move(core), random);
}

}  // namespace

#ifdef PYHANG_FUZZ_CORE_INPUT
// The file as an ELF binary or debug file that a core's process mapped.
static void ExerciseElfFile(const std::string& path, absl::string_view data) {
  absl::StatusOr<std::string> id = pyhang::process::FileBuildId(path);
  if (id.ok()) FUZZ_CHECK(id->find_first_not_of("0123456789abcdef") == std::string::npos);
  absl::StatusOr<std::unique_ptr<pyhang::process::ElfFile>> elf = pyhang::process::ElfFile::Open(path);
  if (!elf.ok()) return;
  Random random{Fnv1a(data)};
  for (absl::string_view name : {"_PyRuntime", "Py_Version", "main", ""}) (void)(*elf)->FindSymbol(name);
  for (absl::string_view name : {".text", ".note.gnu.build-id", ".PyRuntime", ""}) {
    (void)(*elf)->FindSection(name);
  }
  for (uint64_t address : {uint64_t{0}, (*elf)->first_load_address(), random.Next(), UINT64_MAX}) {
    if (const pyhang::process::ElfSymbol* symbol = (*elf)->FunctionAt(address)) {
      FUZZ_CHECK(symbol->is_function && symbol->value <= address);
    }
  }
  (void)(*elf)->needed_libraries().size();
}

// A decompression bomb stops at 64 MiB (write() fails with EFBIG) instead
// of filling $TMPDIR: pyhang itself allows 256 GiB, as cores are big.
// libFuzzer installs its own SIGXFSZ handler after LLVMFuzzerInitialize,
// hence here, at the first input.
static void LimitFileSize() {
  static bool done = false;
  if (done) return;
  done = true;
  signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = {64 << 20, 64 << 20};
  setrlimit(RLIMIT_FSIZE, &limit);
}
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  absl::string_view data(reinterpret_cast<const char*>(bytes), size);
#ifndef PYHANG_FUZZ_CORE_INPUT
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(data, "fuzz");
  if (!core.ok()) return 0;
  Exercise(*std::move(core), data);
#else
  LimitFileSize();
  pyhang::core::Compression compression = pyhang::core::DetectCompression(data);
  (void)pyhang::core::CompressionName(compression);
  int memfd = memfd_create("pyhang-fuzz-core", MFD_CLOEXEC);
  FUZZ_CHECK(memfd >= 0);
  pyhang::UniqueFd owner(memfd);
  for (size_t done = 0; done < size;) {
    ssize_t n = write(memfd, bytes + done, size - done);
    FUZZ_CHECK(n > 0);
    done += static_cast<size_t>(n);
  }
  std::string path = absl::StrCat("/proc/self/fd/", memfd);
  ExerciseElfFile(path, data);
  absl::StatusOr<pyhang::core::CoreInput> input = pyhang::core::OpenCoreInput(path);
  if (!input.ok()) return 0;
  FUZZ_CHECK(input->compression == compression);
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::Open(std::move(input->fd), input->name);
  if (!core.ok()) return 0;
  Exercise(*std::move(core), data);
#endif
  return 0;
}
