#include "userspace/output/flamegraph_script.h"

namespace pyhang::output {

absl::string_view FlamegraphStyle() {
  return R"css(
text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }
#title { font-size: 17px; }
#subtitle, #details, #matched, .legend { fill: rgb(80,80,80); }
.btn { cursor: pointer; fill: rgb(30,30,160); }
.btn:hover { text-decoration: underline; }
.f { cursor: pointer; }
.f text { pointer-events: none; }
.f:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }
.anc { opacity: 0.5; }
.hid { display: none; }
)css";
}

absl::string_view FlamegraphScript() {
  return R"js(
"use strict";
(function () {
  const cfg = JSON.parse(document.getElementById("fg-config").textContent);
  const byId = (id) => document.getElementById(id);
  const details = byId("details");
  const matched = byId("matched");
  const resetButton = byId("reset");
  const searchButton = byId("search");
  const plotWidth = cfg.width - 2 * cfg.xpad;
  const charWidth = cfg.fontSize * cfg.fontWidth;

  // Per-frame state read once from the DOM.
  const frames = new Map();
  for (const g of document.querySelectorAll("g.f")) {
    const title = g.querySelector("title").textContent;
    const rect = g.querySelector("rect");
    const text = g.querySelector("text");
    frames.set(g, {
      o: Number(g.getAttribute("data-o")),
      w: Number(g.getAttribute("data-w")),
      d: Number(g.getAttribute("data-d")),
      title: title,
      name: title.slice(0, title.lastIndexOf(" (")),
      label: g.getAttribute("data-s") ?? text.textContent,
      rect: rect,
      text: text,
      fill: rect.getAttribute("fill"),
    });
  }

  let zoomed = null;  // the frame zoomed into, or null
  let searchTerm = "";

  // Same rule as the writer: what fits, with ".." when cut, nothing below 3 chars.
  function fitText(f, width) {
    const fits = Math.floor((width - 3) / charWidth);
    const chars = Array.from(f.label);
    if (fits < 3) f.text.textContent = "";
    else if (chars.length <= fits) f.text.textContent = f.label;
    else f.text.textContent = chars.slice(0, fits - 2).join("") + "..";
  }

  function place(f, x, width) {
    f.rect.setAttribute("x", x.toFixed(1));
    f.rect.setAttribute("width", width.toFixed(1));
    f.text.setAttribute("x", (x + 3).toFixed(1));
    fitText(f, width);
  }

  function saveState() {
    try {
      const url = new URL(window.location.href);
      const params = url.searchParams;
      if (zoomed) {
        params.set("x", String(zoomed.o));
        params.set("y", String(zoomed.d));
      } else {
        params.delete("x");
        params.delete("y");
      }
      if (searchTerm) params.set("s", searchTerm);
      else params.delete("s");
      window.history.replaceState(null, "", url.toString());
    } catch (e) {
      // Some embeddings forbid history changes; the view still works.
    }
  }

  function resetZoom() {
    const scale = cfg.total > 0 ? plotWidth / cfg.total : 0;
    for (const [g, f] of frames) {
      g.classList.remove("hid", "anc");
      place(f, cfg.xpad + f.o * scale, f.w * scale);
    }
    zoomed = null;
    resetButton.classList.add("hid");
    saveState();
  }

  function zoom(g) {
    const z = frames.get(g);
    if (z.d === 0 || z.w === 0) return resetZoom();
    const scale = plotWidth / z.w;
    for (const [el, f] of frames) {
      const inside = f.d >= z.d && f.o >= z.o && f.o + f.w <= z.o + z.w;
      const ancestor = f.d < z.d && f.o <= z.o && f.o + f.w >= z.o + z.w;
      el.classList.toggle("hid", !inside && !ancestor);
      el.classList.toggle("anc", ancestor);
      if (inside) place(f, cfg.xpad + (f.o - z.o) * scale, f.w * scale);
      else if (ancestor) place(f, cfg.xpad, plotWidth);
    }
    zoomed = z;
    resetButton.classList.remove("hid");
    saveState();
  }

  // Width covered by matching frames, counting nested matches once.
  function coveredWidth(spans) {
    spans.sort((a, b) => a[0] - b[0]);
    let covered = 0;
    let end = -Infinity;
    for (const [start, stop] of spans) {
      if (start >= end) covered += stop - start;
      else if (stop > end) covered += stop - end;
      end = Math.max(end, stop);
    }
    return covered;
  }

  function resetSearch() {
    for (const f of frames.values()) f.rect.setAttribute("fill", f.fill);
    searchTerm = "";
    matched.textContent = " ";
    searchButton.textContent = "Search";
    saveState();
  }

  function search(term) {
    let re;
    try {
      re = new RegExp(term);
    } catch (e) {
      matched.textContent = "Invalid regular expression";
      return;
    }
    const spans = [];
    for (const f of frames.values()) {
      const hit = f.d > 0 && re.test(f.name);
      f.rect.setAttribute("fill", hit ? cfg.searchColor : f.fill);
      if (hit) spans.push([f.o, f.o + f.w]);
    }
    searchTerm = term;
    const pct = cfg.total > 0 ? (100 * coveredWidth(spans)) / cfg.total : 0;
    matched.textContent = "Matched: " + pct.toFixed(1) + "%";
    searchButton.textContent = "Reset Search";
    saveState();
  }

  function askSearch() {
    if (searchTerm) return resetSearch();
    const term = window.prompt("Search for (regular expression):", "");
    if (term) search(term);
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const g = target.closest("g.f");
    if (g) zoom(g);
    else if (target.closest("#reset")) resetZoom();
    else if (target.closest("#search")) askSearch();
  });
  document.addEventListener("mouseover", (event) => {
    const g = event.target instanceof Element ? event.target.closest("g.f") : null;
    details.textContent = g ? "Function: " + frames.get(g).title : " ";
  });
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "f") {
      event.preventDefault();
      askSearch();
    } else if (event.key === "Escape" && zoomed) {
      resetZoom();
    }
  });

  // Restore a view shared by URL: ?x=<offset>&y=<depth>&s=<regex>.
  const params = new URLSearchParams(window.location.search);
  if (params.has("x") && params.has("y")) {
    for (const [g, f] of frames) {
      if (String(f.o) === params.get("x") && String(f.d) === params.get("y")) {
        zoom(g);
        break;
      }
    }
  }
  if (params.get("s")) search(params.get("s"));
})();
)js";
}

}  // namespace pyhang::output
