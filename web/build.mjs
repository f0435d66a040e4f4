// Builds the web UI into dist/: the TypeScript bundle (esbuild), the
// stylesheet (sass, from nhsuk-frontend's sources), the page. Fails when the
// stylesheet would load anything from another origin, and prints the first
// load's gzipped size (bench/RESULTS.md).
import { build } from "esbuild";
import * as sass from "sass";
import { gzipSync } from "node:zlib";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, "src/main.ts")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(out, "app.js"),
  legalComments: "none",
  logLevel: "warning",
});

const css = sass.compile(join(here, "src/styles/app.scss"), {
  style: "compressed",
  loadPaths: [join(here, "node_modules")],
  quietDeps: true,
  silenceDeprecations: ["import"],
}).css;
const external = css.match(/url\(["']?(https?:|\/\/)[^)]*\)|@import|@font-face|frutiger/gi);
if (external) {
  console.error(`app.css must load nothing from elsewhere: found ${[...new Set(external)].join(", ")}`);
  process.exit(1);
}
// The few icons the components' styles name (arrows, a cross) are served
// beside the page; nothing else of the design system's images is shipped.
const images = join(here, "node_modules/nhsuk-frontend/dist/nhsuk/assets/images");
for (const [, name] of css.matchAll(/url\(["']?\/([a-z0-9-]+\.svg)["']?\)/g)) {
  copyFileSync(join(images, name), join(out, name));
}
writeFileSync(join(out, "app.css"), css);
copyFileSync(join(here, "src/index.html"), join(out, "index.html"));

const sizes = ["app.js", "app.css"].map((f) => {
  const bytes = readFileSync(join(out, f));
  return { file: f, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const total = sizes.reduce((n, s) => n + s.gzip, 0);
for (const s of sizes) console.log(`${s.file}: ${s.bytes} bytes, ${s.gzip} gzipped`);
console.log(`first load (JS + CSS, gzipped): ${(total / 1024).toFixed(1)} KB`);
if (total > 150 * 1024) {
  console.error("the first load is over the 150 KB budget (docs/ui.md)");
  process.exit(1);
}
