// gzip compression (pprof files are gzip-compressed profile.proto).
#ifndef PYHANG_COLLECTORS_PPROF_GZIP_H_
#define PYHANG_COLLECTORS_PPROF_GZIP_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pyhang::collectors {

absl::StatusOr<std::string> Gzip(absl::string_view data);

}  // namespace pyhang::collectors

#endif  // PYHANG_COLLECTORS_PPROF_GZIP_H_
