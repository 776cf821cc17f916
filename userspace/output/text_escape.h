// Making untrusted text (function and file names from the target process)
// safe for the formats we write: names are attacker-controlled bytes, so they
// are repaired to valid UTF-8 and escaped for XML and for JSON embedded in
// markup before they reach any output.
#ifndef PYHANG_USERSPACE_OUTPUT_TEXT_ESCAPE_H_
#define PYHANG_USERSPACE_OUTPUT_TEXT_ESCAPE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace pyhang::output {

// `text` with every invalid UTF-8 sequence (including overlong forms and
// surrogates) replaced by U+FFFD, so XML parsers and protobuf readers that
// validate strings accept it.
std::string SanitizeUtf8(absl::string_view text);

// Valid UTF-8 text escaped for XML element content and attribute values
// (either quote). Characters XML 1.0 forbids (most C0 controls, U+FFFE,
// U+FFFF) become U+FFFD rather than making the document unparseable.
std::string XmlEscape(absl::string_view text);

// `text` safe to print on a terminal: invalid UTF-8 repaired (as
// SanitizeUtf8), and C0 controls but tab (newline and ESC included), DEL and
// the C1 controls U+0080-U+009F written as \xNN, as Python's repr() writes them.
// A name from the target can then neither move the cursor, retitle the
// window, nor start a line of its own.
std::string TerminalSafe(absl::string_view text);

// Number of code points in valid UTF-8 `text`.
size_t Utf8Length(absl::string_view text);

// The first `max_chars` code points of valid UTF-8 `text`.
absl::string_view Utf8Prefix(absl::string_view text, size_t max_chars);

// JSON text made safe to place inside <script>, CDATA or an HTML/XML comment:
// '<', '>' and '&' become \u003c, \u003e, \u0026 (so "</script>", "]]>" and
// "<!--" cannot occur), and U+2028/U+2029 are escaped for old JS parsers.
std::string JsonForMarkup(absl::string_view json);

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_TEXT_ESCAPE_H_
