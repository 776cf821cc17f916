#include "tests/common/interpreters.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>

namespace pyhang::testing {

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return output;
  }
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  int status = ::pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return output;
}

std::vector<Interpreter> FindInterpreters() {
  namespace fs = std::filesystem;
  std::vector<Interpreter> found;
  std::string root;
  if (const char* env = std::getenv("PYENV_ROOT")) root = env;
  else if (const char* home = std::getenv("HOME")) root = std::string(home) + "/.pyenv";
  const std::regex version_name(R"(3\.(\d+)\.\d+)");
  std::error_code error;
  if (!root.empty() && fs::is_directory(root + "/versions", error)) {
    std::vector<fs::path> versions;
    for (const auto& entry : fs::directory_iterator(root + "/versions", error)) versions.push_back(entry.path());
    std::sort(versions.begin(), versions.end());
    for (const fs::path& version : versions) {
      std::smatch match;
      std::string name = version.filename().string();
      if (!std::regex_match(name, match, version_name)) continue;
      int minor = std::stoi(match[1]);
      fs::path python = version / "bin" / ("python3." + match[1].str());
      if (minor >= 8 && minor <= 13 && fs::exists(python, error)) {
        found.push_back({"pyenv-" + name, python.string(), minor});
      }
    }
  }
  if (fs::exists("/usr/bin/python3", error)) {
    int code = 0;
    std::string minor = RunCommand("/usr/bin/python3 -c 'import sys; print(sys.version_info[1])'", &code);
    if (code == 0 && !minor.empty()) {
      int value = std::stoi(minor);
      if (value >= 8 && value <= 13) found.push_back({"debian-python3", "/usr/bin/python3", value});
    }
  }
  return found;
}

}  // namespace pyhang::testing
