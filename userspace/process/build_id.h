// GNU build ids (NT_GNU_BUILD_ID): how a binary on this machine is matched
// with the one a core was written from, and how debug files are found.
#ifndef PYHANG_USERSPACE_PROCESS_BUILD_ID_H_
#define PYHANG_USERSPACE_PROCESS_BUILD_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "userspace/memory/memory_reader.h"

namespace pyhang::process {

// Lower-case hex of the raw id bytes.
std::string BuildIdHex(absl::string_view bytes);

// The build id of an ELF file (its PT_NOTE segments, or SHT_NOTE sections
// for a debug file); "" if it has none. kNotFound / kInvalidArgument if the
// file cannot be opened or is not ELF.
absl::StatusOr<std::string> FileBuildId(const std::string& path);

// The build id of an ELF image mapped at `image_start` in a target (its
// ELF header and notes read through `reader`, e.g. from a core, which
// keeps the first page of every mapped ELF file); "" if it cannot be read.
std::string MappedBuildId(memory::MemoryReader& reader, uint64_t image_start);

// Where a build id's files live under a debug root (".../.build-id/ab/cdef"):
// the binary link and, with `suffix` ".debug", its debug file.
std::string BuildIdPath(absl::string_view root, absl::string_view build_id,
                        absl::string_view suffix);

}  // namespace pyhang::process

#endif  // PYHANG_USERSPACE_PROCESS_BUILD_ID_H_
