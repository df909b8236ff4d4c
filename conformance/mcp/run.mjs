/**
 * Runs the pinned MCP conformance suites twice per era — against the fixture server directly and
 * against Portcullis fronting the fixture (one stdio upstream, empty prefix, allow-all policy data)
 * — and compares the per-scenario outcomes. The suites' CLI needs Node >= 22: the `node22` dev
 * dependency provides it. Needs `npm run build` first (the gateway runs from dist/).
 *
 *   node conformance/mcp/run.mjs [--era 2025|2026|all] [--json FILE]
 *
 * The 2026 fixture (fixture-modern.mjs + fixture-tasks.mjs) passes every scenario of its suite,
 * the tasks extension included, so expected-failures.2026.yml lists none.
 *
 * Exit 0 when, for every era run, each scenario has the same outcome through the gateway as
 * directly and the direct run matches the era's expected-failures file.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const node22 = join(root, "node_modules/node22/bin/node");
const fixture = join(here, "fixture-server.mjs");
const fixtureModern = join(here, "fixture-modern.mjs");

export const ERAS = {
  2025: {
    suite: join(root, "node_modules/conformance-stable/dist/index.js"),
    args: [],
    expected: join(here, "expected-failures.2025.yml"),
    fixture,
    protocol: "2025-11-25",
  },
  2026: {
    suite: join(root, "node_modules/conformance-next/dist/index.js"),
    args: ["--requirements", "2026-07-28"],
    expected: join(here, "expected-failures.2026.yml"),
    fixture: fixtureModern,
    // The gateway speaks the era's revision to the fixture too (a 2026 upstream link).
    protocol: "2026-07-28",
  },
};

/** Starts a process and waits for a line matching `ready` on stdout or stderr; bounded in time. */
function start(cmd, args, ready, env = {}) {
  const child = spawn(cmd, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not start in time:\n${log}`));
    }, 20_000);
    const onData = (chunk) => {
      log += chunk.toString();
      const m = ready.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePort({ child, port: Number(m[1]) });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited with ${code}:\n${log}`));
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** Runs one suite against a URL; returns { scenario: "PASS" | "WARN" | "FAIL" }. */
function runSuite(era, url, outDir) {
  const { suite, args } = ERAS[era];
  return new Promise((done, reject) => {
    const child = spawn(node22, [suite, "server", "--url", url, ...args, "-o", outDir], {
      cwd: outDir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (c) => (log += c));
    child.stderr.on("data", (c) => (log += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 150_000);
    child.once("exit", () => {
      clearTimeout(timer);
      try {
        done(readOutcomes(outDir));
      } catch (e) {
        reject(new Error(`${e.message}\n${log}`));
      }
    });
  });
}

function readOutcomes(outDir) {
  const outcomes = {};
  for (const entry of readdirSync(outDir)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    const file = join(outDir, entry, "checks.json");
    if (!m || !existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, "utf8"));
    const statuses = checks.map((c) => c.status);
    outcomes[m[1]] = statuses.includes("FAILURE") ? "FAIL" : statuses.includes("WARNING") ? "WARN" : "PASS";
  }
  if (Object.keys(outcomes).length === 0) throw new Error(`no scenario results in ${outDir}`);
  return outcomes;
}

/** Scenario names listed in an expected-failures YAML file (`server:` list). */
export function expectedFailures(file) {
  if (!existsSync(file)) return [];
  const names = [];
  let inServer = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (/^server:\s*$/.test(line)) inServer = true;
    else if (/^\S/.test(line)) inServer = false;
    else if (inServer) {
      const m = /^\s+-\s+([a-z0-9-]+)/.exec(line);
      if (m) names.push(m[1]);
    }
  }
  return names;
}

export async function runEra(era) {
  const work = mkdtempSync(join(tmpdir(), `portcullis-conf-${era}-`));
  const result = { era, direct: {}, gateway: {} };
  try {
    const fx = await start(process.execPath, [ERAS[era].fixture, "--port", "0"], /LISTENING (\d+)/);
    try {
      result.direct = await runSuite(era, `http://localhost:${fx.port}/mcp`, mkdir(join(work, "direct")));
    } finally {
      await stop(fx.child);
    }
    const config = {
      server: { host: "127.0.0.1", port: 0 },
      auth: { localHttpPrincipal: "conformance" },
      mcpServers: {
        fixture: {
          command: process.execPath,
          args: [ERAS[era].fixture, "--stdio"],
          prefix: "",
          protocol: ERAS[era].protocol,
        },
      },
      policy: { data: join(root, "conformance/policy/allow-all.data.json") },
      audit: { dir: join(work, "audit") },
      dataDir: join(work, "state"),
    };
    writeFileSync(join(work, "portcullis.json"), JSON.stringify(config, null, 2));
    const gw = await start(
      process.execPath,
      [join(root, "bin/portcullis.js"), "serve", "--config", join(work, "portcullis.json")],
      /listening on http:\/\/[^:]+:(\d+)/,
    );
    try {
      result.gateway = await runSuite(era, `http://localhost:${gw.port}/mcp`, mkdir(join(work, "gateway")));
    } finally {
      await stop(gw.child);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const expected = expectedFailures(ERAS[era].expected);
  result.mismatches = Object.keys(result.direct).filter((s) => result.direct[s] !== result.gateway[s]);
  result.unexpected = Object.keys(result.direct).filter(
    (s) => (result.direct[s] === "PASS") === expected.includes(s),
  );
  return result;
}

function mkdir(path) {
  rmSync(path, { recursive: true, force: true });
  return mkdtempSync(`${path}-`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const eraArg = argv.includes("--era") ? argv[argv.indexOf("--era") + 1] : "all";
  const eras = eraArg === "all" ? Object.keys(ERAS) : [eraArg];
  const results = [];
  for (const era of eras) results.push(await runEra(era));
  const text = JSON.stringify(results, null, 2);
  if (argv.includes("--json")) writeFileSync(argv[argv.indexOf("--json") + 1], text);
  console.log(text);
  process.exit(results.every((r) => r.mismatches.length === 0 && r.unexpected.length === 0) ? 0 : 1);
}
