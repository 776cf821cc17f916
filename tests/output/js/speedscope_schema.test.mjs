// The speedscope output validates against the schema speedscope itself ships
// (npm speedscope, dist/release/file-format-schema.json) and carries the
// same totals as the collapsed output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import { fixture, foldLabel, readCollapsed, sum } from "./fixtures.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const schemaPath = join(here, "..", "node_modules", "speedscope", "dist", "release", "file-format-schema.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const validate = new Ajv({ allErrors: true }).compile(schema);

const files = ["small", "hostile"].flatMap((name) => [`${name}.speedscope.json`, `${name}.time.speedscope.json`]);
for (const file of files) {
  test(`${file} validates against speedscope's schema`, () => {
    const document = JSON.parse(readFileSync(fixture(file), "utf8"));
    const valid = validate(document);
    assert.ok(valid, JSON.stringify(validate.errors, null, 2));
    assert.equal(document.$schema, "https://www.speedscope.app/file-format-schema.json");
  });
}

test("the validator rejects a broken document (it is really checking)", () => {
  const document = JSON.parse(readFileSync(fixture("small.speedscope.json"), "utf8"));
  delete document.profiles[0].unit;
  document.shared.frames[0].line = "ten";
  assert.equal(validate(document), false);
});

for (const name of ["small", "hostile"]) {
  test(`${name}: one sampled profile per thread, stacks root first, totals as collapsed`, () => {
    const document = JSON.parse(readFileSync(fixture(`${name}.speedscope.json`), "utf8"));
    const frames = document.shared.frames;
    const collapsed = readCollapsed(`${name}.collapsed`);
    // As Frame::Label(): "name (file:line)", "name (file)" (native: its object file), "name".
    const label = (f) => foldLabel(f.line ? `${f.name} (${f.file}:${f.line})` : f.file ? `${f.name} (${f.file})` : f.name);
    const totals = new Map();
    for (const profile of document.profiles) {
      assert.equal(profile.type, "sampled");
      assert.equal(profile.unit, "none");
      assert.match(profile.name, /^thread \d+/);
      assert.equal(profile.samples.length, profile.weights.length);
      assert.equal(profile.endValue - profile.startValue, sum(profile.weights));
      profile.samples.forEach((stack, i) => {
        const folded = stack.map((index) => label(frames[index])).join(";");
        totals.set(folded, (totals.get(folded) ?? 0) + profile.weights[i]);
      });
    }
    assert.deepEqual(totals, collapsed);
  });
}

test("time profiles are in nanoseconds", () => {
  const document = JSON.parse(readFileSync(fixture("small.time.speedscope.json"), "utf8"));
  for (const profile of document.profiles) assert.equal(profile.unit, "nanoseconds");
  assert.equal(sum(document.profiles.map((p) => p.endValue)), 15 * 10e6);
});
