/**
 * The Rego side of the policy plane: `opa test` on rego/ (with the reason-code registry loaded as
 * data), every code literal in the policy registered, and the committed bundle identical to a
 * fresh build of the sources (policy.wasm, data and revision compared, not tar timestamps).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isRegisteredReasonCode } from "../contracts/index.js";
import { readTarGz } from "../policies/bundle.js";
// @ts-expect-error -- plain .mjs build script without type declarations
import { buildBundle, sourceRevision } from "../scripts/build-policy.mjs";
// @ts-expect-error -- plain .mjs toolchain module without type declarations
import { opaPath } from "../scripts/toolchain.mjs";

const repo = fileURLToPath(new URL("..", import.meta.url));
const opa = (opaPath as () => string)();
const haveOpa = existsSync(opa);
if (!haveOpa && !process.env.CI)
  console.warn(`rego tests skipped: opa not found at ${opa} (run npm run setup)`);
const needOpa = haveOpa || Boolean(process.env.CI);

const policySources = readdirSync(join(repo, "rego")).filter(
  (f) => f.endsWith(".rego") && !f.endsWith("_test.rego"),
);

describe("rego/", () => {
  it.runIf(needOpa)("opa test passes with the registry loaded as data", () => {
    const args = [
      "test",
      "rego/",
      "contracts/reason-codes.json",
      "--ignore",
      "build",
      "--ignore",
      "capabilities.json",
    ];
    const r = spawnSync(opa, [...args, "-v"], { cwd: repo, encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/PASS: \d+\/\d+/);
  });

  it("every reason code literal in the policy is registered", () => {
    const codes = new Set<string>();
    for (const f of policySources) {
      for (const m of readFileSync(join(repo, "rego", f), "utf8").matchAll(
        /"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g,
      )) {
        codes.add(m[1] as string);
      }
    }
    expect(codes.size).toBeGreaterThan(10);
    const unregistered = [...codes].filter((c) => !isRegisteredReasonCode(c));
    expect(unregistered).toEqual([]);
  });

  it("every code literal has a message body, and the opa tests list every code", () => {
    const literal = /"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"/g;
    const codes = new Set<string>();
    for (const f of policySources) {
      for (const m of readFileSync(join(repo, "rego", f), "utf8").matchAll(literal))
        codes.add(m[1] as string);
    }
    const reasons = readFileSync(join(repo, "rego", "reasons.rego"), "utf8");
    // reasons.rego is one else-chain of `message(c)`: each branch tests `c == "CODE"`.
    const withMessage = new Set([...reasons.matchAll(/^\tc == "([A-Z_0-9]+)"$/gm)].map((m) => m[1]));
    expect(withMessage.size).toBeGreaterThan(10);
    expect([...codes].filter((c) => !withMessage.has(c))).toEqual([]);
    const tests = readFileSync(join(repo, "rego", "gateway_test.rego"), "utf8");
    const listed = /all_codes := \[([^\]]*)\]/.exec(tests)?.[1] ?? "";
    expect(new Set([...listed.matchAll(literal)].map((m) => m[1]))).toEqual(codes);
  });

  it("the host's fail-closed codes are registered", () => {
    const service = readFileSync(join(repo, "policies", "service.ts"), "utf8");
    const used = new Set([...service.matchAll(/failClosed\("([A-Z_]+)"/g)].map((m) => m[1] as string));
    expect([...used].sort()).toEqual(["POLICY_ERROR", "POLICY_NO_BUNDLE", "POLICY_UNDEFINED"]);
    for (const c of used) expect(isRegisteredReasonCode(c)).toBe(true);
  });

  it.runIf(needOpa)("the committed bundle matches a fresh build", () => {
    const committed = readTarGz(readFileSync(join(repo, "rego", "build", "bundle.tar.gz")));
    const out = mkdtempSync(join(tmpdir(), "portcullis-bundle-"));
    try {
      const built = (buildBundle as (o: object) => { revision: string; bundlePath: string })({
        outDir: out,
        force: true,
      });
      const fresh = readTarGz(readFileSync(built.bundlePath));
      const stale = "rego/build is stale: run `npm run setup` (or `portcullis policy build`) and commit it";
      expect(built.revision, stale).toBe((sourceRevision as () => string)());
      for (const name of [".manifest", "policy.wasm", "data.json"]) {
        expect(
          Buffer.from(fresh.get(name) ?? []).equals(Buffer.from(committed.get(name) ?? [1])),
          `${name}: ${stale}`,
        ).toBe(true);
      }
      const extracted = readFileSync(join(repo, "rego", "build", "policy.wasm"));
      expect(extracted.equals(Buffer.from(committed.get("policy.wasm") ?? [])), stale).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("the compiled module imports no host builtin (allowlist is empty)", async () => {
    const { createTsEvaluator } = await import("../policies/wasm-engine.js");
    const files = readTarGz(readFileSync(join(repo, "rego", "build", "bundle.tar.gz")));
    // createTsEvaluator refuses modules whose builtins() map names anything off the allowlist.
    await expect(
      createTsEvaluator(files.get("policy.wasm")!, files.get("data.json")!),
    ).resolves.toBeDefined();
    const caps = JSON.parse(readFileSync(join(repo, "rego", "capabilities.json"), "utf8")) as {
      builtins: { name: string }[];
    };
    const names = caps.builtins.map((b) => b.name);
    for (const hostOnly of [
      "http.send",
      "time.now_ns",
      "rand.intn",
      "uuid.rfc4122",
      "sprintf",
      "opa.runtime",
    ]) {
      expect(names).not.toContain(hostOnly);
    }
  });
});
