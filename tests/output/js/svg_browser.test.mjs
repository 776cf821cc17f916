// The flamegraph SVG in a real browser (Debian's chromium, headless, driven
// by playwright-core): it loads without errors, names that carry markup or
// script show as text and run nothing, search and zoom work, and the view
// survives in the URL.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { fixture, foldLabel, readCollapsed, sum } from "./fixtures.mjs";

const kPlotWidth = 1180; // 1200 px minus 10 px padding on each side
const kSearchColor = "rgb(230,0,230)";

let context;
let userDataDir;

before(async () => {
  userDataDir = mkdtempSync(join(tmpdir(), "pyhang-chromium-"));
  // A persistent context is how Playwright takes --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.PYHANG_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

// Opens a fixture SVG, recording console errors, page errors and every
// dialog; `answers` are given, in order, to the search prompts we expect.
async function open(name, { query = "", answers = [] } = {}) {
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.type());
    if (dialog.type() === "prompt" && answers.length > 0) return dialog.accept(answers.shift());
    problems.push(`unexpected ${dialog.type()}: ${dialog.message()}`);
    return dialog.dismiss();
  });
  await page.goto(pathToFileURL(fixture(name)).href + query);
  await page.waitForLoadState("load");
  return { page, problems, dialogs };
}

// A frame's <g>, found by the start of its tooltip.
const frame = (page, titleStart) =>
  page.locator("g.f").filter({ has: page.locator("title").filter({ hasText: titleStart }) }).first();

const rectWidth = async (g) => Number(await g.locator("rect").getAttribute("width"));

function expectedMatchedPercent(collapsedFile, regex) {
  const totals = readCollapsed(collapsedFile);
  let matched = 0;
  for (const [stack, count] of totals) {
    if (stack.split(";").some((label) => regex.test(label))) matched += count;
  }
  return ((100 * matched) / sum(totals.values())).toFixed(1);
}

test("hostile names show as text and run nothing", async () => {
  const { page, problems, dialogs } = await open("hostile.svg");
  await page.waitForTimeout(300); // let anything that was injected try to run
  assert.deepEqual(problems, []);
  assert.deepEqual(dialogs, []);
  assert.equal(await page.title(), "<script>alert('title')</script>");
  const counts = await page.evaluate(() => ({
    scripts: document.getElementsByTagNameNS("*", "script").length,
    images: document.getElementsByTagNameNS("*", "img").length,
    handlers: [...document.querySelectorAll("*")].flatMap((e) =>
      [...e.attributes].filter((a) => a.name.toLowerCase().startsWith("on")).map((a) => a.name),
    ),
    frames: document.querySelectorAll("g.f").length,
  }));
  assert.deepEqual(counts, { scripts: 2, images: 0, handlers: [], frames: 12 });
  const label = frame(page, "<script>alert(1)</script>").locator("text");
  assert.equal(await label.textContent(), "<script>alert(1)</script> (b>.py:11)");
  assert.ok(await label.isVisible());
  const box = await label.boundingBox();
  assert.ok(box.width > 100, `label is ${box.width} px wide`);
  const img = frame(page, '"><img src=x onerror=alert(1)>');
  assert.match(await img.locator("title").textContent(), /^"><img src=x onerror=alert\(1\)> \(\/srv\/app\/x\.py:12\)/);
  assert.equal(await page.locator("#subtitle").textContent(), ']]><!-- "subtitle" -->');
  await page.close();
});

test("search highlights matches and shows Matched:", async () => {
  const term = "alert\\([12]\\)";
  const { page, problems, dialogs } = await open("hostile.svg", { answers: [term] });
  await page.locator("#search").click();
  const want = expectedMatchedPercent("hostile.threads.collapsed", new RegExp(term));
  await page.locator("#matched").filter({ hasText: "Matched:" }).waitFor();
  assert.equal(await page.locator("#matched").textContent(), `Matched: ${want}%`);
  const highlighted = await page.locator(`g.f rect[fill="${kSearchColor}"]`).count();
  assert.equal(highlighted, 3); // <script>alert(1)..., "><img ...alert(1)>, ]]>...alert(2)
  assert.equal(await page.locator("#search").textContent(), "Reset Search");
  assert.equal(new URL(page.url()).searchParams.get("s"), term);
  await page.locator("#search").click(); // resets
  assert.equal(await page.locator(`g.f rect[fill="${kSearchColor}"]`).count(), 0);
  assert.deepEqual(dialogs, ["prompt"]);
  assert.deepEqual(problems, []);
  await page.close();
});

test("click zooms, dims ancestors, hides the rest; Reset Zoom restores", async () => {
  const { page, problems } = await open("small.svg");
  const work = frame(page, "work (");
  const before = await rectWidth(work);
  await work.locator("rect").click();
  assert.ok(Math.abs((await rectWidth(work)) - kPlotWidth) < 0.2);
  for (const ancestor of ["all (", 'thread 101 "MainThread"', "main ("]) {
    assert.match(await frame(page, ancestor).getAttribute("class"), /\banc\b/, ancestor);
  }
  assert.match(await frame(page, "Thread.run (").getAttribute("class"), /\bhid\b/);
  assert.ok(Math.abs((await rectWidth(frame(page, "helper ("))) - (kPlotWidth * 5) / 8) < 0.2);
  assert.ok(await page.locator("#reset").isVisible());
  const params = new URL(page.url()).searchParams;
  assert.equal(params.get("y"), "3");
  await page.locator("#reset").click();
  assert.ok(Math.abs((await rectWidth(work)) - before) < 0.2);
  assert.equal(await page.locator("g.f.hid, g.f.anc").count(), 0);
  assert.ok(!(await page.locator("#reset").isVisible()));
  assert.deepEqual(problems, []);
  await page.close();
});

test("zoom and search come back from the URL", async () => {
  const first = await open("small.svg");
  await frame(first.page, "work (").locator("rect").click();
  const zoomQuery = new URL(first.page.url()).search;
  await first.page.close();
  const { page, problems } = await open("small.svg", { query: `${zoomQuery}&s=helper` });
  assert.ok(Math.abs((await rectWidth(frame(page, "work ("))) - kPlotWidth) < 0.2);
  const want = expectedMatchedPercent("small.threads.collapsed", /helper/);
  assert.equal(await page.locator("#matched").textContent(), `Matched: ${want}%`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("hovering a frame shows its details; zooming into a hostile frame stays inert", async () => {
  const { page, problems, dialogs } = await open("hostile.svg");
  const hostile = frame(page, "]]></script><script>alert(2)</script>");
  await hostile.locator("rect").hover();
  assert.match(await page.locator("#details").textContent(), /^Function: \]\]><\/script><script>alert\(2\)/);
  await hostile.locator("rect").click();
  await page.waitForTimeout(200);
  assert.ok(Math.abs((await rectWidth(hostile)) - kPlotWidth) < 0.2);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(problems, []);
  await page.close();
});

test("inverted (icicle) graph has the root on top", async () => {
  const { page, problems } = await open("small_inverted.svg");
  const rootY = Number(await frame(page, "all (").locator("rect").getAttribute("y"));
  const leafY = Number(await frame(page, "helper (").locator("rect").getAttribute("y"));
  assert.ok(rootY < leafY, `root y ${rootY}, leaf y ${leafY}`);
  await frame(page, "main (").locator("rect").click();
  assert.ok(Math.abs((await rectWidth(frame(page, "main ("))) - kPlotWidth) < 0.2);
  assert.deepEqual(problems, []);
  await page.close();
});

test("labels use the same fold as collapsed output", () => {
  // Guards the helper the search expectation relies on.
  assert.equal(foldLabel("a;b\nc"), "a:b c");
});
