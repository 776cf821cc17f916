// Shared by the output tests: where the fixtures are and how to read the
// collapsed output they are compared with.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const fixtureDir = process.env.PYHANG_OUTPUT_FIXTURES;
if (!fixtureDir) throw new Error("PYHANG_OUTPUT_FIXTURES is not set (run through run_js_test.sh)");

export const fixture = (name) => join(fixtureDir, name);

// Map "root;...;leaf" -> count from a collapsed file.
export function readCollapsed(name) {
  const totals = new Map();
  for (const line of readFileSync(fixture(name), "utf8").split("\n")) {
    if (!line) continue;
    const space = line.lastIndexOf(" ");
    const stack = line.slice(0, space);
    totals.set(stack, (totals.get(stack) ?? 0) + Number(line.slice(space + 1)));
  }
  return totals;
}

export const sum = (values) => [...values].reduce((a, b) => a + b, 0);

// A frame label as the collapsed writer prints it: ';' separates frames and
// a newline ends a line, so names carry ':' and ' ' in their place.
export const foldLabel = (label) => label.replaceAll(";", ":").replace(/[\r\n]/g, " ");
