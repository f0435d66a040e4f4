// The CUI display rules of src/format.ts, compiled on the fly with esbuild.
import { test } from "node:test";
import assert from "node:assert/strict";
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "crs-format-"));
await build({ entryPoints: [fileURLToPath(new URL("../src/format.ts", import.meta.url))], bundle: true, format: "esm", outfile: join(dir, "format.mjs"), logLevel: "error" });
const f = await import(pathToFileURL(join(dir, "format.mjs")).href);
rmSync(dir, { recursive: true, force: true });

test("names: family name in capitals, given names, title in brackets", () => {
  assert.equal(f.formatName({ family: "Smith", given: ["Jane"], prefix: ["Mrs"] }), "SMITH, Jane (Mrs)");
  assert.equal(f.formatName({ family: "Smith", given: ["Jane", "Mary"] }), "SMITH, Jane Mary");
  assert.equal(f.formatName({ text: "Baby" }), "Baby");
  assert.equal(f.formatName(undefined), "Name not known");
});

test("dates and ages: 14-Jul-1945 (81y)", () => {
  const today = new Date(2026, 10, 21);
  assert.equal(f.formatBirthDate("1945-07-14", today), "14-Jul-1945 (81y)");
  assert.equal(f.formatBirthDate("1945-11-22", today), "22-Nov-1945 (80y)");
  assert.equal(f.formatBirthDate("2025-08-01", today), "01-Aug-2025 (15m)");
  assert.equal(f.formatBirthDate("2026-11-01", today), "01-Nov-2026 (2w)");
  assert.equal(f.formatDate("1945-07"), "Jul-1945");
  assert.equal(f.formatDate(undefined), "Not known");
});

test("NHS numbers: shown 3-3-4, Modulus 11 check digit", () => {
  assert.equal(f.formatNhsNumber("9434765919"), "943 476 5919");
  assert.equal(f.groupNhsDigits("9434765"), "943 476 5");
  assert.ok(f.isValidNhsNumber("943 476 5919"));
  assert.ok(f.isValidNhsNumber("9990000018"));
  assert.ok(!f.isValidNhsNumber("9434765918"), "wrong check digit");
  assert.ok(!f.isValidNhsNumber("1000000010"), "check digit 10 is never valid");
  assert.equal(f.nhsNumberError(""), "");
  assert.match(f.nhsNumberError("943 476"), /10 digits/);
  assert.match(f.nhsNumberError("94347659x9"), /only include numbers/);
  assert.match(f.nhsNumberError("9434765918"), /check digit/);
});
