#include "tests/output/mini_xml.h"

#include <cctype>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "userspace/output/text_escape.h"

namespace pyhang::testing {
namespace {

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' || c == '.';
}

class Parser {
 public:
  explicit Parser(absl::string_view doc) : doc_(doc) {}

  absl::StatusOr<std::unique_ptr<XmlElement>> Document();

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("XML error at byte ", pos_, ": ", what));
  }
  bool Consume(absl::string_view s) {
    if (!absl::StartsWith(doc_.substr(pos_), s)) return false;
    pos_ += s.size();
    return true;
  }
  void SkipSpace() {
    while (pos_ < doc_.size() && std::isspace(static_cast<unsigned char>(doc_[pos_]))) ++pos_;
  }
  absl::Status SkipMisc();
  absl::StatusOr<std::string> Name();
  absl::Status Entity(std::string* out);
  absl::StatusOr<std::string> AttributeValue();
  absl::StatusOr<std::unique_ptr<XmlElement>> Element();
  absl::Status Content(XmlElement* element);
  absl::Status Comment();

  absl::string_view doc_;
  size_t pos_ = 0;
};

absl::Status Parser::Comment() {
  const size_t end = doc_.find("-->", pos_);
  if (end == absl::string_view::npos) return Error("unterminated comment");
  if (doc_.substr(pos_, end - pos_).find("--") != absl::string_view::npos) return Error("'--' in comment");
  pos_ = end + 3;
  return absl::OkStatus();
}

absl::Status Parser::SkipMisc() {
  for (;;) {
    SkipSpace();
    if (Consume("<!--")) {
      if (absl::Status s = Comment(); !s.ok()) return s;
    } else if (Consume("<?")) {
      const size_t end = doc_.find("?>", pos_);
      if (end == absl::string_view::npos) return Error("unterminated processing instruction");
      pos_ = end + 2;
    } else {
      return absl::OkStatus();
    }
  }
}

absl::StatusOr<std::string> Parser::Name() {
  const size_t start = pos_;
  while (pos_ < doc_.size() && IsNameChar(doc_[pos_])) ++pos_;
  if (pos_ == start || std::isdigit(static_cast<unsigned char>(doc_[start]))) return Error("bad name");
  return std::string(doc_.substr(start, pos_ - start));
}

absl::Status Parser::Entity(std::string* out) {
  const size_t end = doc_.find(';', pos_);
  if (end == absl::string_view::npos || end - pos_ > 10) return Error("bad entity");
  const std::string name(doc_.substr(pos_, end - pos_));
  pos_ = end + 1;
  if (name == "amp") *out += '&';
  else if (name == "lt") *out += '<';
  else if (name == "gt") *out += '>';
  else if (name == "quot") *out += '"';
  else if (name == "apos") *out += '\'';
  else if (name.size() > 1 && name[0] == '#') {
    const bool hex = name[1] == 'x';
    char* parse_end = nullptr;
    const unsigned long cp = std::strtoul(name.c_str() + (hex ? 2 : 1), &parse_end, hex ? 16 : 10);
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
    if (*parse_end != '\0' || !allowed) return Error(absl::StrCat("bad character reference &", name, ";"));
    AppendCodePoint(static_cast<uint32_t>(cp), out);
  } else {
    return Error(absl::StrCat("unknown entity &", name, ";"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Parser::AttributeValue() {
  if (pos_ >= doc_.size() || (doc_[pos_] != '"' && doc_[pos_] != '\'')) return Error("unquoted attribute");
  const char quote = doc_[pos_++];
  std::string value;
  while (pos_ < doc_.size() && doc_[pos_] != quote) {
    const char c = doc_[pos_++];
    if (c == '<') return Error("'<' in attribute value");
    if (c == '&') {
      if (absl::Status s = Entity(&value); !s.ok()) return s;
    } else {
      value += (c == '\n' || c == '\t' || c == '\r') ? ' ' : c;  // attribute-value normalization
    }
  }
  if (!Consume(absl::string_view(&quote, 1))) return Error("unterminated attribute");
  return value;
}

absl::StatusOr<std::unique_ptr<XmlElement>> Parser::Element() {
  if (!Consume("<")) return Error("expected '<'");
  auto element = std::make_unique<XmlElement>();
  absl::StatusOr<std::string> name = Name();
  if (!name.ok()) return name.status();
  element->name = *name;
  for (;;) {
    SkipSpace();
    if (Consume("/>")) return element;
    if (Consume(">")) break;
    absl::StatusOr<std::string> key = Name();
    if (!key.ok()) return key.status();
    if (element->Attribute(*key) != nullptr) return Error(absl::StrCat("duplicate attribute ", *key));
    SkipSpace();
    if (!Consume("=")) return Error("expected '='");
    SkipSpace();
    absl::StatusOr<std::string> value = AttributeValue();
    if (!value.ok()) return value.status();
    element->attributes.emplace_back(*key, *value);
  }
  if (absl::Status s = Content(element.get()); !s.ok()) return s;
  if (!Consume(absl::StrCat("</", element->name)) ) return Error(absl::StrCat("expected </", element->name));
  SkipSpace();
  if (!Consume(">")) return Error("expected '>'");
  return element;
}

absl::Status Parser::Content(XmlElement* element) {
  while (pos_ < doc_.size()) {
    if (absl::StartsWith(doc_.substr(pos_), "</")) return absl::OkStatus();
    if (Consume("<![CDATA[")) {
      const size_t end = doc_.find("]]>", pos_);
      if (end == absl::string_view::npos) return Error("unterminated CDATA");
      absl::StrAppend(&element->text, doc_.substr(pos_, end - pos_));
      pos_ = end + 3;
    } else if (Consume("<!--")) {
      if (absl::Status s = Comment(); !s.ok()) return s;
    } else if (doc_[pos_] == '<') {
      absl::StatusOr<std::unique_ptr<XmlElement>> child = Element();
      if (!child.ok()) return child.status();
      element->children.push_back(*std::move(child));
    } else if (Consume("]]>")) {
      return Error("']]>' in text");
    } else if (Consume("&")) {
      if (absl::Status s = Entity(&element->text); !s.ok()) return s;
    } else {
      element->text += doc_[pos_++];
    }
  }
  return Error("unterminated element");
}

absl::StatusOr<std::unique_ptr<XmlElement>> Parser::Document() {
  if (output::SanitizeUtf8(doc_) != doc_) return Error("document is not valid UTF-8");
  for (char c : doc_) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
      return Error("control character in document");
    }
  }
  if (absl::Status s = SkipMisc(); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<XmlElement>> root = Element();
  if (!root.ok()) return root.status();
  if (absl::Status s = SkipMisc(); !s.ok()) return s;
  if (pos_ != doc_.size()) return Error("content after the root element");
  return root;
}

}  // namespace

const std::string* XmlElement::Attribute(absl::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string XmlElement::TextContent() const {
  // Text and children interleave in the document; tests only need the
  // concatenation for elements whose text is all direct (title, text).
  std::string out = text;
  for (const auto& child : children) out += child->TextContent();
  return out;
}

std::vector<const XmlElement*> XmlElement::All() const {
  std::vector<const XmlElement*> out;
  std::vector<const XmlElement*> pending = {this};
  while (!pending.empty()) {
    const XmlElement* element = pending.back();
    pending.pop_back();
    out.push_back(element);
    for (auto it = element->children.rbegin(); it != element->children.rend(); ++it) pending.push_back(it->get());
  }
  return out;
}

std::vector<const XmlElement*> XmlElement::FindAll(absl::string_view element_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement* element : All()) {
    if (element->name == element_name) out.push_back(element);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<XmlElement>> ParseXml(absl::string_view document) {
  return Parser(document).Document();
}

}  // namespace pyhang::testing
