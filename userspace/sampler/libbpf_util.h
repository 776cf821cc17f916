// Small owners and glue around libbpf: RAII deleters, errno -> Status, and
// routing libbpf's messages into pyhang's logger.
#ifndef PYHANG_USERSPACE_SAMPLER_LIBBPF_UTIL_H_
#define PYHANG_USERSPACE_SAMPLER_LIBBPF_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

struct bpf_link;
struct ring_buffer;

namespace pyhang::sampler {

struct BpfLinkDeleter {
  void operator()(bpf_link* link) const;
};
using UniqueBpfLink = std::unique_ptr<bpf_link, BpfLinkDeleter>;

struct RingBufferDeleter {
  void operator()(ring_buffer* ring) const;
};
using UniqueRingBuffer = std::unique_ptr<ring_buffer, RingBufferDeleter>;

// "<what>: <strerror(error)>" with a status code that fits the errno
// (EPERM/EACCES -> kPermissionDenied, ENOENT -> kNotFound, ...). `error`
// may be given positive or negative.
absl::Status ErrnoStatus(int error, absl::string_view what);

// Sends libbpf's messages to pyhang's logger: warnings as warnings, the
// rest as debug lines. libbpf's "raise RLIMIT_MEMLOCK" hints are demoted to
// debug: BPF memory is charged to the cgroup on the kernels pyhang
// supports, so that hint would only mislead about the real cause.
// Idempotent.
void InstallLibbpfLogger();

// While alive, libbpf's messages are collected here (and logged only at
// debug level), e.g. to keep a verifier log out of the user's way while a
// load is attempted. Not nestable; one at a time.
class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

  std::string text() const;
  // The last line that looks like an explanation (for a one-line error).
  std::string LastError() const;

 private:
  std::string text_;  // guarded by a lock shared with the print callback
};

}  // namespace pyhang::sampler

#endif  // PYHANG_USERSPACE_SAMPLER_LIBBPF_UTIL_H_
