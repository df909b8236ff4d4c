import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { PortcullisError } from "../../gateway/errors.js";
import { BundleActivator } from "./activator.js";
import { DEFAULT_ARCHIVE_LIMITS, readBundleArchive } from "./archive.js";
import { aliceReads, keys, makeBundle, rawTar } from "./fixtures/bundles.js";

const dirs: string[] = [];
const open: BundleActivator[] = [];
afterEach(async () => {
  for (const a of open.splice(0)) await a.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "portcullis-activator-"));
  dirs.push(d);
  return d;
}

async function start(opts: Parameters<typeof BundleActivator.open>[0]): Promise<BundleActivator> {
  const a = await BundleActivator.open(opts);
  open.push(a);
  return a;
}

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(PortcullisError);
    return String((e as PortcullisError).details?.reason);
  }
  throw new Error("expected a rejection");
}

describe("BundleActivator", () => {
  it("swaps in a verified bundle, changes decisions, flushes the cache and keeps the last good one", async () => {
    const dir = dataDir();
    const a = await start({ dataDir: dir, keys });
    // Keys configured and nothing verified yet: the gateway denies everything and says why.
    expect((await a.service.decide(aliceReads)).reasons[0]?.code).toBe("POLICY_NO_BUNDLE");
    expect(a.status()).toMatchObject({ code: "bundle_error", errors: [{ code: "no_verified_bundle" }] });

    const r1 = await a.activate(makeBundle({ revision: "v1", sign: true }), { kind: "http", etag: '"e1"' });
    expect(r1).toMatchObject({ revision: "v1", signature: { keyId: "release" } });
    expect(r1.engines).toContain("ts");
    const allow = await a.service.decide(aliceReads);
    expect(allow).toMatchObject({ decision: "allow", revision: "v1" });
    expect((await a.service.decide(aliceReads)).cached).toBe(allow.cacheable === true);

    await a.activate(makeBundle({ revision: "v2", sign: true, denyDocs: true }), {
      kind: "http",
      etag: '"e2"',
    });
    const deny = await a.service.decide(aliceReads);
    expect(deny).toMatchObject({ decision: "deny", revision: "v2", cached: false });
    expect(a.status()).toMatchObject({ active_revision: "v2", active_source: "http" });
    expect(a.etag).toBe('"e2"');

    const tampered = makeBundle({
      revision: "v3",
      sign: true,
      tamper: (f) => f.set("data.json", Buffer.from('{"portcullis":{"settings":{"rules":[]}}}')),
    });
    expect(await reason(a.activate(tampered, { kind: "http" }))).toBe("hash_mismatch");
    expect(await reason(a.activate(makeBundle({ revision: "v4" }), { kind: "http" }))).toBe("unsigned");
    expect((await a.service.decide(aliceReads)).revision).toBe("v2");
    const status = a.status();
    expect(status).toMatchObject({
      active_revision: "v2",
      code: "bundle_error",
      errors: [{ code: "unsigned" }],
    });
    expect(a.tracker.metricsText()).toMatch(
      /portcullis_bundle_failures_total\{bundle="portcullis",reason="hash_mismatch"\} 1/,
    );

    // Restart: the persisted last good bundle serves again, with its ETag.
    await a.close();
    open.splice(open.indexOf(a), 1);
    const b = await start({ dataDir: dir, keys });
    expect((await b.service.decide(aliceReads)).revision).toBe("v2");
    expect(b.status()).toMatchObject({ active_revision: "v2", active_source: "persisted" });
    expect(b.etag).toBe('"e2"');
  });

  it("refuses the wrong scope, failing smoke cases and archive attacks with precise reasons", async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxUncompressedBytes: 16 * 1024 * 1024 };
    const a = await start({ dataDir: dataDir(), keys, scope: "prod", limits });
    expect(
      await reason(a.activate(makeBundle({ revision: "s", sign: true, scope: "dev" }), { kind: "push" })),
    ).toBe("scope_mismatch");
    const smoke = { cases: [{ name: "docs readable", input: aliceReads, expect: { decision: "allow" } }] };
    const bad = makeBundle({ revision: "smoke", sign: true, scope: "prod", denyDocs: true, smoke });
    expect(await reason(a.activate(bad, { kind: "push" }))).toBe("smoke_failed");
    const good = makeBundle({ revision: "smoke-ok", sign: true, scope: "prod", smoke });
    expect(await a.activate(good, { kind: "push" })).toMatchObject({ smokeCases: 1, revision: "smoke-ok" });
    expect(await reason(a.activate(gzipSync(Buffer.alloc(64 * 1024 * 1024)), { kind: "push" }))).toBe(
      "uncompressed_too_large",
    );
    expect(await reason(a.activate(Buffer.from("not a bundle"), { kind: "push" }))).toBe("not_gzip");
    expect((await a.service.decide(aliceReads)).revision).toBe("smoke-ok");
  });

  it("refuses a bundle whose input projection changes a smoke case's decision, or is invalid", async () => {
    const a = await start({ dataDir: dataDir(), keys });
    const smoke = { cases: [{ name: "docs readable", input: aliceReads, expect: { decision: "allow" } }] };
    const blind = { keep: { v: true, action: true, target: true, context: true } }; // no principal
    const bad = makeBundle({ revision: "blind", sign: true, smoke, projection: blind });
    await expect(a.activate(bad, { kind: "push" })).rejects.toThrow(/input projection changes the decision/);
    expect(await reason(a.activate(bad, { kind: "push" }))).toBe("smoke_failed");
    const invalid = makeBundle({ revision: "invalid", sign: true, projection: { keep: "all" } });
    await expect(a.activate(invalid, { kind: "push" })).rejects.toThrow(/input projection is invalid/);
    const ok = makeBundle({ revision: "ok", sign: true, smoke });
    expect(await a.activate(ok, { kind: "push" })).toMatchObject({ smokeCases: 1, revision: "ok" });
    expect((await a.service.decide(aliceReads)).decision).toBe("allow");
  });

  it("without keys accepts unsigned bundles, and starts on the configured bundle", async () => {
    const dir = dataDir();
    const path = join(dir, "start.tar.gz");
    writeFileSync(path, makeBundle({ revision: "configured" }));
    const a = await start({ dataDir: dir, service: { bundlePath: path, engine: "ts" } });
    expect(a.service.revision).toBe("configured");
    await a.activate(makeBundle({ revision: "u1", denyDocs: true }), { kind: "file" });
    expect((await a.service.decide(aliceReads)).decision).toBe("deny");
  });

  it("a persisted bundle that no longer verifies is not served", async () => {
    const dir = dataDir();
    const a = await start({ dataDir: dir });
    await a.activate(makeBundle({ revision: "unsigned-1" }), { kind: "file" });
    await a.close();
    open.splice(open.indexOf(a), 1);
    const b = await start({ dataDir: dir, keys });
    expect(b.service.revision).toBe("none");
    expect(b.status()).toMatchObject({ code: "bundle_error", errors: [{ code: "unsigned" }] });
  });
  it("with keys, starts on a configured bundle only if it verifies", async () => {
    const dir = dataDir();
    const good = join(dir, "signed.tar.gz");
    writeFileSync(good, makeBundle({ revision: "cfg-signed", sign: true }));
    const a = await start({ dataDir: dir, keys, service: { bundlePath: good } });
    expect(a.service.revision).toBe("cfg-signed");
    const bad = join(dir, "unsigned.tar.gz");
    writeFileSync(bad, makeBundle({ revision: "cfg-unsigned" }));
    const b = await start({ dataDir: dataDir(), keys, service: { bundlePath: bad } });
    expect(b.service.revision).toBe("none");
    expect(b.status()).toMatchObject({ code: "bundle_error", errors: [{ code: "unsigned" }] });
  });
  it("hands the engines exactly what it verified (PAX names that other tar readers ignore)", async () => {
    const a = await start({ dataDir: dataDir(), keys });
    const files = readBundleArchive(makeBundle({ revision: "pax", sign: true }));
    const record = " path=policy.wasm\n";
    const paxBody = `${record.length + 3}${record}`;
    const entries = [...files].flatMap(([name, body]) =>
      name === "policy.wasm"
        ? [
            { name: "PaxHeader", type: "x", body: paxBody },
            { name: "ustar-name-ignored.bin", body: Buffer.from(body) },
          ]
        : [{ name, body: Buffer.from(body) }],
    );
    expect(readBundleArchive(gzipSync(rawTar(entries))).has("policy.wasm")).toBe(true);
    expect(await a.activate(gzipSync(rawTar(entries)), { kind: "push" })).toMatchObject({ revision: "pax" });
    expect((await a.service.decide(aliceReads)).revision).toBe("pax");
  });
});
