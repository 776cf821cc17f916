// The stylesheet and script embedded in flamegraph SVGs. They read frame
// data only from the DOM (textContent, data-* attributes) and a JSON config
// block, and write it back only through textContent and setAttribute, so
// names in the profile are never parsed as markup or code.
#ifndef PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_SCRIPT_H_
#define PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_SCRIPT_H_

#include "absl/strings/string_view.h"

namespace pyhang::output {

// CSS for the <style> element (contains no "]]>").
absl::string_view FlamegraphStyle();

// JavaScript for the final <script> element (contains no "]]>"). Expects
// <script type="application/json" id="fg-config"> with
// {total, width, xpad, fontSize, fontWidth, searchColor}, frames as
// <g class="f" data-o data-w data-d [data-s]> holding <title>, <rect>, <text>,
// and the texts #details, #matched, #reset and #search.
absl::string_view FlamegraphScript();

}  // namespace pyhang::output

#endif  // PYHANG_USERSPACE_OUTPUT_FLAMEGRAPH_SCRIPT_H_
