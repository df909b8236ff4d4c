import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PortcullisError } from "../../gateway/errors.js";
import { opaInstalled, opaPath } from "../../scripts/toolchain.mjs";
import { readBundleArchive, writeBundleArchive } from "./archive.js";
import { rejectionReason } from "./fixtures/bundles.js";
import { bundleFileHash, canonicalJsonText } from "./json-hash.js";
import {
  createSignaturesFile,
  SIGNATURES_FILE,
  type SigningAlgorithm,
  type VerificationKey,
  verifyBundleSignature,
} from "./signing.js";

const scratch = mkdtempSync(join(tmpdir(), "portcullis-signing-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const pem = {
  rsaPrivate: rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  rsaPublic: rsa.publicKey.export({ type: "spki", format: "pem" }).toString(),
  ecPrivate: ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  ecPublic: ec.publicKey.export({ type: "spki", format: "pem" }).toString(),
};

function sampleFiles(): Map<string, Uint8Array> {
  return new Map<string, Uint8Array>([
    [".manifest", Buffer.from('{"revision":"r1","roots":[""]}')],
    ["data.json", Buffer.from('{"b":{"z":1.50,"a":"<&>é"},"a":[1,2e3]}')],
    ["policy.wasm", Buffer.from([0, 97, 115, 109, 1, 0, 0, 0])],
  ]);
}

function signed(alg: SigningAlgorithm, key: string, extra: { scope?: string; keyId?: string } = {}) {
  const files = sampleFiles();
  files.set(SIGNATURES_FILE, Buffer.from(createSignaturesFile(files, { key, algorithm: alg, ...extra })));
  return files;
}

const keys = (k: VerificationKey) => new Map([[k.id, k]]);

describe("structured file hashes", () => {
  it("sorts keys, drops whitespace and keeps number literals and raw characters", () => {
    expect(canonicalJsonText('{ "b": {"z": 1.50, "a": "\\u003c&>"}, "a": [1, 2e3] }')).toBe(
      '{"a":[1,2e3],"b":{"a":"<&>","z":1.50}}',
    );
    expect(canonicalJsonText('"\\u2028\\n\\u0001"')).toBe('"\\u2028\\n\\u0001"');
    expect(() => canonicalJsonText('{"a":1,}')).toThrow(PortcullisError);
    expect(() => canonicalJsonText("[1] x")).toThrow(PortcullisError);
  });

  it("hashes .manifest and *.json structurally and other files as bytes", () => {
    expect(bundleFileHash("data.json", Buffer.from('{"a":1}'))).toBe(
      bundleFileHash("data.json", Buffer.from('{\n  "a": 1\n}\n')),
    );
    expect(bundleFileHash("x.rego", Buffer.from("a"))).not.toBe(bundleFileHash("x.rego", Buffer.from("a\n")));
  });
});

describe.each([
  ["RS256", pem.rsaPrivate, pem.rsaPublic],
  ["PS256", pem.rsaPrivate, pem.rsaPublic],
  ["ES256", pem.ecPrivate, pem.ecPublic],
  ["HS256", "a-shared-secret", "a-shared-secret"],
] as const)("%s signatures", (alg, signKey, verifyKey) => {
  const key: VerificationKey = { id: "default", algorithm: alg, key: verifyKey };

  it("verify, and fail on tampering, extra or missing files", () => {
    expect(verifyBundleSignature(signed(alg, signKey), keys(key))).toMatchObject({
      keyId: "default",
      files: 3,
    });
    const tampered = signed(alg, signKey);
    tampered.set("data.json", Buffer.from('{"a":[1,2e3],"b":{"a":"<&>é","z":1.5}}'));
    expect(rejectionReason(() => verifyBundleSignature(tampered, keys(key)))).toBe("hash_mismatch");
    const extra = signed(alg, signKey);
    extra.set("x.rego", Buffer.from("package x"));
    expect(rejectionReason(() => verifyBundleSignature(extra, keys(key)))).toBe("file_mismatch");
    const missing = signed(alg, signKey);
    missing.delete("policy.wasm");
    expect(rejectionReason(() => verifyBundleSignature(missing, keys(key)))).toBe("file_mismatch");
  });
});

describe("signature policy", () => {
  const rs: VerificationKey = { id: "prod", algorithm: "RS256", key: pem.rsaPublic };

  it("rejects unsigned bundles, unknown keys, wrong keys and algorithm confusion", () => {
    expect(rejectionReason(() => verifyBundleSignature(sampleFiles(), keys(rs)))).toBe("unsigned");
    expect(rejectionReason(() => verifyBundleSignature(signed("RS256", pem.rsaPrivate), keys(rs)))).toBe(
      "unknown_key",
    );
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    const forged = signed("RS256", other.toString(), { keyId: "prod" });
    expect(rejectionReason(() => verifyBundleSignature(forged, keys(rs)))).toBe("bad_signature");
    // An HMAC token keyed with the public key text must not pass as an RSA signature.
    const confused = signed("HS256", pem.rsaPublic, { keyId: "prod" });
    expect(rejectionReason(() => verifyBundleSignature(confused, keys(rs)))).toBe("algorithm_mismatch");
  });

  it("enforces the configured scope", () => {
    const scoped = signed("RS256", pem.rsaPrivate, { keyId: "prod", scope: "read" });
    expect(verifyBundleSignature(scoped, keys(rs), { scope: "read" }).scope).toBe("read");
    expect(rejectionReason(() => verifyBundleSignature(scoped, keys(rs), { scope: "write" }))).toBe(
      "scope_mismatch",
    );
    const unscoped = signed("RS256", pem.rsaPrivate, { keyId: "prod" });
    expect(rejectionReason(() => verifyBundleSignature(unscoped, keys({ ...rs, scope: "read" })))).toBe(
      "scope_mismatch",
    );
  });
});

describe.skipIf(!opaInstalled())("interoperability with the pinned opa", () => {
  const opa = (args: string[]) => spawnSync(opaPath(), args, { encoding: "utf8", timeout: 60_000 });
  const priv = join(scratch, "priv.pem");
  const pub = join(scratch, "pub.pem");
  writeFileSync(priv, pem.rsaPrivate);
  writeFileSync(pub, pem.rsaPublic);

  it("verifies a bundle opa signed, and opa verifies a bundle we signed", () => {
    const src = join(scratch, "src");
    cpSync(join(import.meta.dirname, "../../rego/portcullis"), join(src, "portcullis"), { recursive: true });
    writeFileSync(join(src, "data.json"), '{"extra":{"z":1.50,"a":"<&>é\\u2028","n":[1,2e3,-0.0]}}');
    writeFileSync(join(src, "p.rego"), "package p\n\nallow if input.x == 1\n");
    const byOpa = join(scratch, "by-opa.tar.gz");
    const r = opa(["build", "-b", src, "--signing-key", priv, "-r", "opa-1", "-o", byOpa]);
    expect(r.status, r.stderr).toBe(0);
    const files = readBundleArchive(readFileSync(byOpa));
    const key: VerificationKey = { id: "default", algorithm: "RS256", key: pem.rsaPublic };
    expect(verifyBundleSignature(files, keys(key)).files).toBe(files.size - 1);

    files.delete(SIGNATURES_FILE);
    files.set(
      SIGNATURES_FILE,
      Buffer.from(createSignaturesFile(files, { key: pem.rsaPrivate, scope: "s1" })),
    );
    const ours = join(scratch, "ours.tar.gz");
    writeFileSync(ours, writeBundleArchive(files));
    const ok = opa([
      "build",
      "-b",
      ours,
      "--verification-key",
      pub,
      "--scope",
      "s1",
      "-o",
      join(scratch, "o.tar.gz"),
    ]);
    expect(ok.status, ok.stderr).toBe(0);
    const rego = [...files.keys()].find((n) => n.endsWith("p.rego")) as string;
    files.set(rego, Buffer.from("package p\n\nallow := true\n"));
    writeFileSync(ours, writeBundleArchive(files));
    const bad = opa([
      "build",
      "-b",
      ours,
      "--verification-key",
      pub,
      "--scope",
      "s1",
      "-o",
      join(scratch, "o.tar.gz"),
    ]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr + bad.stdout).toMatch(/digest mismatch|hash/i);
  });
});
