// A small, independent reader of pprof files for tests: gunzip, then a
// generic protobuf wire-format parser, then the profile.proto fields we use.
// It shares no code with the writer so a mistake is not made twice.
#ifndef PYHANG_TESTS_OUTPUT_PPROF_DECODER_H_
#define PYHANG_TESTS_OUTPUT_PPROF_DECODER_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pyhang::testing {

struct PprofLabel {
  int64_t key = 0, str = 0, num = 0;
};
struct PprofSample {
  std::vector<uint64_t> location_ids;
  std::vector<int64_t> values;
  std::vector<PprofLabel> labels;
};
struct PprofLine {
  uint64_t function_id = 0;
  int64_t line = 0;
};
struct PprofLocation {
  uint64_t id = 0;
  std::vector<PprofLine> lines;
};
struct PprofFunction {
  uint64_t id = 0;
  int64_t name = 0, system_name = 0, filename = 0, start_line = 0;
};
struct PprofValueType {
  int64_t type = 0, unit = 0;
};

struct PprofProfile {
  std::vector<PprofValueType> sample_types;
  std::vector<PprofSample> samples;
  std::vector<PprofLocation> locations;
  std::vector<PprofFunction> functions;
  std::vector<std::string> strings;
  int64_t time_nanos = 0, duration_nanos = 0, period = 0;
  PprofValueType period_type;
  std::vector<int64_t> comments;

  // "root;...;leaf" of each sample (labels "name (file:line)", or just the
  // name when the line is 0) with values[index] summed per distinct stack.
  std::map<std::string, int64_t> FoldedTotals(size_t value_index) const;
};

absl::StatusOr<std::string> Gunzip(absl::string_view compressed);
absl::StatusOr<PprofProfile> DecodePprof(absl::string_view uncompressed);

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_OUTPUT_PPROF_DECODER_H_
