// A strict little XML reader for tests: enough of XML 1.0 to parse our SVGs
// (elements, attributes, text, CDATA, comments, the XML declaration, the five
// predefined entities and character references) and to reject what a browser's
// XML parser would reject, so a test can check the document as it is parsed.
#ifndef PYHANG_TESTS_OUTPUT_MINI_XML_H_
#define PYHANG_TESTS_OUTPUT_MINI_XML_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pyhang::testing {

struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;  // decoded values
  std::vector<std::unique_ptr<XmlElement>> children;
  std::string text;  // direct text and CDATA, decoded, in document order

  const std::string* Attribute(absl::string_view key) const;
  // Text of this element and all descendants, like DOM textContent.
  std::string TextContent() const;
  // This element and its descendants named `element_name`, in document order.
  std::vector<const XmlElement*> FindAll(absl::string_view element_name) const;
  // Every element in the subtree (including this one).
  std::vector<const XmlElement*> All() const;
};

absl::StatusOr<std::unique_ptr<XmlElement>> ParseXml(absl::string_view document);

}  // namespace pyhang::testing

#endif  // PYHANG_TESTS_OUTPUT_MINI_XML_H_
