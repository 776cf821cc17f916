// Attaching to a live CPython process: find the binary that holds the
// runtime (libpython or the executable), its version, the offsets to use,
// and the addresses of the runtime and the exported types.
#ifndef PYHANG_USERSPACE_PYTHON_PYTHON_PROCESS_H_
#define PYHANG_USERSPACE_PYTHON_PYTHON_PROCESS_H_

#include "absl/strings/string_view.h"
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "userspace/memory/memory_reader.h"
#include "userspace/process/mapped_file.h"
#include "userspace/process/maps.h"
#include "userspace/python/runtime_info.h"
#include "userspace/target/target.h"

namespace pyhang::python {

struct PythonProcess {
  pid_t pid = 0;             // host pid
  pid_t ns_pid = 0;          // pid in the target's own pid namespace
  std::string comm;          // /proc/PID/comm
  std::string command_line;  // /proc/PID/cmdline, arguments joined by spaces
  std::string working_directory;  // as the target sees it; empty if unknown
  std::string executable;    // /proc/PID/exe as the target sees it
  std::vector<process::MemoryMap> maps;
  process::MappedFile binary;  // the file holding _PyRuntime
  RuntimeInfo runtime;
  std::vector<std::string> warnings;  // e.g. debug offsets that disagree with the table
};

// Errors, each with a message meant for the user:
//  kNotFound            no such process
//  kPermissionDenied    no rights to read it
//  kFailedPrecondition  not a Python process
//  kUnimplemented       a Python version pyhang does not support
//  kUnavailable         the process exited while being inspected
// `reader` reads `target`'s memory (usually through a cache).
absl::StatusOr<PythonProcess> AttachToPython(target::Target& target, memory::MemoryReader& reader);

// Finds "3.9.18 (" style version text (Py_GetVersion()'s buffer) in a blob.
std::optional<PythonVersion> FindVersionString(absl::string_view blob);
// Major/minor from a file name: libpython3.9.so.1.0, python3.12, python2.7.
std::optional<PythonVersion> VersionFromFileName(absl::string_view name);

}  // namespace pyhang::python

#endif  // PYHANG_USERSPACE_PYTHON_PYTHON_PROCESS_H_
