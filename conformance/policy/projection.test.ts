/**
 * The default bundle's input projection loses nothing the policy reads: for every corpus entry
 * and example, under each data document, the result the module returns for the projected input
 * is byte-identical to the one for the whole input, in the TypeScript engine and (with the addon)
 * the Rust engine. Also: the declaration rides in the signed manifest, a bundle with an invalid
 * one is refused, and (when the addon exposes it) the Rust projection writes the same text.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { PolicyInput } from "../../contracts/index.js";
import { loadNative } from "../../native/loader.js";
import { writeBundleArchive } from "../../policies/bundle/archive.js";
import { createSignaturesFile, verifyBundleSignature } from "../../policies/bundle/signing.js";
import { defaultBundlePath, loadBundle, parseBundle, readTarGz } from "../../policies/bundle.js";
import type { PolicyEvaluator } from "../../policies/engine.js";
import { createRustEvaluator, nativePolicyBinding } from "../../policies/native-engine.js";
import { InputProjector } from "../../policies/projection.js";
import { createDecisionService } from "../../policies/service.js";
import { createTsEvaluator } from "../../policies/wasm-engine.js";
import { buildCorpus, type CorpusEntry } from "./corpus.js";

const dataFiles = ["(bundle data.json)", "allow-all.data.json", "rules.data.json"];
const examplesDir = new URL("examples/", import.meta.url);
const examples: CorpusEntry[] = readdirSync(examplesDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => ({ name: `example ${f}`, text: readFileSync(new URL(f, examplesDir), "utf8") }));
const entries = [...buildCorpus(), ...examples];
const native = nativePolicyBinding();
const bundleBytes = readFileSync(defaultBundlePath());

/**
 * Inputs whose whole text the module refuses because of a member the projection drops (a lone
 * surrogate in a tool's arguments): the policy never reads it, so the projected input decides.
 */
const REFUSED_ONLY_WHOLE = new Set(["lone surrogate escaped"]);

function attempt(evaluator: PolicyEvaluator, text: string): { text: string } | { error: string } {
  try {
    return { text: evaluator.evaluate(text) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

/** Compares whole and projected results of every entry; returns the names refused only whole. */
function compareAll(evaluator: PolicyEvaluator, projector: InputProjector, label: string): string[] {
  const refusedWhole: string[] = [];
  for (const entry of entries) {
    // The service receives parsed values: both texts come from the same one, as in decide().
    const value: unknown = JSON.parse(entry.text);
    const whole = attempt(evaluator, JSON.stringify(value));
    const projected = attempt(evaluator, projector.text(value));
    if ("text" in whole && "text" in projected && whole.text === projected.text) continue;
    if ("error" in whole && "error" in projected) continue;
    if ("error" in whole && REFUSED_ONLY_WHOLE.has(entry.name)) {
      refusedWhole.push(entry.name);
      continue;
    }
    expect.fail(
      `${label}: projection changed the result of ${entry.name}\ninput: ${entry.text.slice(0, 2000)}\n` +
        `projected: ${projector.text(value).slice(0, 2000)}\nwhole: ${JSON.stringify(whole)}\n` +
        `projected result: ${JSON.stringify(projected)}`,
    );
  }
  return refusedWhole;
}

describe("default bundle input projection", async () => {
  const bundle = parseBundle(bundleBytes);
  const declaration = bundle.projection;

  it("is declared in the committed bundle's manifest, as rego/projection.json states it", () => {
    const source = JSON.parse(readFileSync(new URL("../../rego/projection.json", import.meta.url), "utf8"));
    expect(declaration).toEqual(source);
  });

  const projector = new InputProjector(declaration ?? { keep: true });
  const engines: ["ts" | "rust", (wasm: Uint8Array, data: Uint8Array) => Promise<PolicyEvaluator>][] = [
    ["ts", createTsEvaluator],
  ];
  if (native.binding) engines.push(["rust", async (w, d) => createRustEvaluator(w, d)]);

  for (const [engine, create] of engines) {
    it.each(dataFiles)(
      `decides every corpus input and example as the whole input (${engine}, %s)`,
      async (file) => {
        const data = file.startsWith("(") ? undefined : readFileSync(new URL(file, import.meta.url));
        const b = await loadBundle(defaultBundlePath(), data);
        const refused = compareAll(await create(b.wasm, b.data), projector, `${engine} ${file}`);
        expect(refused).toEqual([...REFUSED_ONLY_WHOLE]);
      },
    );
  }

  it("drops what the policy does not read from a realistic input", () => {
    const example = JSON.parse(readFileSync(new URL("destructive-ask.json", examplesDir), "utf8"));
    const text = projector.text(example);
    expect(text.length).toBeLessThan(JSON.stringify(example).length);
    expect(text).not.toContain("rm -rf");
    expect(text).not.toContain("req-1");
  });

  const policyProject = (loadNative() as { policyProject?: (decl: string, input: string) => string } | null)
    ?.policyProject;
  it.runIf(typeof policyProject === "function")("the Rust projection writes the same text", () => {
    const decl = JSON.stringify(declaration);
    for (const entry of entries) {
      const value: unknown = JSON.parse(entry.text);
      const whole = JSON.stringify(value);
      if (whole.length > 100_000) continue;
      const rust = (policyProject as (d: string, i: string) => string)(decl, whole);
      if (rust !== projector.text(value))
        expect.fail(`${entry.name}: Rust ${rust.slice(0, 500)} vs TS ${projector.text(value).slice(0, 500)}`);
    }
  });
});

/** The default bundle with its manifest's projection replaced (undefined: removed). */
function withDeclaration(declaration: unknown): Map<string, Uint8Array> {
  const files = readTarGz(bundleBytes);
  const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString("utf8"));
  if (declaration === undefined) delete manifest.metadata.portcullis.input_projection;
  else manifest.metadata.portcullis.input_projection = declaration;
  files.set(".manifest", Buffer.from(JSON.stringify(manifest)));
  return files;
}

describe("declarations in bundles", () => {
  const scratch = mkdtempSync(join(tmpdir(), "portcullis-projection-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const input = JSON.parse(readFileSync(new URL("read-only-allow.json", examplesDir), "utf8")) as PolicyInput;

  it("a bundle with an invalid declaration is refused: every decision is a deny, activation fails", async () => {
    const svc = await createDecisionService({ engine: "ts" });
    for (const [i, bad] of [{ keep: { v: 1 } }, { keep: true, extra: 1 }, "all", null].entries()) {
      const path = join(scratch, `bad-${i}.tar.gz`);
      writeFileSync(path, writeBundleArchive([...withDeclaration(bad)]));
      const refused = await createDecisionService({ engine: "ts", bundlePath: path });
      const d = await refused.decide(input);
      expect(d.decision).toBe("deny");
      expect(d.reasons[0]?.message).toMatch(/input projection is invalid/);
      await expect(svc.activate({ bundlePath: path })).rejects.toThrow(/input projection is invalid/);
    }
    expect((await svc.decide(input)).decision).toBe("allow");
  });

  it("a bundle without a declaration evaluates the whole input", async () => {
    const bundle = parseBundle(writeBundleArchive([...withDeclaration(undefined)]));
    expect(bundle.projection).toBeUndefined();
  });

  it("the signature covers the declaration", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const key = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const files = withDeclaration(parseBundle(bundleBytes).projection);
    files.set(".signatures.json", Buffer.from(createSignaturesFile(files, { key, algorithm: "ES256" })));
    const keys = new Map([
      [
        "default",
        {
          id: "default",
          algorithm: "ES256" as const,
          key: publicKey.export({ type: "spki", format: "pem" }).toString(),
        },
      ],
    ]);
    expect(() => verifyBundleSignature(files, keys, { keyId: "default" })).not.toThrow();
    const widened = withDeclaration({ keep: true });
    widened.set(".signatures.json", files.get(".signatures.json") as Uint8Array);
    expect(() => verifyBundleSignature(widened, keys, { keyId: "default" })).toThrow(/hash/);
  });
});
