import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../../cli.js";
import { opaInstalled } from "../../scripts/toolchain.mjs";
import { readBundleArchive, writeBundleArchive } from "./archive.js";
import { bundleCommand } from "./cli.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-bundle-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the command in-process, capturing what it prints. */
async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
  const error = vi.spyOn(console, "error").mockImplementation((...a) => void err.push(a.join(" ")));
  try {
    return { code: await bundleCommand.run(argv), out: out.join("\n"), err: err.join("\n") };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const priv = join(scratch, "priv.pem");
const pub = join(scratch, "pub.pem");
writeFileSync(priv, privateKey.export({ type: "pkcs8", format: "pem" }));
writeFileSync(pub, publicKey.export({ type: "spki", format: "pem" }));

describe.skipIf(!opaInstalled())("portcullis bundle", () => {
  const src = join(scratch, "rego");
  const out = join(scratch, "bundle.tar.gz");

  it("builds the default policy with metadata and smoke cases, deterministically", async () => {
    cpSync(join(import.meta.dirname, "../../rego"), src, { recursive: true });
    rmSync(join(src, "build"), { recursive: true, force: true });
    const smoke = {
      cases: [
        {
          name: "anonymous call is denied",
          input: {
            v: 1,
            action: "tools/call",
            principal: { id: "x", roles: [], authenticated: false, via: "anonymous" },
            target: { kind: "tool", name: "a__b" },
            arguments: {},
            data_classes: [],
            context: { time: "2026-01-01T00:00:00Z", request_id: "s1", transport: "http" },
          },
          expect: { decision: "deny" },
        },
      ],
    };
    writeFileSync(join(src, "portcullis.smoke.json"), JSON.stringify(smoke));
    writeFileSync(
      join(src, ".manifest"),
      JSON.stringify({ roots: ["portcullis"], metadata: { team: "sec" } }),
    );
    const r = await run("build", src, "-o", out, "--revision", "cli-1");
    expect(r.code, r.err).toBe(0);
    const files = readBundleArchive(readFileSync(out));
    const manifest = JSON.parse(Buffer.from(files.get(".manifest") as Uint8Array).toString());
    expect(manifest).toMatchObject({
      revision: "cli-1",
      wasm: [{ entrypoint: "portcullis/gateway/decision" }],
      roots: ["portcullis"],
      metadata: { team: "sec", portcullis: { entrypoint: "portcullis/gateway/decision" } },
    });
    // The folder's projection.json rides in the manifest, not in the data document.
    const declared = JSON.parse(readFileSync(join(src, "projection.json"), "utf8"));
    expect(manifest.metadata.portcullis.input_projection).toEqual(declared);
    expect(Buffer.from(files.get("data.json") as Uint8Array).toString()).not.toContain("by_action");
    expect(files.has("policy.wasm") && files.has("data.json") && files.has("portcullis.smoke.json")).toBe(
      true,
    );
    expect([...files.keys()].every((n) => !n.startsWith("/") && !n.includes(scratch.slice(1)))).toBe(true);
    const first = readFileSync(out);
    expect((await run("build", src, "-o", out, "--revision", "cli-1")).code).toBe(0);
    expect(readFileSync(out).equals(first)).toBe(true);
  });

  it("signs, verifies, inspects, and catches tampering", async () => {
    expect(
      (await run("sign", out, "--key", priv, "--alg", "ES256", "--kid", "k1", "--scope", "prod")).code,
    ).toBe(0);
    const ok = await run("verify", out, "--key", pub, "--alg", "ES256", "--scope", "prod");
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/verified .* key k1 \(ES256\), scope prod/);
    const wrongScope = await run("verify", out, "--key", pub, "--alg", "ES256", "--scope", "dev");
    expect(wrongScope.code).toBe(1);
    expect(wrongScope.err).toMatch(/scope_mismatch/);

    const report = await run("inspect", out, "--key", pub, "--alg", "ES256", "--json");
    const doc = JSON.parse(report.out);
    expect(doc.signature).toMatchObject({ status: "verified", keyId: "k1", scope: "prod" });
    expect(doc.files.map((f: { name: string }) => f.name)).toContain(".signatures.json");

    const files = readBundleArchive(readFileSync(out));
    files.set("data.json", Buffer.from('{"portcullis":{"settings":{}}}'));
    const tampered = join(scratch, "tampered.tar.gz");
    writeFileSync(tampered, writeBundleArchive(files));
    const bad = await run("verify", tampered, "--key", pub, "--alg", "ES256");
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/data\.json does not match its signed hash.*hash_mismatch/);
    const inspected = await run("inspect", tampered, "--key", pub, "--alg", "ES256");
    expect(inspected.code).toBe(1);
    expect(inspected.out).toMatch(/INVALID/);
  });

  it("is registered as `portcullis bundle`", async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((...a) => void out.push(a.join(" ")));
    try {
      expect(await main(["bundle", "--help"])).toBe(0);
    } finally {
      log.mockRestore();
    }
    expect(out.join("\n")).toMatch(/portcullis bundle sign <bundle.tar.gz> --key K/);
  });

  it("explains bad usage", async () => {
    await expect(run("sign", out)).rejects.toThrow(/--key is required/);
    await expect(run("frobnicate")).rejects.toThrow(/unknown or missing subcommand/);
    await expect(run("verify", out, "--key", "/nonexistent/key.pem")).rejects.toThrow(/no such file/);
  });
});
