// Core files without gdb or a crash: cores built byte by byte the way the
// kernel lays them out (ELF header, program headers, one PT_NOTE, PT_LOADs),
// then parsed, read, cut short and broken. Real cores (gcore's, the
// kernel's) are what tests/integration/test_dump_scenarios.py and
// test_core_crash.py use.
#include <elf.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstring>
#include <fstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "userspace/memory/image_reader.h"
#include "userspace/core/binary_locator.h"
#include "userspace/core/core_file.h"
#include "userspace/core/core_input.h"
#include "userspace/native/merge.h"
#include "userspace/process/build_id.h"
#include "userspace/target/core_target.h"

namespace pyhang {
namespace {

using core::CoreFile;

void Put(std::string& out, const void* data, size_t size) { out.append(static_cast<const char*>(data), size); }
template <typename T>
void PutValue(std::string& out, const T& value) { Put(out, &value, sizeof(T)); }
void Pad4(std::string& out) { out.resize((out.size() + 3) & ~size_t{3}, '\0'); }

void Note(std::string& notes, const char* name, uint32_t type, const std::string& desc) {
  uint32_t namesz = static_cast<uint32_t>(strlen(name) + 1), descsz = static_cast<uint32_t>(desc.size());
  PutValue(notes, namesz);
  PutValue(notes, descsz);
  PutValue(notes, type);
  Put(notes, name, namesz);
  Pad4(notes);
  notes += desc;
  Pad4(notes);
}

struct FakeThread {
  int32_t tid;
  int16_t signal;
  process::Registers registers;
};

struct FakeSegment {
  uint64_t vaddr;
  std::string bytes;
  uint64_t memory_size;  // >= bytes.size()
  uint32_t flags = PF_R | PF_W;
};

struct FakeCore {
  std::vector<FakeThread> threads;
  std::vector<FakeSegment> segments;
  std::vector<core::FileMapping> files;
  int32_t pid = 4242;
  std::string comm = "python3";
  std::string psargs = "python3 app.py --serve";
  std::optional<std::pair<int, uint64_t>> siginfo;  // signo, address
  std::vector<std::pair<uint64_t, uint64_t>> auxv;
  std::string extra_notes;  // raw, after the others

  std::string Notes() const {
    std::string notes;
    std::string prpsinfo(136, '\0');
    prpsinfo[1] = 'S';
    memcpy(&prpsinfo[24], &pid, 4);
    memcpy(&prpsinfo[40], comm.data(), std::min<size_t>(comm.size(), 16));
    memcpy(&prpsinfo[56], psargs.data(), std::min<size_t>(psargs.size(), 80));
    Note(notes, "CORE", NT_PRPSINFO, prpsinfo);
    for (const FakeThread& thread : threads) {
      std::string prstatus(336, '\0');
      memcpy(&prstatus[12], &thread.signal, 2);
      memcpy(&prstatus[32], &thread.tid, 4);
      memcpy(&prstatus[112], &thread.registers, sizeof(process::Registers));
      Note(notes, "CORE", NT_PRSTATUS, prstatus);
    }
    if (siginfo) {
      std::string info(128, '\0');
      memcpy(&info[0], &siginfo->first, 4);
      int32_t code = 1;  // SEGV_MAPERR: raised by the kernel, so si_addr is the fault
      memcpy(&info[8], &code, 4);
      memcpy(&info[16], &siginfo->second, 8);
      Note(notes, "CORE", NT_SIGINFO, info);
    }
    if (!auxv.empty()) {
      std::string data;
      for (auto [key, value] : auxv) {
        PutValue(data, key);
        PutValue(data, value);
      }
      Note(notes, "CORE", NT_AUXV, data);
    }
    if (!files.empty()) {
      std::string data;
      PutValue(data, uint64_t{files.size()});
      PutValue(data, uint64_t{4096});
      for (const core::FileMapping& file : files) {
        PutValue(data, file.start);
        PutValue(data, file.end);
        PutValue(data, file.file_offset / 4096);
      }
      for (const core::FileMapping& file : files) data += file.path + '\0';
      Note(notes, "CORE", NT_FILE, data);
    }
    return notes + extra_notes;
  }

  std::string Bytes(uint16_t type = ET_CORE) const {
    std::string notes = Notes();
    size_t phnum = 1 + segments.size();
    size_t offset = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
    Elf64_Ehdr ehdr{};
    memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
    ehdr.e_ident[EI_CLASS] = ELFCLASS64;
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_ident[EI_VERSION] = EV_CURRENT;
    ehdr.e_type = type;
    ehdr.e_machine = EM_X86_64;
    ehdr.e_version = EV_CURRENT;
    ehdr.e_phoff = sizeof(Elf64_Ehdr);
    ehdr.e_ehsize = sizeof(Elf64_Ehdr);
    ehdr.e_phentsize = sizeof(Elf64_Phdr);
    ehdr.e_phnum = static_cast<uint16_t>(phnum);
    std::string out;
    PutValue(out, ehdr);
    Elf64_Phdr note{};
    note.p_type = PT_NOTE;
    note.p_offset = offset;
    note.p_filesz = notes.size();
    PutValue(out, note);
    offset += notes.size();
    for (const FakeSegment& segment : segments) {
      Elf64_Phdr load{};
      load.p_type = PT_LOAD;
      load.p_flags = segment.flags;
      load.p_offset = offset;
      load.p_vaddr = segment.vaddr;
      load.p_filesz = segment.bytes.size();
      load.p_memsz = segment.memory_size;
      PutValue(out, load);
      offset += segment.bytes.size();
    }
    out += notes;
    for (const FakeSegment& segment : segments) out += segment.bytes;
    return out;
  }
};

process::Registers RegistersWith(uint64_t rip, uint64_t orig_rax, uint64_t rdi = 0, uint64_t fs_base = 0) {
  process::Registers registers{};
  registers.rip = rip;
  registers.orig_rax = orig_rax;
  registers.rdi = rdi;
  registers.fs_base = fs_base;
  registers.rsp = 0x7ffd0000;
  return registers;
}

FakeCore TwoThreadCore() {
  FakeCore fake;
  fake.threads.push_back({4242, 11, RegistersWith(0x401000, ~uint64_t{0}, 0, 0x7f0000001000)});
  fake.threads.push_back({4243, 11, RegistersWith(0x401100, 202, 0x601000, 0x7f0000002000)});
  fake.segments.push_back({0x600000, std::string(8192, 'a'), 8192});
  fake.segments.push_back({0x602000, std::string(4096, 'b'), 4096});
  fake.segments.push_back({0x700000, "", 4096, PF_R | PF_X});  // not dumped (read-only text)
  fake.siginfo = std::make_pair(11, uint64_t{0});
  return fake;
}

TEST(CoreFile, ParsesThreadsProcessAndSignal) {
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(TwoThreadCore().Bytes(), "fake");
  ASSERT_TRUE(core.ok()) << core.status();
  ASSERT_EQ((*core)->threads().size(), 2u);
  EXPECT_EQ((*core)->threads()[0].tid, 4242);
  EXPECT_EQ((*core)->threads()[0].signal, 11);
  EXPECT_EQ((*core)->threads()[1].registers.orig_rax, 202u);
  EXPECT_EQ((*core)->threads()[1].registers.fs_base, 0x7f0000002000u);
  EXPECT_EQ((*core)->process().pid, 4242);
  EXPECT_EQ((*core)->process().comm, "python3");
  EXPECT_EQ((*core)->process().arguments, "python3 app.py --serve");
  ASSERT_TRUE((*core)->signal().has_value());
  EXPECT_EQ((*core)->signal()->signo, 11);
  EXPECT_EQ((*core)->signal()->fault_address, 0u);
  EXPECT_FALSE((*core)->truncated());
  EXPECT_EQ(core::SignalName(11), "SIGSEGV");
  EXPECT_EQ(core::SignalName(0), "signal 0");
}

TEST(CoreFile, ReadsMemoryAcrossAdjacentSegments) {
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(TwoThreadCore().Bytes(), "fake");
  ASSERT_TRUE(core.ok());
  std::string out(16, '\0');
  ASSERT_TRUE((*core)->ReadMemory(0x602000 - 8, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), out.size())));
  EXPECT_EQ(out, "aaaaaaaabbbbbbbb");
  EXPECT_FALSE((*core)->ReadMemory(0x603000 - 4, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), 8)));
  EXPECT_FALSE((*core)->ReadMemory(0x700000, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), 8)));
  EXPECT_FALSE((*core)->ReadMemory(~uint64_t{0} - 3, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), 8)));
}

TEST(CoreFile, TruncatedCoreKeepsWhatItHas) {
  std::string bytes = TwoThreadCore().Bytes();
  bytes.resize(bytes.size() - 4096 - 100);  // the second segment is gone, the first cut
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(bytes, "fake");
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_TRUE((*core)->truncated());
  std::string out(8, '\0');
  auto span = absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), out.size());
  EXPECT_TRUE((*core)->ReadMemory(0x600000, span));
  EXPECT_FALSE((*core)->ReadMemory(0x602000, span));
  EXPECT_FALSE((*core)->ReadMemory(0x602000 - 64, span));
}

TEST(CoreFile, RefusesWhatIsNotACore) {
  FakeCore fake = TwoThreadCore();
  for (const std::string& bytes : {std::string("not an ELF file at all"), std::string("\x7f" "ELF", 4),
                                   fake.Bytes(ET_EXEC), fake.Bytes().substr(0, 100), std::string()}) {
    absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(bytes, "input");
    EXPECT_FALSE(core.ok());
    EXPECT_EQ(core.status().code(), absl::StatusCode::kInvalidArgument) << core.status();
    EXPECT_TRUE(absl::StartsWith(core.status().message(), "input: ")) << core.status();
  }
  FakeCore no_threads = fake;
  no_threads.threads.clear();
  EXPECT_FALSE(CoreFile::FromBytes(no_threads.Bytes(), "x").ok());
}

TEST(CoreFile, HostileNotesAreBounded) {
  // An NT_FILE claiming 2^60 entries, then a note whose size runs past the
  // end of the notes: both are ignored, the threads before them kept.
  FakeCore fake = TwoThreadCore();
  std::string file_note;
  PutValue(file_note, uint64_t{1} << 60);
  PutValue(file_note, uint64_t{4096});
  Note(fake.extra_notes, "CORE", NT_FILE, file_note);
  uint32_t runaway[3] = {5, 0xfffffff0, NT_PRSTATUS};
  Put(fake.extra_notes, runaway, sizeof(runaway));
  absl::StatusOr<std::unique_ptr<CoreFile>> core = CoreFile::FromBytes(fake.Bytes(), "fake");
  ASSERT_TRUE(core.ok()) << core.status();
  EXPECT_EQ((*core)->threads().size(), 2u);
  EXPECT_TRUE((*core)->files().empty());
}

TEST(CoreTarget, StatesFromRegistersAndPthreadIds) {
  FakeCore fake = TwoThreadCore();
  fake.siginfo.reset();
  fake.threads[0].signal = 19;  // gcore: SIGSTOP is not a crash
  absl::StatusOr<std::unique_ptr<CoreFile>> file = CoreFile::FromBytes(fake.Bytes(), "fake");
  ASSERT_TRUE(file.ok());
  absl::StatusOr<std::unique_ptr<target::CoreTarget>> core = target::CoreTarget::Open(*std::move(file), {});
  ASSERT_TRUE(core.ok());
  EXPECT_EQ((*core)->crashing_tid(), 0);
  EXPECT_EQ((*core)->info().pid, 4242);
  absl::StatusOr<std::vector<target::ThreadIds>> threads = (*core)->Threads();
  ASSERT_TRUE(threads.ok());
  ASSERT_EQ(threads->size(), 2u);
  EXPECT_EQ((*threads)[1].thread_pointer, 0x7f0000002000u);
  absl::StatusOr<threads::KernelThread> waiting = (*core)->KernelThread(4243, {});
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->syscall_status, threads::SyscallStatus::kInSyscall);
  EXPECT_EQ(waiting->syscall, 202);
  EXPECT_EQ(waiting->args[0], 0x601000u);
  EXPECT_EQ(waiting->state, '?');
  absl::StatusOr<threads::KernelThread> running = (*core)->KernelThread(4242, {});
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->syscall_status, threads::SyscallStatus::kUnknown);
  EXPECT_FALSE((*core)->KernelThread(1, {}).ok());
  // Memory: dumped bytes, and an unmapped address is a read error.
  std::string out(4, '\0');
  EXPECT_TRUE((*core)->memory().Read(0x600010, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), 4)).ok());
  EXPECT_EQ((*core)->memory().Read(0x900000, absl::MakeSpan(reinterpret_cast<std::byte*>(out.data()), 4)).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(CoreTarget, CrashingThreadIsTheSignalledFirstOne) {
  absl::StatusOr<std::unique_ptr<CoreFile>> file = CoreFile::FromBytes(TwoThreadCore().Bytes(), "fake");
  ASSERT_TRUE(file.ok());
  absl::StatusOr<std::unique_ptr<target::CoreTarget>> core = target::CoreTarget::Open(*std::move(file), {});
  ASSERT_TRUE(core.ok());
  EXPECT_EQ((*core)->crashing_tid(), 4242);
  absl::StatusOr<threads::KernelThread> crashed = (*core)->KernelThread(4242, {});
  ASSERT_TRUE(crashed.ok());
  EXPECT_EQ(crashed->wchan, "crashed with SIGSEGV");
}

// A minimal ELF image with a GNU build id note, as a mapped file's first page.
std::string ElfWithBuildId(const std::string& id) {
  std::string note;
  Note(note, "GNU", NT_GNU_BUILD_ID, id);
  Elf64_Ehdr ehdr{};
  memcpy(ehdr.e_ident, ELFMAG, SELFMAG);
  ehdr.e_ident[EI_CLASS] = ELFCLASS64;
  ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
  ehdr.e_ident[EI_VERSION] = EV_CURRENT;
  ehdr.e_type = ET_DYN;
  ehdr.e_machine = EM_X86_64;
  ehdr.e_version = EV_CURRENT;
  ehdr.e_phoff = sizeof(Elf64_Ehdr);
  ehdr.e_ehsize = sizeof(Elf64_Ehdr);
  ehdr.e_phentsize = sizeof(Elf64_Phdr);
  ehdr.e_phnum = 2;
  std::string out;
  PutValue(out, ehdr);
  Elf64_Phdr load{};
  load.p_type = PT_LOAD;
  load.p_flags = PF_R;
  load.p_align = 4096;
  load.p_filesz = load.p_memsz = 4096;
  PutValue(out, load);
  Elf64_Phdr phdr{};
  phdr.p_type = PT_NOTE;
  phdr.p_offset = phdr.p_vaddr = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
  phdr.p_filesz = phdr.p_memsz = note.size();
  PutValue(out, phdr);
  out += note;
  out.resize(4096, '\0');
  return out;
}

std::string TempDir() {
  char pattern[] = "/tmp/pyhang-core-test-XXXXXX";
  return mkdtemp(pattern);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(BinaryLocator, BuildIdsDecideWhichFileIsUsed) {
  std::string dir = TempDir();
  std::string right = ElfWithBuildId("\x01\x02\x03\x04\x05"), wrong = ElfWithBuildId("\x09\x09\x09\x09\x09");
  ASSERT_EQ(process::FileBuildId([&] { WriteFile(dir + "/right", right); return dir + "/right"; }()).value_or("?"),
            "0102030405");
  // The recorded path holds another build; the sysroot holds the right one.
  std::string sysroot = dir + "/root";
  ASSERT_EQ(mkdir(sysroot.c_str(), 0755), 0);
  ASSERT_EQ(mkdir((sysroot + dir).c_str(), 0755) == 0 || errno == ENOENT, true);
  WriteFile(dir + "/lib.so", wrong);
  core::BinaryLocator host({});
  const core::LocatedFile& on_host = host.Locate(dir + "/lib.so", "0102030405");
  EXPECT_EQ(on_host.path, "");
  ASSERT_FALSE(host.warnings().empty());
  EXPECT_NE(host.warnings()[0].find("0909090909"), std::string::npos) << host.warnings()[0];
  EXPECT_NE(host.warnings()[0].find("0102030405"), std::string::npos) << host.warnings()[0];
  // Unknown build id in the core: the file at the path is taken, unverified.
  core::BinaryLocator unknown({});
  EXPECT_EQ(unknown.Locate(dir + "/lib.so", "").path, dir + "/lib.so");
  EXPECT_FALSE(unknown.Locate(dir + "/lib.so", "").verified);
  // --exe wins for the executable.
  core::BinaryLocator exe({"", dir + "/right", "/usr/bin/python3.99"});
  const core::LocatedFile& chosen = exe.Locate("/usr/bin/python3.99", "0102030405");
  EXPECT_EQ(chosen.path, dir + "/right");
  EXPECT_TRUE(chosen.verified);
}

TEST(BuildId, FromAnImageInMemory) {
  memory::ImageReader reader;
  reader.AddRegion(0x7f0000000000, ElfWithBuildId("\xab\xcd\xef"));
  EXPECT_EQ(process::MappedBuildId(reader, 0x7f0000000000), "abcdef");
  EXPECT_EQ(process::MappedBuildId(reader, 0x7f0000000010), "");
  EXPECT_EQ(process::BuildIdPath("/usr/lib/debug", "abcdef", ".debug"), "/usr/lib/debug/.build-id/ab/cdef.debug");
}

// --- compressed input -------------------------------------------------------

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

std::string Lz4(const std::string& in) {
  std::string out(LZ4F_compressFrameBound(in.size(), nullptr), '\0');
  out.resize(LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), nullptr));
  return out;
}

std::string Xz(const std::string& in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  size_t position = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(in.data()),
                                    in.size(), reinterpret_cast<uint8_t*>(out.data()), &position, out.size()),
            LZMA_OK);
  out.resize(position);
  return out;
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[65536];
  ssize_t n;
  lseek(fd, 0, SEEK_SET);
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  return out;
}

TEST(CoreInput, DecompressesZstdLz4AndXz) {
  std::string dir = TempDir();
  // Larger than one 1 MiB chunk, so the streaming paths loop.
  std::string core = TwoThreadCore().Bytes();
  while (core.size() < (3u << 20)) core += core;
  for (auto [name, bytes, kind] : {std::make_tuple("zst", Zstd(core), core::Compression::kZstd),
                                   std::make_tuple("lz4", Lz4(core), core::Compression::kLz4),
                                   std::make_tuple("xz", Xz(core), core::Compression::kXz),
                                   std::make_tuple("raw", core, core::Compression::kNone)}) {
    std::string path = dir + "/core." + name;
    WriteFile(path, bytes);
    absl::StatusOr<core::CoreInput> input = core::OpenCoreInput(path);
    ASSERT_TRUE(input.ok()) << name << ": " << input.status();
    EXPECT_EQ(input->compression, kind) << name;
    EXPECT_TRUE(ReadAll(input->fd.get()) == core) << name;
    // Cut short: one clear error, not a smaller core.
    if (kind != core::Compression::kNone) {
      WriteFile(path, bytes.substr(0, bytes.size() / 2));
      absl::StatusOr<core::CoreInput> cut = core::OpenCoreInput(path);
      EXPECT_FALSE(cut.ok()) << name;
      EXPECT_NE(cut.status().message().find(path), std::string::npos) << cut.status();
    }
  }
}

TEST(CoreInput, RefusesDirectoriesEmptyAndMissingFiles) {
  std::string dir = TempDir();
  WriteFile(dir + "/empty", "");
  EXPECT_EQ(core::OpenCoreInput(dir).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core::OpenCoreInput(dir + "/empty").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(core::OpenCoreInput(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  WriteFile(dir + "/garbage.zst", std::string("\x28\xb5\x2f\xfd", 4) + std::string(100, 'x'));
  EXPECT_FALSE(core::OpenCoreInput(dir + "/garbage.zst").ok());
}

// --- merging native and Python frames ---------------------------------------

python::PyFrame Native(const std::string& function) {
  python::PyFrame frame;
  frame.kind = python::FrameKind::kNative;
  frame.function = function;
  return frame;
}

python::PyFrame Python(const std::string& function, bool entry) {
  python::PyFrame frame;
  frame.function = function;
  frame.entry = entry;
  return frame;
}

std::vector<std::string> Names(const std::vector<python::PyFrame>& frames) {
  std::vector<std::string> names;
  for (const python::PyFrame& frame : frames) {
    names.push_back((frame.kind == python::FrameKind::kNative ? "n:" : "p:") + frame.function);
  }
  return names;
}

TEST(MergeStacks, EachEvalLoopRunsItsActivation) {
  std::vector<python::PyFrame> native = {Native("futex_wait"), Native("lock_acquire"),
                                         Native("_PyEval_EvalFrameDefault"), Native("gen_send"),
                                         Native("_PyEval_EvalFrameDefault"), Native("main")};
  std::vector<python::PyFrame> python = {Python("inner", false), Python("outer", true),
                                         Python("generator_user", false), Python("module", true)};
  native::MergedStack merged = native::MergeStacks(native, python);
  EXPECT_TRUE(merged.consistent);
  EXPECT_EQ(Names(merged.frames),
            (std::vector<std::string>{"n:futex_wait", "n:lock_acquire", "p:inner", "p:outer", "n:gen_send",
                                      "p:generator_user", "p:module", "n:main"}));
}

TEST(MergeStacks, UnwindThatEndsEarlyKeepsEveryPythonFrame) {
  std::vector<python::PyFrame> native = {Native("futex_wait"), Native("_PyEval_EvalFrameDefault")};
  std::vector<python::PyFrame> python = {Python("a", true), Python("b", true)};
  native::MergedStack merged = native::MergeStacks(native, python);
  EXPECT_FALSE(merged.consistent);
  EXPECT_EQ(Names(merged.frames), (std::vector<std::string>{"n:futex_wait", "p:a", "p:b"}));
  // More eval loops than Python activations: the extra one stays native.
  merged = native::MergeStacks({Native("_PyEval_EvalFrameDefault"), Native("_PyEval_EvalFrameDefault")},
                               {Python("a", true)});
  EXPECT_FALSE(merged.consistent);
  EXPECT_EQ(Names(merged.frames), (std::vector<std::string>{"p:a", "n:_PyEval_EvalFrameDefault"}));
}

}  // namespace
}  // namespace pyhang
