/**
 * The official MCP conformance suites, run against the fixture directly and through Portcullis
 * (conformance/mcp/run.mjs): every scenario must have the same outcome through the gateway as
 * directly, and the direct run must match the expected-failures file. Needs the build in dist/.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = import.meta.dirname;
const root = join(here, "../..");

interface EraResult {
  era: string;
  direct: Record<string, string>;
  gateway: Record<string, string>;
  mismatches: string[];
  unexpected: string[];
}

async function conformance(era: string): Promise<EraResult> {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-conf-test-"));
  const out = join(dir, "result.json");
  try {
    await run(process.execPath, [join(here, "run.mjs"), "--era", era, "--json", out], {
      cwd: root,
      timeout: 170_000,
    }).catch((e: { stdout?: string }) => {
      if (!existsSync(out)) throw e;
    });
    const [result] = JSON.parse(readFileSync(out, "utf8")) as EraResult[];
    return result!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("MCP conformance: through the gateway equals direct", () => {
  it("needs the compiled gateway", () => {
    expect(existsSync(join(root, "dist/cli.js")), "run `npm run build` first").toBe(true);
  });

  it("2025-11-25 (conformance 0.1.16)", { timeout: 180_000 }, async () => {
    const r = await conformance("2025");
    expect(Object.keys(r.direct).length).toBeGreaterThan(25);
    expect(r.gateway).toEqual(r.direct);
    expect(r.mismatches).toEqual([]);
    expect(r.unexpected).toEqual([]);
  });

  it("2026-07-28 (conformance 0.2.0-alpha.12, --requirements 2026-07-28)", { timeout: 180_000 }, async () => {
    const r = await conformance("2026");
    expect(Object.values(r.direct).filter((o) => o === "PASS").length).toBeGreaterThan(20);
    expect(r.gateway).toEqual(r.direct);
    expect(r.mismatches).toEqual([]);
    expect(r.unexpected).toEqual([]);
  });
});
