#include "absl/strings/string_view.h"
#include "userspace/python/python_process.h"

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "userspace/common/file_util.h"
#include "userspace/common/log.h"
#include "userspace/common/status_macros.h"
#include "userspace/python/debug_offsets.h"
#include "userspace/python/versions.h"

namespace pyhang::python {
namespace {

using process::MappedFile;
using process::MemoryMap;

constexpr size_t kMaxVersionScanBytes = 16 << 20;

bool IsLibpython(absl::string_view path) {
  return absl::StartsWith(process::Basename(path), "libpython");
}

// Files worth opening, most likely first: libpython, then the executable,
// then anything else with "python" in its name.
std::vector<const MemoryMap*> CandidateFiles(const std::vector<MemoryMap>& maps,
                                             absl::string_view executable) {
  std::vector<const MemoryMap*> ordered;
  auto add_if = [&](auto predicate) {
    for (const MemoryMap& map : maps) {
      if (!map.IsFile() || !predicate(map)) continue;
      bool known = false;
      for (const MemoryMap* seen : ordered) known |= seen->inode == map.inode && seen->path == map.path;
      if (!known) ordered.push_back(&map);
    }
  };
  add_if([](const MemoryMap& m) { return IsLibpython(m.path); });
  add_if([&](const MemoryMap& m) { return m.path == executable; });
  add_if([](const MemoryMap& m) {
    return absl::StrContains(process::Basename(m.path), "python") &&
           !absl::EndsWith(m.path, ".py") && !absl::StrContains(m.path, "/lib-dynload/");
  });
  return ordered;
}

std::optional<uint64_t> RuntimeAddress(const MappedFile& file) {
  if (auto symbol = file.SymbolAddress("_PyRuntime")) return symbol;
  if (auto section = file.elf->FindSection(".PyRuntime")) return section->address + file.load_bias;
  return std::nullopt;
}

absl::Status NotPython(const PythonProcess& process) {
  return absl::FailedPreconditionError(absl::StrCat(
      "process ", process.pid, " (", process.comm, ") is not a Python process"));
}

absl::Status Unsupported(const PythonProcess& process, const PythonVersion& version) {
  return absl::UnimplementedError(absl::StrCat(
      "process ", process.pid, " runs Python ", version.ToString(),
      ", which pyhang does not support (supported: ", SupportedRangeText(), ")"));
}

// Py_GetVersion() fills a static buffer with "3.9.18 (main, ...) [GCC ...]"
// at startup; find it in the binary's writable data.
std::optional<PythonVersion> ScanDataForVersion(memory::MemoryReader& reader,
                                                const MappedFile& file) {
  for (absl::string_view symbol : {"version", "version.0"}) {
    if (auto address = file.SymbolAddress(symbol)) {
      absl::StatusOr<std::string> text = memory::ReadBytes(reader, *address, 250);
      if (text.ok()) {
        if (auto version = FindVersionString(*text)) return version;
      }
    }
  }
  for (absl::string_view name : {".bss", ".data"}) {
    std::optional<process::ElfSection> section = file.elf->FindSection(name);
    if (!section) continue;
    uint64_t start = section->address + file.load_bias;
    uint64_t size = std::min<uint64_t>(section->size, kMaxVersionScanBytes);
    constexpr uint64_t kChunk = 64 << 10;
    for (uint64_t done = 0; done < size; done += kChunk - 256) {  // overlap: text may straddle
      absl::StatusOr<std::string> blob =
          memory::ReadBytes(reader, start + done, std::min(kChunk, size - done));
      if (!blob.ok()) break;
      if (auto version = FindVersionString(*blob)) return version;
    }
  }
  return std::nullopt;
}

absl::StatusOr<PythonVersion> DetectVersion(memory::MemoryReader& reader, const MappedFile& file,
                                            uint64_t runtime_address) {
  ASSIGN_OR_RETURN(std::optional<DebugOffsetsHeader> header,
                   ReadDebugOffsetsHeader(reader, runtime_address));
  if (header) return PythonVersion::FromHex(header->version_hex);
  if (auto py_version = file.SymbolAddress("Py_Version")) {
    ASSIGN_OR_RETURN(uint32_t hex, memory::ReadValue<uint32_t>(reader, *py_version));
    return PythonVersion::FromHex(hex);
  }
  if (auto version = ScanDataForVersion(reader, file)) return *version;
  if (auto version = VersionFromFileName(process::Basename(file.target_path))) return *version;
  return absl::FailedPreconditionError("cannot tell which Python version this is");
}

KnownTypes FindKnownTypes(const MappedFile& file) {
  auto address = [&](absl::string_view name) { return file.SymbolAddress(name).value_or(0); };
  KnownTypes types;
  types.code = address("PyCode_Type");
  types.unicode = address("PyUnicode_Type");
  types.bytes = address("PyBytes_Type");
  types.long_int = address("PyLong_Type");
  types.boolean = address("PyBool_Type");
  types.floating = address("PyFloat_Type");
  types.tuple = address("PyTuple_Type");
  types.list = address("PyList_Type");
  types.dict = address("PyDict_Type");
  types.set = address("PySet_Type");
  types.frozenset = address("PyFrozenSet_Type");
  types.cell = address("PyCell_Type");
  types.method = address("PyMethod_Type");
  types.cfunction = address("PyCFunction_Type");
  types.bytearray = address("PyByteArray_Type");
  types.complex = address("PyComplex_Type");
  types.range = address("PyRange_Type");
  types.module = address("PyModule_Type");
  types.function = address("PyFunction_Type");
  types.type = address("PyType_Type");
  types.ellipsis_object = address("_Py_EllipsisObject");
  types.none_object = address("_Py_NoneStruct");
  types.true_object = address("_Py_TrueStruct");
  types.false_object = address("_Py_FalseStruct");
  return types;
}

// Explains a process without _PyRuntime: an old Python, or not Python.
absl::Status ExplainNoRuntime(const PythonProcess& process,
                              const std::vector<const MemoryMap*>& candidates) {
  for (const MemoryMap* map : candidates) {
    if (auto version = VersionFromFileName(process::Basename(map->path))) {
      return Unsupported(process, *version);
    }
  }
  return NotPython(process);
}

// Fields every reader needs; a version whose offsets come from the target
// must end up with all of them.
constexpr std::pair<const char*, int32_t PyOffsets::*> kRequiredFields[] = {
    {"runtime_interpreters_head", &PyOffsets::runtime_interpreters_head},
    {"interp_threads_head", &PyOffsets::interp_threads_head},
    {"tstate_next", &PyOffsets::tstate_next},
    {"tstate_frame", &PyOffsets::tstate_frame},
    {"tstate_thread_id", &PyOffsets::tstate_thread_id},
    {"frame_previous", &PyOffsets::frame_previous},
    {"frame_code", &PyOffsets::frame_code},
    {"frame_instr", &PyOffsets::frame_instr},
    {"code_filename", &PyOffsets::code_filename},
    {"code_name", &PyOffsets::code_name},
    {"code_linetable", &PyOffsets::code_linetable},
    {"object_type", &PyOffsets::object_type},
    {"unicode_state", &PyOffsets::unicode_state},
};

absl::Status FreeThreaded(const PythonProcess& process) {
  return absl::UnimplementedError(absl::StrCat(
      "process ", process.pid, " runs a free-threaded Python ", process.runtime.version.ToString(),
      ", which pyhang does not support yet (default builds only)"));
}

// Lays the target's _Py_DebugOffsets over the table: mismatches become
// warnings, a malformed record or a missing required field an error.
absl::Status ApplyTargetOffsets(memory::MemoryReader& reader, PythonProcess* process) {
  RuntimeInfo& runtime = process->runtime;
  absl::StatusOr<std::vector<std::string>> mismatches =
      ApplyDebugOffsets(reader, runtime.runtime_address, runtime.version, &runtime.offsets);
  if (!mismatches.ok()) {
    if (memory::IsTargetGone(mismatches.status())) return mismatches.status();
    return absl::Status(mismatches.status().code(),
                        absl::StrCat("process ", process->pid, " (Python ", runtime.version.ToString(),
                                     "): ", mismatches.status().message()));
  }
  for (std::string& mismatch : *mismatches) {
    process->warnings.push_back(absl::StrCat("_Py_DebugOffsets differs from the table: ", mismatch));
  }
  for (const auto& [name, field] : kRequiredFields) {
    if (!Has(runtime.offsets.*field)) {
      return absl::DataLossError(absl::StrCat("process ", process->pid, " (Python ",
                                              runtime.version.ToString(), "): _Py_DebugOffsets lacks ",
                                              name));
    }
  }
  return absl::OkStatus();
}

absl::Status ChooseOffsets(memory::MemoryReader& reader, PythonProcess* process) {
  RuntimeInfo& runtime = process->runtime;
  const SupportedVersion* supported = FindSupportedVersion(runtime.version);
  std::optional<PyOffsets> table = BuiltinOffsets(runtime.version);
  if (supported == nullptr || !table) return Unsupported(*process, runtime.version);
  runtime.offsets = *table;
  ASSIGN_OR_RETURN(std::optional<DebugOffsetsHeader> header,
                   ReadDebugOffsetsHeader(reader, runtime.runtime_address));
  if (header && header->free_threaded) return FreeThreaded(*process);
  if (supported->offsets == OffsetsSource::kTable) return absl::OkStatus();
  if (!header) {
    if (supported->offsets == OffsetsSource::kTableCheckedByTarget) return absl::OkStatus();
    return absl::FailedPreconditionError(absl::StrCat(
        "process ", process->pid, " runs Python ", runtime.version.ToString(),
        " but its _PyRuntime has no _Py_DebugOffsets (\"xdebugpy\"), which pyhang needs for it"));
  }
  if (supported->offsets == OffsetsSource::kTarget && runtime.version.release_level != 0xF) {
    // The record's own layout changed between pre-releases (3.15.0b4
    // inserted a field); only final releases have the layout we know.
    return absl::UnimplementedError(absl::StrCat(
        "process ", process->pid, " runs Python ", runtime.version.ToString(),
        ", a pre-release; pyhang reads final releases of ", runtime.version.major, ".",
        runtime.version.minor));
  }
  return ApplyTargetOffsets(reader, process);
}

}  // namespace

std::optional<PythonVersion> VersionFromFileName(absl::string_view name) {
  size_t position = name.find("python");
  if (position == absl::string_view::npos) return std::nullopt;
  absl::string_view rest = name.substr(position + 6);
  if (rest.size() < 3 || !std::isdigit(static_cast<unsigned char>(rest[0])) || rest[1] != '.') {
    return std::nullopt;
  }
  size_t end = 2;
  while (end < rest.size() && std::isdigit(static_cast<unsigned char>(rest[end]))) ++end;
  std::optional<PythonVersion> version = PythonVersion::Parse(rest.substr(0, end));
  if (version) version->micro_known = false;
  return version;
}

std::optional<PythonVersion> FindVersionString(absl::string_view blob) {
  for (size_t i = blob.find("3."); i != absl::string_view::npos; i = blob.find("3.", i + 1)) {
    if (i > 0 && (std::isalnum(static_cast<unsigned char>(blob[i - 1])) || blob[i - 1] == '.')) {
      continue;
    }
    size_t end = i;
    while (end < blob.size() && end - i < 16 &&
           (std::isalnum(static_cast<unsigned char>(blob[end])) || blob[end] == '.' ||
            blob[end] == '+')) {
      ++end;
    }
    if (blob.substr(end, 2) != " (") continue;
    std::optional<PythonVersion> version = PythonVersion::Parse(blob.substr(i, end - i));
    if (version && version->micro_known) return version;
  }
  return std::nullopt;
}

absl::StatusOr<PythonProcess> AttachToPython(target::Target& target, memory::MemoryReader& reader) {
  PythonProcess process;
  const target::ProcessInfo& info = target.info();
  process.pid = info.pid;
  process.ns_pid = info.ns_pid;
  process.comm = info.comm;
  process.command_line = info.command_line;
  process.working_directory = info.working_directory;
  process.executable = info.executable;
  ASSIGN_OR_RETURN(process.maps, target.Maps());

  std::vector<const MemoryMap*> candidates = CandidateFiles(process.maps, process.executable);
  std::optional<uint64_t> runtime_address;
  for (const MemoryMap* map : candidates) {
    absl::StatusOr<MappedFile> file = target.OpenMappedFile(process.maps, *map);
    if (!file.ok()) {
      LOG_DEBUG("cannot open ", map->path, ": ", file.status().message());
      continue;
    }
    runtime_address = RuntimeAddress(*file);
    if (runtime_address) {
      process.binary = *std::move(file);
      break;
    }
  }
  if (!runtime_address) return ExplainNoRuntime(process, candidates);
  process.runtime.runtime_address = *runtime_address;
  ASSIGN_OR_RETURN(process.runtime.version,
                   DetectVersion(reader, process.binary, *runtime_address));
  if (!IsSupported(process.runtime.version)) return Unsupported(process, process.runtime.version);
  RETURN_IF_ERROR(ChooseOffsets(reader, &process));
  process.runtime.types = FindKnownTypes(process.binary);
  process.runtime.gilstate_getter =
      process.binary.SymbolAddress("PyGILState_GetThisThreadState").value_or(0);
  if (process.runtime.types.code == 0) {
    process.warnings.push_back("PyCode_Type not found: code objects are not type-checked");
  }
  return process;
}

}  // namespace pyhang::python
