#include "userspace/cli/versions_command.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "userspace/cli/exit_codes.h"
#include "userspace/python/versions.h"

namespace pyhang::cli {

CLI::App* AddVersionsCommand(CLI::App& app, VersionsArgs& args) {
  CLI::App* versions =
      app.add_subcommand("versions", "List the CPython versions pyhang supports");
  versions->add_flag("-j,--json", args.json, "Print JSON");
  return versions;
}

int RunVersions(const VersionsArgs& args) {
  nlohmann::ordered_json supported = nlohmann::ordered_json::array();
  nlohmann::ordered_json details = nlohmann::ordered_json::array();
  std::string text;
  for (const python::SupportedVersion& version : python::kSupportedVersions) {
    std::string name = absl::StrCat(version.major, ".", version.minor);
    const char* source = python::OffsetsSourceName(version.offsets);
    supported.push_back(name);
    details.push_back({{"version", name}, {"offsets", source}});
    absl::StrAppend(&text, name, "\toffsets from ", source, "\n");
  }
  if (!args.json) return WriteStdout(text);
  nlohmann::ordered_json json = {{"supported", supported},
                                 {"versions", details},
                                 {"builds", "default (GIL) builds, x86_64 Linux, glibc"}};
  return WriteStdout(JsonText(json) + "\n");
}

}  // namespace pyhang::cli
