#include "userspace/output/text_escape.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pyhang::output {
namespace {

constexpr absl::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if invalid.
size_t ValidSequenceLength(absl::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length;
  uint32_t min_code_point;
  uint32_t code_point;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min_code_point = 0x80, code_point = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min_code_point = 0x800, code_point = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min_code_point = 0x10000, code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i) & 0x3F);
  }
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (code_point < min_code_point || code_point > 0x10FFFF || surrogate) return 0;
  return length;
}

bool XmlForbidden(absl::string_view sequence) {
  const uint8_t c = static_cast<uint8_t>(sequence[0]);
  if (sequence.size() == 1) return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
  return sequence == "\xEF\xBF\xBE" || sequence == "\xEF\xBF\xBF";  // U+FFFE, U+FFFF
}

absl::string_view XmlEntity(char c) {
  switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    case '\n': return "&#10;";  // survives attribute-value normalization
    case '\r': return "&#13;";
    case '\t': return "&#9;";
    default: return {};
  }
}

}  // namespace

std::string TerminalSafe(absl::string_view text) {
  // A tab cannot drive a terminal, and source lines are full of them.
  auto printable_ascii = [](char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; };
  if (std::all_of(text.begin(), text.end(), printable_ascii)) return std::string(text);  // the common case
  std::string valid = SanitizeUtf8(text);
  std::string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(valid[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else if (c == 0xc2 && i + 1 < valid.size() && static_cast<unsigned char>(valid[i + 1]) < 0xa0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(valid[++i]));  // U+0080-U+009F
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string SanitizeUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    size_t length = ValidSequenceLength(text);
    if (length == 0) {
      out.append(kReplacement.data(), kReplacement.size());
      length = 1;
    } else {
      out.append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  return out;
}

std::string XmlEscape(absl::string_view text) {
  const std::string valid = SanitizeUtf8(text);
  absl::string_view rest = valid;
  std::string out;
  out.reserve(valid.size());
  while (!rest.empty()) {
    const size_t length = ValidSequenceLength(rest);
    const absl::string_view sequence = rest.substr(0, length);
    const absl::string_view entity = length == 1 ? XmlEntity(rest[0]) : absl::string_view();
    if (!entity.empty()) {
      out.append(entity.data(), entity.size());
    } else if (XmlForbidden(sequence)) {
      out.append(kReplacement.data(), kReplacement.size());
    } else {
      out.append(sequence.data(), sequence.size());
    }
    rest.remove_prefix(length);
  }
  return out;
}

size_t Utf8Length(absl::string_view text) {
  size_t count = 0;
  for (char c : text) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return count;
}

absl::string_view Utf8Prefix(absl::string_view text, size_t max_chars) {
  size_t seen = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<uint8_t>(text[i]) & 0xC0) == 0x80) continue;
    if (seen++ == max_chars) return text.substr(0, i);
  }
  return text;
}

std::string JsonForMarkup(absl::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (json.substr(i, 3) == "\xE2\x80\xA8" || json.substr(i, 3) == "\xE2\x80\xA9") {
      absl::StrAppend(&out, json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace pyhang::output
