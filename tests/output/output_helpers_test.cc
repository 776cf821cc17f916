// Escaping, frame classification and short labels shared by the writers.
#include <gtest/gtest.h>

#include "userspace/output/flamegraph_palette.h"
#include "userspace/output/frame_style.h"
#include "userspace/output/text_escape.h"

namespace pyhang::output {
namespace {

using profile::Frame;
using profile::FrameKind;

TEST(TextEscapeTest, SanitizeUtf8ReplacesInvalidSequences) {
  EXPECT_EQ(SanitizeUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");         // truncated
}

TEST(TextEscapeTest, XmlEscapeEscapesMarkupAndForbiddenCharacters) {
  EXPECT_EQ(XmlEscape("<script>a&b</script>"), "&lt;script&gt;a&amp;b&lt;/script&gt;");
  EXPECT_EQ(XmlEscape("\"'"), "&quot;&#39;");
  EXPECT_EQ(XmlEscape("a\x01z"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(XmlEscape("\xEF\xBF\xBF"), "\xEF\xBF\xBD");  // U+FFFF
  EXPECT_EQ(XmlEscape("line\nbreak"), "line&#10;break");
}

TEST(TextEscapeTest, JsonForMarkupHidesTerminators) {
  const std::string json = JsonForMarkup(R"({"a":"</script><!-- ]]> &"})");
  EXPECT_EQ(json, R"({"a":"\u003c/script\u003e\u003c!-- ]]\u003e \u0026"})");
  EXPECT_EQ(JsonForMarkup("\"\xE2\x80\xA8\""), "\"\\u2028\"");
}

TEST(TextEscapeTest, TerminalSafeEscapesEveryControlCharacter) {
  EXPECT_EQ(TerminalSafe("plain ascii: /srv/app.py"), "plain ascii: /srv/app.py");
  EXPECT_EQ(TerminalSafe("na\x1b]0;title\x07me\r\n"), "na\\x1b]0;title\\x07me\\x0d\\x0a");
  EXPECT_EQ(TerminalSafe("ev\x1b[2Jil\x7f"), "ev\\x1b[2Jil\\x7f");
  EXPECT_EQ(TerminalSafe(std::string("nul\0here", 8)), "nul\\x00here");
  EXPECT_EQ(TerminalSafe("tab\there\v"), "tab\there\\x0b");  // a tab is harmless
  // C1 controls (CSI is U+009B) are escapes to many terminals; other
  // non-ASCII text is kept as it is.
  EXPECT_EQ(TerminalSafe("csi\xc2\x9b" "31m caf\xc3\xa9 \xe2\x9c\x93 \xc2\xa0"), "csi\\x9b31m caf\xc3\xa9 \xe2\x9c\x93 \xc2\xa0");
  // Invalid UTF-8 is repaired first (a lone \xc2 cannot swallow the next byte).
  EXPECT_EQ(TerminalSafe("bad\xc2\x1b"), "bad\xef\xbf\xbd\\x1b");
  for (int c = 0; c < 256; ++c) {
    std::string out = TerminalSafe(std::string(1, static_cast<char>(c)));
    for (unsigned char b : out) EXPECT_TRUE((b >= 0x20 && b != 0x7f) || b == '\t') << "byte " << c << " -> " << out;
  }
}

TEST(TextEscapeTest, Utf8PrefixCountsCodePoints) {
  EXPECT_EQ(Utf8Length("h\xC3\xA9llo"), 5u);
  EXPECT_EQ(Utf8Prefix("h\xC3\xA9llo", 2), "h\xC3\xA9");
  EXPECT_EQ(Utf8Prefix("abc", 10), "abc");
}

Frame Py(const std::string& file) { return Frame{FrameKind::kPython, "f", file, 3}; }

TEST(FrameStyleTest, ClassifiesPythonFilesByPath) {
  EXPECT_EQ(Classify(Py("/home/u/app.py")), FrameCategory::kUser);
  EXPECT_EQ(Classify(Py("/usr/lib/python3.11/threading.py")), FrameCategory::kStdlib);
  EXPECT_EQ(Classify(Py("/opt/py/lib64/python3.13t/json/decoder.py")), FrameCategory::kStdlib);
  EXPECT_EQ(Classify(Py("<frozen importlib._bootstrap>")), FrameCategory::kStdlib);
  EXPECT_EQ(Classify(Py("/venv/lib/python3.12/site-packages/numpy/core.py")), FrameCategory::kLibrary);
  EXPECT_EQ(Classify(Py("/usr/lib/python3/dist-packages/requests/api.py")), FrameCategory::kLibrary);
  EXPECT_EQ(Classify(Py("/home/u/lib/pythonista/x.py")), FrameCategory::kUser);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "memcpy", "libc.so.6", 0}), FrameCategory::kNativeSystem);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "ffi_call", "libffi.so.8.1.2", 0}), FrameCategory::kNativeSystem);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "PyObject_Call", "libpython3.11.so.1.0", 0}),
            FrameCategory::kNativeCPython);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "main", "python3.14", 0}), FrameCategory::kNativeCPython);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "spin", "libspin.so", 0}), FrameCategory::kNative);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "x", "pythonista.so", 0}), FrameCategory::kNative);
  EXPECT_EQ(Classify(Frame{FrameKind::kNative, "[native]", "", 0}), FrameCategory::kNative);
  EXPECT_EQ(Classify(Frame{FrameKind::kState, "[lock_wait]", "", 0}), FrameCategory::kState);
  EXPECT_EQ(Classify(Frame{FrameKind::kThread, "thread 1", "", 0}), FrameCategory::kRoot);
}

TEST(FrameStyleTest, ShortFileNamesLikePySpy) {
  EXPECT_EQ(ShortFileName("/venv/lib/python3.12/site-packages/numpy/core/x.py"), "numpy/core/x.py");
  EXPECT_EQ(ShortFileName("/usr/lib/python3.11/json/decoder.py"), "json/decoder.py");
  EXPECT_EQ(ShortFileName("/home/u/project/app/main.py"), "main.py");
  EXPECT_EQ(ShortFileName("<frozen importlib._bootstrap>"), "<frozen importlib._bootstrap>");
  EXPECT_EQ(ShortFileName("main.py"), "main.py");
  EXPECT_EQ(ShortLabel(Frame{FrameKind::kPython, "run", "/usr/lib/python3.11/threading.py", 9}),
            "run (threading.py:9)");
}

TEST(FrameStyleTest, ThreadRootFrameNamesTidAndName) {
  EXPECT_EQ(ThreadRootFrame({12, "MainThread"}).name, "thread 12 \"MainThread\"");
  EXPECT_EQ(ThreadRootFrame({12, ""}).name, "thread 12");
}

TEST(PaletteTest, FormatsNumbers) {
  EXPECT_EQ(WithSeparators(0), "0");
  EXPECT_EQ(WithSeparators(999), "999");
  EXPECT_EQ(WithSeparators(1234567), "1,234,567");
  EXPECT_EQ(FormatDuration(1'500'000), "1.50 ms");
  EXPECT_EQ(FormatDuration(12), "12 ns");
}

TEST(PaletteTest, CategoriesGetDistinctHues) {
  EXPECT_NE(FrameFill(FrameCategory::kUser, "f"), FrameFill(FrameCategory::kStdlib, "f"));
  EXPECT_EQ(FrameFill(FrameCategory::kUser, "f"), FrameFill(FrameCategory::kUser, "f"));
}

}  // namespace
}  // namespace pyhang::output
