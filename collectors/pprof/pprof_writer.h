// pprof's profile.proto (github.com/google/pprof/proto/profile.proto), the
// format Parca, Pyroscope, Go's pprof tool and Cloud Profiler read.
//
// Each sample has two values, [samples/count, cpu|wall/nanoseconds], its
// locations leaf first, and labels thread_id (number) and thread_name.
// Every profile frame is one location with one line; functions are the
// distinct (name, file) pairs. No mappings: Python frames have no addresses.
#ifndef PYHANG_COLLECTORS_PPROF_PPROF_WRITER_H_
#define PYHANG_COLLECTORS_PPROF_PPROF_WRITER_H_

#include <string>

#include "absl/status/statusor.h"
#include "userspace/profile/profile.h"

namespace pyhang::collectors {

// The serialized Profile message, uncompressed.
absl::StatusOr<std::string> EncodePprof(const profile::Profile& profile);

// A .pb.gz file: EncodePprof() compressed with gzip, as pprof tools expect.
absl::StatusOr<std::string> RenderPprof(const profile::Profile& profile);

}  // namespace pyhang::collectors

#endif  // PYHANG_COLLECTORS_PPROF_PPROF_WRITER_H_
