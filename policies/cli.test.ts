import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../cli.js";
import { writeBundleArchive } from "./bundle/archive.js";
import { defaultBundlePath, readTarGz } from "./bundle.js";
import { nativePolicyBinding } from "./native-engine.js";

const examples = new URL("../conformance/policy/examples/", import.meta.url);
const exampleFiles = readdirSync(examples).filter((f) => f.endsWith(".json"));

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void err.push(a.join(" ")));
  const code = await main(argv);
  vi.restoreAllMocks();
  return { code, out: out.join("\n"), err: err.join("\n") };
}

afterEach(() => vi.restoreAllMocks());

describe("portcullis policy eval", () => {
  it.runIf(nativePolicyBinding().binding).each(exampleFiles)(
    "--engine both on %s: identical, exit 0",
    async (f) => {
      const r = await run(["policy", "eval", "--engine", "both", "--input", join(examples.pathname, f)]);
      expect(r.code).toBe(0);
      expect(r.out).toContain("parity: identical");
      const expected = f
        .replace(/\.json$/, "")
        .split("-")
        .pop();
      const decision = JSON.parse(r.out.slice(0, r.out.lastIndexOf("\nparity"))) as { decision: string };
      expect(decision.decision).toBe(expected === "ask" ? "ask_user" : expected);
    },
  );

  it("--engine ts prints the decision alone", async () => {
    const r = await run([
      "policy",
      "eval",
      "--engine",
      "ts",
      "--input",
      join(examples.pathname, exampleFiles[0]!),
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).v).toBe(1);
  });

  it("a corrupted policy.wasm yields deny POLICY_ERROR in every engine", async () => {
    const files = readTarGz(readFileSync(defaultBundlePath()));
    const wasm = Buffer.from(files.get("policy.wasm")!);
    wasm.fill(0x41, 8, 4000);
    const dir = mkdtempSync(join(tmpdir(), "portcullis-cli-"));
    const bundle = join(dir, "bad.tar.gz");
    writeFileSync(bundle, writeBundleArchive([["policy.wasm", wasm]]));
    const engines = nativePolicyBinding().binding ? ["ts", "rust"] : ["ts"];
    for (const engine of engines) {
      const input = join(examples.pathname, "read-only-allow.json");
      const r = await run(["policy", "eval", "--engine", engine, "--bundle", bundle, "--input", input]);
      expect(r.code).toBe(0);
      const d = JSON.parse(r.out) as { decision: string; reasons: { code: string }[] };
      expect(d.decision).toBe("deny");
      expect(d.reasons[0]?.code).toBe("POLICY_ERROR");
    }
  });

  it("usage errors exit 2", async () => {
    expect((await run(["policy", "eval"])).code).toBe(2);
    expect((await run(["policy", "eval", "--input", "x", "--engine", "go"])).code).toBe(2);
    expect((await run(["policy", "nope"])).code).toBe(2);
  });
});
