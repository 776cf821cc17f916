// pyhang: sampling profiler and hang detector for CPython.
#include <csignal>
#include <cstdio>

#include "CLI/CLI.hpp"
#include "userspace/cli/dump_command.h"
#include "userspace/cli/exit_codes.h"
#include "userspace/cli/record_command.h"
#include "userspace/cli/versions_command.h"
#include "userspace/cli/watch_command.h"
#include "userspace/common/log.h"

namespace {

// CLI11 errors as one line, like every other pyhang error.
std::string OneLineFailure(const CLI::App* /*app*/, const CLI::Error& error) {
  return std::string("pyhang: ") + error.what() + " (see --help)\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is a write error, not a crash
  CLI::App app{"pyhang: see what every Python thread is doing, without stopping it"};
  app.require_subcommand(1);
  app.failure_message(OneLineFailure);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Print debug messages");
  app.set_version_flag("--version", std::string("pyhang ") + PYHANG_VERSION);

  pyhang::cli::DumpArgs dump_args;
  CLI::App* dump = pyhang::cli::AddDumpCommand(app, dump_args);
  pyhang::cli::RecordArgs record_args;
  CLI::App* record = pyhang::cli::AddRecordCommand(app, record_args);
  pyhang::cli::WatchArgs watch_args;
  CLI::App* watch = pyhang::cli::AddWatchCommand(app, watch_args);
  pyhang::cli::VersionsArgs versions_args;
  CLI::App* versions = pyhang::cli::AddVersionsCommand(app, versions_args);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? 0 : pyhang::cli::kExitUsage;
  }
  if (verbose) pyhang::log::SetLevel(pyhang::log::Level::kDebug);
  if (dump->parsed()) return pyhang::cli::RunDump(dump_args);
  if (record->parsed()) return pyhang::cli::RunRecord(record_args);
  if (watch->parsed()) return pyhang::cli::RunWatch(watch_args);
  if (versions->parsed()) return pyhang::cli::RunVersions(versions_args);
  return pyhang::cli::kExitUsage;
}
