// The three line-table decoders against CPython's own answers, for every
// instruction of every code object in a large part of each installed
// interpreter's standard library (tests/tools/linetable_truth.py).
#include <iostream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/common/interpreters.h"
#include "userspace/python/line_table.h"

namespace pyhang::testing {
namespace {

std::string Unhex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

TEST(LineTableTruth, EveryInstructionOfTheStdlibMatchesCPython) {
  std::vector<Interpreter> interpreters = FindInterpreters();
  absl::Status required = CheckRequiredPythons(interpreters, Variants::kPlain);
  ASSERT_TRUE(required.ok()) << required.message();
  if (interpreters.empty()) {
    if (PythonsRequired()) FAIL() << "no interpreter found, but PYHANG_REQUIRE_PYTHONS is set";
    GTEST_SKIP() << "no supported Python interpreter found";
  }
  for (const Interpreter& interpreter : interpreters) {
    SCOPED_TRACE(interpreter.label);
    int code = 0;
    std::string command = interpreter.ShellCommand({PYHANG_SOURCE_DIR "/tests/tools/linetable_truth.py"});
    std::string output = RunCommand(command, &code);
    ASSERT_EQ(code, 0) << command;
    nlohmann::json truth = nlohmann::json::parse(output);
    std::string format = truth["format"];
    pyhang_linetable_format table_format = format == "lnotab" ? PYHANG_LNOTAB
                                           : format == "linetable310" ? PYHANG_LINETABLE_310
                                                                      : PYHANG_LOCATIONS;
    size_t checked = 0;
    size_t mismatches = 0;
    for (const auto& object : truth["codes"]) {
      std::string table = Unhex(object["table"]);
      int first_line = object["first_line"];
      const auto& lines = object["lines"];
      for (size_t i = 0; i < lines.size(); ++i) {
        int64_t offset = table_format == PYHANG_LOCATIONS ? static_cast<int64_t>(i) : static_cast<int64_t>(2 * i);
        std::optional<int> expected;
        if (!lines[i].is_null()) expected = lines[i].get<int>();
        std::optional<int> actual = python::LineForOffset(table_format, table, first_line, offset);
        ++checked;
        if (actual != expected && ++mismatches <= 5) {
          ADD_FAILURE() << object["name"] << " instruction " << i << ": CPython says "
                        << (expected ? std::to_string(*expected) : "None") << ", pyhang "
                        << (actual ? std::to_string(*actual) : "None");
        }
      }
    }
    std::cout << interpreter.label << " (" << format << "): " << checked << " instructions, "
              << mismatches << " mismatches" << std::endl;
    EXPECT_EQ(mismatches, 0u) << "of " << checked << " instructions";
    EXPECT_GT(checked, 100000u) << "too few instructions checked to mean anything";
  }
}

}  // namespace
}  // namespace pyhang::testing
