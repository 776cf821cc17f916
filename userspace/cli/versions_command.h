// `pyhang versions`: the CPython versions this build reads and where their
// offsets come from, from the one list in userspace/python/versions.h.
// Tests discover interpreters with it and the README table follows it.
#ifndef PYHANG_USERSPACE_CLI_VERSIONS_COMMAND_H_
#define PYHANG_USERSPACE_CLI_VERSIONS_COMMAND_H_

#include "CLI/CLI.hpp"

namespace pyhang::cli {

struct VersionsArgs {
  bool json = false;
};

CLI::App* AddVersionsCommand(CLI::App& app, VersionsArgs& args);
int RunVersions(const VersionsArgs& args);

}  // namespace pyhang::cli

#endif  // PYHANG_USERSPACE_CLI_VERSIONS_COMMAND_H_
