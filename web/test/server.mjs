// Starts a real crs node for the browser tests: a temporary data directory,
// a free loopback port, demo data, and this build of the UI.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// `extraArgs`: more `crs serve` options (e.g. a lower --volume-alert).
export async function startServer(extraArgs = []) {
  const binary = process.env.CRS_BINARY ?? join(web, "..", "build", "crs");
  const dir = mkdtempSync(join(tmpdir(), "crs-ui-test-"));
  const child = spawn(binary, ["serve", "--data", join(dir, "data"), "--listen", "127.0.0.1:0", "--demo", "--ui", join(web, "dist"), ...extraArgs], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const base = await new Promise((ok, fail) => {
    let out = "";
    const timer = setTimeout(() => fail(new Error(`crs serve did not start:\n${out}\n${log}`)), 30000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)\/fhir/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
    child.on("exit", (code) => fail(new Error(`crs serve exited (${code}):\n${out}\n${log}`)));
  });
  return {
    base,
    log: () => log,
    // A token from `crs token` with this node's key: users the demo has not.
    token: (args) => execFileSync(binary, ["token", "--data", join(dir, "data"), ...args], { encoding: "utf8" }).trim(),
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
