// Writes the outputs the JavaScript tests check with real tools (headless
// Chromium, the speedscope schema, pprof-format):
//   write_fixtures DIR
// For each of the profiles "small" and "hostile": NAME.svg, NAME_inverted.svg
// (thread roots on), NAME.collapsed, NAME.threads.collapsed,
// NAME.speedscope.json, NAME.time.speedscope.json and NAME.pb.gz.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "collectors/pprof/pprof_writer.h"
#include "tests/output/test_profiles.h"
#include "userspace/common/status_macros.h"
#include "userspace/output/collapsed.h"
#include "userspace/output/flamegraph.h"
#include "userspace/output/speedscope.h"

namespace pyhang::testing {
namespace {

absl::Status WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status WriteAll(const profile::Profile& profile, const std::string& prefix) {
  output::FlamegraphOptions flamegraph;
  flamegraph.thread_roots = true;
  ASSIGN_OR_RETURN(const std::string svg, output::RenderFlamegraphSvg(profile, flamegraph));
  RETURN_IF_ERROR(WriteFile(prefix + ".svg", svg));
  flamegraph.inverted = true;
  ASSIGN_OR_RETURN(const std::string inverted, output::RenderFlamegraphSvg(profile, flamegraph));
  RETURN_IF_ERROR(WriteFile(prefix + "_inverted.svg", inverted));
  output::CollapsedOptions collapsed_options;
  collapsed_options.thread_roots = true;
  ASSIGN_OR_RETURN(const std::string collapsed, output::RenderCollapsed(profile, collapsed_options));
  RETURN_IF_ERROR(WriteFile(prefix + ".threads.collapsed", collapsed));
  ASSIGN_OR_RETURN(const std::string plain, output::RenderCollapsed(profile, {}));
  RETURN_IF_ERROR(WriteFile(prefix + ".collapsed", plain));
  ASSIGN_OR_RETURN(const std::string speedscope, output::RenderSpeedscope(profile, {}));
  RETURN_IF_ERROR(WriteFile(prefix + ".speedscope.json", speedscope));
  output::SpeedscopeOptions by_time;
  by_time.weight = output::Weight::kTime;
  ASSIGN_OR_RETURN(const std::string speedscope_time, output::RenderSpeedscope(profile, by_time));
  RETURN_IF_ERROR(WriteFile(prefix + ".time.speedscope.json", speedscope_time));
  ASSIGN_OR_RETURN(const std::string pprof, collectors::RenderPprof(profile));
  return WriteFile(prefix + ".pb.gz", pprof);
}

}  // namespace
}  // namespace pyhang::testing

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::fprintf(stderr, "write_fixtures: cannot create %s: %s\n", dir.c_str(), error.message().c_str());
    return 1;
  }
  for (const auto& [name, profile] : {std::make_pair("small", pyhang::testing::SmallProfile()),
                                      std::make_pair("hostile", pyhang::testing::HostileProfile())}) {
    const absl::Status status = pyhang::testing::WriteAll(profile, dir + "/" + name);
    if (!status.ok()) {
      std::fprintf(stderr, "write_fixtures: %s\n", status.ToString().c_str());
      return 1;
    }
  }
  return 0;
}
