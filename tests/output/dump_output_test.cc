// `pyhang dump` output handed out in pieces (WriteDumpText/WriteDumpJson):
// the pieces make exactly the whole text and JSON, a large dump comes in
// more than one piece, and a sink that refuses stops the dump.
#include "userspace/output/dump_output.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace pyhang::output {
namespace {

// `threads` threads of `frames` frames, each with a few locals (a long repr
// makes the dump big); a control character in a command line for JSON.
snapshot::ProcessSnapshot Snapshot(int threads, int frames) {
  snapshot::ProcessSnapshot snapshot;
  snapshot.pid = 42;
  snapshot.command_line = "python3 app.py \"quoted\" \x01 \"threads\":[]";
  snapshot.python_binary = "/usr/bin/python3.11";
  snapshot.native_only_threads = 2;
  auto value = std::make_shared<python::PyValue>();
  value->type = "str";
  value->repr = "'" + std::string(200, 'x') + "'";
  for (int t = 0; t < threads; ++t) {
    snapshot::ThreadSnapshot entry;
    entry.thread.tid = 1000 + t;
    entry.thread.name = absl::StrCat("worker-", t);
    for (int f = 0; f < frames; ++f) {
      python::PyFrame frame;
      frame.function = frame.qualname = absl::StrCat("handler_", f);
      frame.file = "/srv/app.py";
      frame.line = f + 1;
      frame.locals.push_back(python::LocalVariable{"payload", value, true, 0x1000});
      entry.thread.frames.push_back(frame);
    }
    snapshot.threads.push_back(std::move(entry));
  }
  return snapshot;
}

std::vector<std::string> Pieces(bool json, const snapshot::ProcessSnapshot& snapshot,
                                const DumpFormatOptions& options, bool* complete) {
  std::vector<std::string> pieces;
  auto sink = [&pieces](absl::string_view piece) {
    pieces.emplace_back(piece);
    return true;
  };
  *complete = json ? WriteDumpJson(snapshot, options, sink) : WriteDumpText(snapshot, options, sink);
  return pieces;
}

std::string Joined(const std::vector<std::string>& pieces) {
  std::string whole;
  for (const std::string& piece : pieces) whole += piece;
  return whole;
}

TEST(DumpOutputTest, TextPiecesMakeTheWholeText) {
  DumpFormatOptions options;
  options.locals = true;
  options.source_lines = false;
  for (int threads : {0, 1, 300}) {
    snapshot::ProcessSnapshot snapshot = Snapshot(threads, 20);
    bool complete = false;
    std::vector<std::string> pieces = Pieces(false, snapshot, options, &complete);
    EXPECT_TRUE(complete);
    EXPECT_EQ(Joined(pieces), DumpText(snapshot, options)) << threads;
    if (threads == 300) {
      EXPECT_GT(pieces.size(), 1u) << "a 1 MiB+ dump held whole";
    }
    EXPECT_NE(Joined(pieces).find("(2 more OS threads run no Python code)"), std::string::npos);
  }
}

TEST(DumpOutputTest, JsonPiecesParseToDumpJson) {
  DumpFormatOptions options;
  options.locals = true;
  for (int threads : {0, 1, 300}) {
    snapshot::ProcessSnapshot snapshot = Snapshot(threads, 20);
    bool complete = false;
    std::vector<std::string> pieces = Pieces(true, snapshot, options, &complete);
    EXPECT_TRUE(complete);
    std::string text = Joined(pieces);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(text);
    nlohmann::ordered_json whole = DumpJson(snapshot, options);
    EXPECT_EQ(parsed, whole) << threads;
    EXPECT_EQ(parsed["threads"].size(), static_cast<size_t>(threads));
    // Same keys in the same order as the tree (the contract's order).
    std::vector<std::string> keys, expected;
    for (auto& [key, value] : parsed.items()) keys.push_back(key);
    for (auto& [key, value] : whole.items()) expected.push_back(key);
    EXPECT_EQ(keys, expected);
    if (threads == 300) {
      EXPECT_GT(pieces.size(), 1u);
    }
  }
}

TEST(DumpOutputTest, ASinkThatRefusesStopsTheDump) {
  DumpFormatOptions options;
  options.locals = true;
  snapshot::ProcessSnapshot snapshot = Snapshot(300, 20);
  for (bool json : {false, true}) {
    int calls = 0;
    auto refuse = [&calls](absl::string_view) {
      ++calls;
      return false;
    };
    bool complete = json ? WriteDumpJson(snapshot, options, refuse) : WriteDumpText(snapshot, options, refuse);
    EXPECT_FALSE(complete) << json;
    EXPECT_EQ(calls, 1) << json;
  }
}

}  // namespace
}  // namespace pyhang::output
