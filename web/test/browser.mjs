// Debian's chromium driven by playwright-core, headless, with what a CI
// machine needs; axe-core runs inside each page under test.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const artifacts = process.env.CRS_UI_ARTIFACTS ?? join(web, "test-results");
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

// A page that records what must never happen: a request to another origin,
// a Content-Security-Policy violation, a script error.
export async function openPage(browser, base) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(base).origin;
  page.on("request", (r) => {
    const url = r.url();
    if (/[?&](patient|family|given|birthdate|address-postalcode|identifier|user)=/.test(url)) problems.push(`search criteria in a URL: ${url}`);
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) problems.push(`request to another origin: ${url}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  await page.goto(base + "/");
  return { page, context, problems };
}

// axe-core with WCAG 2.x A and AA rules (2.2 included): no violations.
export async function expectAccessible(page, view) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    globalThis.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }),
  );
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
  assert.deepEqual(violations, [], `axe-core found violations on the ${view} view`);
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

// Milliseconds from the end of the last response whose URL contains
// `urlPart` to the view's "rendered" mark (src/ui.ts).
export async function renderDelay(page, urlPart, view) {
  return page.evaluate(([part, name]) => {
    const res = performance.getEntriesByType("resource").filter((e) => e.name.includes(part)).pop();
    const mark = performance.getEntriesByName(`crs:${name}`).pop();
    return res && mark ? mark.startTime - res.responseEnd : NaN;
  }, [urlPart, view]);
}
