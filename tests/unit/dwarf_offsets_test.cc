// Every offset of pyhang's built-in tables (BuiltinOffsets()) against the
// interpreter's own debug info, for each interpreter here that has DWARF:
// pyenv's builds (libpython3.X.so carries it) and the sid root's release
// binaries (their -dbg DWARF under the root's /usr/lib/debug/.build-id).
// gdb evaluates CPython's names (tests/unit/offset_expressions.cc) over the
// DWARF; a table number that differs fails with both values.
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/common/interpreters.h"
#include "tests/unit/offset_expressions.h"
#include "userspace/python/py_offsets.h"
#include "userspace/python/versions.h"

namespace pyhang::testing {
namespace {

std::string ShellQuote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool HasDebugInfo(const std::string& path) {
  if (!IsFile(path)) return false;
  int code = 0;
  RunCommand(absl::StrCat("readelf -S --wide ", ShellQuote(path), " 2>/dev/null | grep -q '\\.debug_info'"), &code);
  return code == 0;
}

// The GNU build id of an ELF file ("cccda113..."), "" if none.
std::string BuildId(const std::string& path) {
  int code = 0;
  std::string notes = RunCommand(absl::StrCat("readelf -n ", ShellQuote(path), " 2>/dev/null"), &code);
  std::smatch match;
  static const std::regex build_id(R"(Build ID: ([0-9a-f]+))");
  return std::regex_search(notes, match, build_id) ? match[1].str() : "";
}

// The file with `interpreter`'s DWARF: pyenv's libpython next to it, else
// the separate debug file its root keeps by build id (Debian's -dbg
// packages), else the executable itself; nullopt if none has any.
std::optional<std::string> DebugFileOf(const Interpreter& interpreter) {
  std::string executable = interpreter.HostPath();
  std::string prefix = executable.substr(0, executable.rfind("/bin/"));
  std::vector<std::string> candidates = {
      absl::StrCat(prefix, "/lib/libpython3.", interpreter.minor, ".so.1.0")};
  if (std::string id = BuildId(executable); id.size() > 2) {
    candidates.push_back(absl::StrCat(interpreter.root, "/usr/lib/debug/.build-id/", id.substr(0, 2),
                                      "/", id.substr(2), ".debug"));
  }
  candidates.push_back(executable);
  for (const std::string& candidate : candidates) {
    if (HasDebugInfo(candidate)) return candidate;
  }
  return std::nullopt;
}

// Runs gdb once over `file` with every command, each one's output (or
// error) keyed by its index: commands run in order, an error in one does
// not stop the next, and an echoed marker separates their outputs.
std::map<size_t, std::string> RunGdb(const std::string& file, const std::vector<std::string>& commands) {
  std::string command = "gdb -batch -nx";
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StrAppend(&command, " -ex ", ShellQuote(absl::StrCat("echo @@", i, "\\n")), " -ex ",
                    ShellQuote(commands[i]));
  }
  absl::StrAppend(&command, " ", ShellQuote(file), " 2>&1 </dev/null");
  int code = 0;
  std::string output = RunCommand(command, &code);
  std::map<size_t, std::string> results;
  std::optional<size_t> current;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    size_t index = 0;
    if (absl::ConsumePrefix(&line, "@@") && absl::SimpleAtoi(line, &index)) {
      current = index;
      results[index];
    } else if (current) {
      absl::StrAppend(&results[*current], line, "\n");
    }
  }
  return results;
}

// The gdb commands for one truth and how to read their output.
class Evaluation {
 public:
  explicit Evaluation(const DwarfExpression& truth) : truth_(truth) {}

  void AddCommands(std::vector<std::string>* commands) {
    first_ = commands->size();
    if (truth_.kind == DwarfExpression::kValue) {
      commands->push_back(absl::StrCat("printf \"%ld\\n\", ", truth_.text));
      return;
    }
    std::vector<std::string> words = absl::StrSplit(truth_.text, ' ');  // TYPE WORD BIT
    commands->push_back(absl::StrCat("printf \"%ld\\n\", (long)&((", words[0], "*)0)->", words[1]));
    commands->push_back(absl::StrCat("ptype/o ", words[0]));
  }

  // The value, or why there is none.
  absl::StatusOr<int64_t> Value(const std::map<size_t, std::string>& results) const {
    std::string first = Output(results, first_);
    int64_t value = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(first), &value)) return absl::NotFoundError(first);
    if (truth_.kind == DwarfExpression::kValue) return value;
    return BitOf(value, Output(results, first_ + 1));
  }

  std::string Describe() const {
    return truth_.kind == DwarfExpression::kValue ? truth_.text : absl::StrCat("bit-field ", truth_.text);
  }

 private:
  static std::string Output(const std::map<size_t, std::string>& results, size_t index) {
    auto it = results.find(index);
    return it == results.end() ? "(gdb printed nothing)" : std::string(absl::StripAsciiWhitespace(it->second));
  }

  // ptype/o prints a bit-field as "/* BYTE: BIT | SIZE */ ... NAME : 1;".
  absl::StatusOr<int64_t> BitOf(int64_t word_offset, const std::string& layout) const {
    std::string bit = truth_.text.substr(truth_.text.rfind(' ') + 1);
    std::regex line(absl::StrCat(R"(/\*\s+(\d+):\s*(\d+)\s+\|[^*]*\*/[^\n]*\b)", bit, R"( : 1;)"));
    std::smatch match;
    if (!std::regex_search(layout, match, line)) {
      return absl::NotFoundError(absl::StrCat("no bit-field ", bit, " in ptype/o"));
    }
    return (std::stoll(match[1]) - word_offset) * 8 + std::stoll(match[2]);
  }

  DwarfExpression truth_;
  size_t first_ = 0;
};

struct Check {
  const FieldTruth* field;
  int64_t table;
  Evaluation evaluation;
};

// One Check per truth of every field the table has for 3.<minor>.
std::vector<Check> ChecksFor(int minor, const python::PyOffsets& offsets) {
  std::vector<Check> checks;
  for (const FieldTruth& field : FieldTruths()) {
    int64_t table = field.table(offsets);
    if (field.IsAbsent(table)) continue;
    const std::vector<DwarfExpression>* truths = field.For(minor);
    if (truths == nullptr) {
      ADD_FAILURE() << "3." << minor << " " << field.field << ": the table has " << table
                    << ", but tests/unit/offset_expressions.cc names no CPython field for it in 3." << minor;
      continue;
    }
    for (const DwarfExpression& truth : *truths) checks.push_back({&field, table, Evaluation(truth)});
  }
  return checks;
}

const std::vector<Interpreter>& Interpreters() {
  static const std::vector<Interpreter>* interpreters = new std::vector<Interpreter>(FindInterpreters());
  return *interpreters;
}

// pyenv's builds and the sid root's interpreters come with DWARF (CI's
// machines have both); a distribution python3 only with its -dbg package.
bool ShouldHaveDwarf(const Interpreter& interpreter) {
  return absl::StartsWith(interpreter.label, "pyenv-") || !interpreter.root.empty();
}

class DwarfOffsetsTest : public ::testing::TestWithParam<Interpreter> {};

TEST_P(DwarfOffsetsTest, TableMatchesDwarf) {
  const Interpreter& interpreter = GetParam();
  std::optional<std::string> file = DebugFileOf(interpreter);
  if (!file) {
    std::string why = absl::StrCat("no DWARF for ", interpreter.label, " (", interpreter.HostPath(), ")");
    if (PythonsRequired() && ShouldHaveDwarf(interpreter)) FAIL() << why << " though PYHANG_REQUIRE_PYTHONS is set";
    GTEST_SKIP() << why;
  }
  std::optional<python::PyOffsets> offsets = python::BuiltinOffsets({3, interpreter.minor, 0});
  ASSERT_TRUE(offsets.has_value()) << "no built-in table for 3." << interpreter.minor;
  std::vector<Check> checks = ChecksFor(interpreter.minor, *offsets);
  std::vector<std::string> commands;
  for (Check& check : checks) check.evaluation.AddCommands(&commands);
  std::map<size_t, std::string> results = RunGdb(*file, commands);
  ASSERT_FALSE(results.empty()) << "gdb printed nothing over " << *file << " (is gdb installed?)";
  size_t matched = 0;
  for (const Check& check : checks) {
    std::string where = absl::StrCat("(", check.evaluation.Describe(), " in ", *file, ")");
    absl::StatusOr<int64_t> dwarf = check.evaluation.Value(results);
    if (!dwarf.ok()) {
      ADD_FAILURE() << "3." << interpreter.minor << " " << check.field->field << ": table " << check.table
                    << ", DWARF has no answer " << where << ": " << dwarf.status().message();
    } else if (*dwarf != check.table) {
      ADD_FAILURE() << "3." << interpreter.minor << " " << check.field->field << ": table " << check.table
                    << ", DWARF " << *dwarf << " " << where;
    } else {
      ++matched;
    }
  }
  std::cout << interpreter.label << ": " << matched << " of " << checks.size()
            << " table offsets match the DWARF of " << *file << std::endl;
  // Against an empty table or map: 3.14+ tables hold only what
  // _Py_DebugOffsets does not publish, 27 fields on 3.15.
  EXPECT_GE(checks.size(), 20u) << "too few fields checked to mean anything";
}

INSTANTIATE_TEST_SUITE_P(Interpreters, DwarfOffsetsTest, ::testing::ValuesIn(Interpreters()),
                         [](const auto& info) { return info.param.TestName(); });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DwarfOffsetsTest);

// The interpreters above cover what CI requires: every required supported
// version has one with DWARF, so the check cannot quietly shrink.
TEST(DwarfOffsetsEnvironmentTest, EveryRequiredVersionHasDwarf) {
  absl::Status required = CheckRequiredPythons(Interpreters(), Variants::kPlain);
  ASSERT_TRUE(required.ok()) << required.message();
  std::set<int> with_dwarf;
  for (const Interpreter& interpreter : Interpreters()) {
    if (DebugFileOf(interpreter)) with_dwarf.insert(interpreter.minor);
  }
  if (!PythonsRequired() && with_dwarf.empty()) GTEST_SKIP() << "no interpreter with DWARF here";
  const char* wanted = std::getenv("PYHANG_REQUIRE_PYTHONS");
  for (absl::string_view word : absl::StrSplit(wanted ? wanted : "", ',')) {
    int minor = 0;
    if (!absl::ConsumePrefix(&word, "3.") || !absl::SimpleAtoi(word, &minor)) continue;
    if (!python::IsSupported({3, minor, 0})) continue;
    EXPECT_TRUE(with_dwarf.contains(minor)) << "PYHANG_REQUIRE_PYTHONS names 3." << minor
                                            << " but no interpreter of it has DWARF";
  }
}

// Every byte of the record is either an offset mapped to CPython's names or
// listed as not an offset: a field added to struct pyhang_py_offsets fails
// here until offset_expressions.cc says where it lives.
TEST(OffsetExpressionsTest, CoverEveryFieldOfTheRecord) {
  size_t bytes = 0;
  std::set<std::string> names;
  for (const FieldTruth& field : FieldTruths()) {
    bytes += field.size;
    EXPECT_TRUE(names.insert(field.field).second) << field.field << " listed twice";
    EXPECT_FALSE(field.ranges.empty()) << field.field;
  }
  for (const UncheckedField& field : UncheckedFields()) {
    bytes += field.size;
    EXPECT_TRUE(names.insert(field.field).second) << field.field << " listed twice";
  }
  EXPECT_EQ(bytes, sizeof(python::PyOffsets));
}

}  // namespace
}  // namespace pyhang::testing
