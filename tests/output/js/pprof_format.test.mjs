// The pprof output decoded by npm pprof-format (Datadog's reader) has the
// same stacks and totals as the collapsed output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { Profile } from "pprof-format";
import { fixture, foldLabel, readCollapsed, sum } from "./fixtures.mjs";

function decode(name) {
  const profile = Profile.decode(gunzipSync(readFileSync(fixture(name))));
  const strings = profile.stringTable.strings;
  return { profile, str: (index) => strings[Number(index)] };
}

// Collapsed labels are Frame::Label(): "name (file:line)" for Python frames,
// "name (file)" for native ones (their object file), the bare name for states.
function foldedTotals({ profile, str }, valueIndex) {
  const functions = new Map(profile.function.map((f) => [Number(f.id), f]));
  const labels = new Map();
  for (const location of profile.location) {
    assert.equal(location.line.length, 1);
    const line = location.line[0];
    const f = functions.get(Number(line.functionId));
    assert.ok(f, `location ${location.id} names missing function ${line.functionId}`);
    const file = str(f.filename);
    const label = Number(line.line) > 0 ? `${str(f.name)} (${file}:${line.line})` : file ? `${str(f.name)} (${file})` : str(f.name);
    labels.set(Number(location.id), foldLabel(label));
  }
  const totals = new Map();
  for (const sample of profile.sample) {
    const stack = sample.locationId.map((id) => labels.get(Number(id))).reverse().join(";");
    totals.set(stack, (totals.get(stack) ?? 0) + Number(sample.value[valueIndex]));
  }
  return totals;
}

for (const name of ["small", "hostile"]) {
  test(`${name}: pprof-format decodes the same stacks and totals as collapsed`, () => {
    const decoded = decode(`${name}.pb.gz`);
    const collapsed = readCollapsed(`${name}.collapsed`);
    assert.deepEqual(foldedTotals(decoded, 0), collapsed);
    assert.equal(sum(decoded.profile.sample.map((s) => Number(s.value[0]))), sum(collapsed.values()));
    // 10 ms per sample in the test profiles.
    assert.equal(sum(decoded.profile.sample.map((s) => Number(s.value[1]))), sum(collapsed.values()) * 10e6);
  });
}

test("small: header, ids and labels follow profile.proto", () => {
  const { profile, str } = decode("small.pb.gz");
  assert.equal(str(0), "");
  assert.deepEqual(profile.sampleType.map((t) => [str(t.type), str(t.unit)]), [
    ["samples", "count"],
    ["cpu", "nanoseconds"],
  ]);
  assert.deepEqual([str(profile.periodType.type), str(profile.periodType.unit)], ["cpu", "nanoseconds"]);
  assert.equal(Number(profile.period), 10e6);
  assert.equal(Number(profile.durationNanos), 1e9);
  assert.ok(Number(profile.timeNanos) > 0);
  for (const item of [...profile.location, ...profile.function]) assert.ok(Number(item.id) > 0);
  for (const f of profile.function) assert.equal(str(f.systemName), str(f.name));
  const threads = new Set(
    profile.sample.map((s) => {
      const labels = Object.fromEntries(s.label.map((l) => [str(l.key), Number(l.str) ? str(l.str) : Number(l.num)]));
      return `${labels.thread_id}/${labels.thread_name}`;
    }),
  );
  assert.deepEqual([...threads].sort(), ["101/MainThread", "102/worker"]);
});
