/**
 * Bundle signatures as OPA specifies them: `.signatures.json` = `{"signatures": [JWT]}`, the JWT
 * (header `alg`, `kid`, `typ`) carrying `files: [{name, hash, algorithm}]` for every other file
 * of the bundle plus optional `scope`, `iss`, `iat`. Signing and verification use `node:crypto`
 * (RSA PKCS#1 and PSS, ECDSA P-256/384/521 in JOSE's raw r||s form, HMAC). The algorithm is
 * always the configured key's, never the token's choice, so a token cannot downgrade an RSA key
 * to an HMAC secret. Verification requires the exact file set, every hash, and the scope.
 */
import {
  constants,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign as rawSign,
  verify as rawVerify,
  timingSafeEqual,
} from "node:crypto";
import { PortcullisError } from "../../gateway/errors.js";
import { bundleFileHash, type FileHashAlgorithm, isFileHashAlgorithm } from "./json-hash.js";

export const SIGNATURES_FILE = ".signatures.json";

export const SIGNING_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "HS256",
  "HS384",
  "HS512",
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export function isSigningAlgorithm(v: unknown): v is SigningAlgorithm {
  return typeof v === "string" && (SIGNING_ALGORITHMS as readonly string[]).includes(v);
}

/** A verification key as configured: PEM (public or private) for RS/PS/ES, the secret for HS. */
export interface VerificationKey {
  id: string;
  algorithm: SigningAlgorithm;
  key: string;
  /** Scope every bundle signed with this key must carry (a bundle-level scope overrides it). */
  scope?: string;
}

export interface SignOptions {
  /** PEM private key for RS/PS/ES, the shared secret for HS. */
  key: string;
  algorithm?: SigningAlgorithm;
  keyId?: string;
  scope?: string;
  issuer?: string;
  /** Seconds since the epoch; omitted unless given, so signing stays reproducible. */
  issuedAt?: number;
}

export interface FileHashEntry {
  name: string;
  hash: string;
  algorithm: FileHashAlgorithm;
}

/** What a successful verification established. */
export interface SignatureCheck {
  keyId: string;
  algorithm: SigningAlgorithm;
  scope?: string;
  issuer?: string;
  files: number;
}

export type SignatureRejection =
  | "unsigned"
  | "bad_signatures_file"
  | "unknown_key"
  | "algorithm_mismatch"
  | "bad_signature"
  | "scope_mismatch"
  | "file_mismatch"
  | "hash_mismatch";

function signatureError(reason: SignatureRejection, message: string): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, { details: { reason } });
}

const b64url = (b: Uint8Array | string) => Buffer.from(b).toString("base64url");
const digestOf = (alg: SigningAlgorithm) => `sha${alg.slice(2)}`;

function asymmetricOptions(alg: SigningAlgorithm, key: KeyObject) {
  if (alg.startsWith("PS"))
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (alg.startsWith("ES")) return { key, dsaEncoding: "ieee-p1363" as const };
  return { key, padding: constants.RSA_PKCS1_PADDING };
}

const CURVES: Record<string, string> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };

function checkKeyType(alg: SigningAlgorithm, key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const ok = alg.startsWith("ES")
    ? type === "ec" && key.asymmetricKeyDetails?.namedCurve === CURVES[alg]
    : type === "rsa" || (alg.startsWith("PS") && type === "rsa-pss");
  if (!ok) throw signatureError("algorithm_mismatch", `a ${type ?? "secret"} key cannot be used with ${alg}`);
}

function keyFor(alg: SigningAlgorithm, pem: string, kind: "private" | "public"): KeyObject {
  let key: KeyObject;
  try {
    key = kind === "private" ? createPrivateKey(pem) : createPublicKey(pem);
  } catch (e) {
    throw new PortcullisError(
      "GW_ERR_CONFIG",
      `cannot read the ${kind} key for ${alg}: ${(e as Error).message}`,
    );
  }
  checkKeyType(alg, key);
  return key;
}

/** The `files` list of a bundle: every file but `.signatures.json`, sorted by name. */
export function signatureFileList(files: Map<string, Uint8Array>): FileHashEntry[] {
  return [...files.entries()]
    .filter(([name]) => name !== SIGNATURES_FILE)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, bytes]) => ({ name, hash: bundleFileHash(name, bytes), algorithm: "SHA-256" as const }));
}

/** A compact JWS over `payload` with the given key. */
export function signJwt(payload: object, opts: SignOptions): string {
  const alg = opts.algorithm ?? "RS256";
  const header = { alg, kid: opts.keyId ?? "default", typ: "JWT" };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = alg.startsWith("HS")
    ? createHmac(digestOf(alg), opts.key).update(input).digest()
    : rawSign(digestOf(alg), Buffer.from(input), asymmetricOptions(alg, keyFor(alg, opts.key, "private")));
  return `${input}.${b64url(signature)}`;
}

/** The text of `.signatures.json` for these bundle files. */
export function createSignaturesFile(files: Map<string, Uint8Array>, opts: SignOptions): string {
  const payload: Record<string, unknown> = {
    files: signatureFileList(files),
    keyid: opts.keyId ?? "default",
  };
  if (opts.scope !== undefined) payload.scope = opts.scope;
  if (opts.issuer !== undefined) payload.iss = opts.issuer;
  if (opts.issuedAt !== undefined) payload.iat = opts.issuedAt;
  return `${JSON.stringify({ signatures: [signJwt(payload, opts)] }, null, 1)}\n`;
}

interface DecodedToken {
  header: { alg?: unknown; kid?: unknown };
  payload: { files?: unknown; scope?: unknown; keyid?: unknown; iss?: unknown };
  signingInput: string;
  signature: Buffer;
}

function decodeToken(files: Map<string, Uint8Array>): DecodedToken {
  const raw = files.get(SIGNATURES_FILE);
  if (!raw)
    throw signatureError("unsigned", "bundle is not signed (no .signatures.json) but keys are configured");
  let tokens: unknown;
  try {
    tokens = (JSON.parse(Buffer.from(raw).toString("utf8")) as { signatures?: unknown }).signatures;
  } catch {
    throw signatureError("bad_signatures_file", ".signatures.json is not JSON");
  }
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw signatureError("unsigned", ".signatures.json lists no signature");
  if (tokens.length > 1)
    throw signatureError("bad_signatures_file", "only one signature per bundle is supported");
  const parts = typeof tokens[0] === "string" ? tokens[0].split(".") : [];
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)))
    throw signatureError("bad_signatures_file", "the bundle signature is not a compact JWT");
  const [h, p, s] = parts as [string, string, string];
  try {
    return {
      header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")),
      payload: JSON.parse(Buffer.from(p, "base64url").toString("utf8")),
      signingInput: `${h}.${p}`,
      signature: Buffer.from(s, "base64url"),
    };
  } catch {
    throw signatureError("bad_signatures_file", "the bundle signature's header or payload is not JSON");
  }
}

/** The key id a bundle's signature names (header `kid`, else the payload's `keyid`), if signed. */
export function signatureKeyId(files: Map<string, Uint8Array>): string | undefined {
  if (!files.has(SIGNATURES_FILE)) return undefined;
  const { header, payload } = decodeToken(files);
  const kid = header.kid ?? payload.keyid;
  return typeof kid === "string" ? kid : undefined;
}

function signatureValid(alg: SigningAlgorithm, key: string, input: string, signature: Buffer): boolean {
  if (alg.startsWith("HS")) {
    const expected = createHmac(digestOf(alg), key).update(input).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  return rawVerify(
    digestOf(alg),
    Buffer.from(input),
    asymmetricOptions(alg, keyFor(alg, key, "public")),
    signature,
  );
}

function checkFiles(listed: unknown, files: Map<string, Uint8Array>): number {
  if (!Array.isArray(listed))
    throw signatureError("bad_signatures_file", "the signature carries no files list");
  const expected = new Map<string, { hash: string; algorithm: FileHashAlgorithm }>();
  for (const f of listed as Array<Partial<FileHashEntry>>) {
    if (!f || typeof f.name !== "string" || typeof f.hash !== "string")
      throw signatureError("bad_signatures_file", "a signed file entry lacks name or hash");
    const algorithm = f.algorithm ?? "SHA-256";
    if (!isFileHashAlgorithm(algorithm))
      throw signatureError("bad_signatures_file", `unsupported file hash algorithm ${String(algorithm)}`);
    const name = f.name.replace(/^\/+/, "");
    if (expected.has(name)) throw signatureError("bad_signatures_file", `${name} is listed twice`);
    expected.set(name, { hash: f.hash.toLowerCase(), algorithm });
  }
  const present = [...files.keys()].filter((n) => n !== SIGNATURES_FILE);
  const unsigned = present.filter((n) => !expected.has(n));
  if (unsigned.length > 0)
    throw signatureError("file_mismatch", `files not covered by the signature: ${unsigned.join(", ")}`);
  const missing = [...expected.keys()].filter((n) => !files.has(n));
  if (missing.length > 0)
    throw signatureError("file_mismatch", `signed files missing from the bundle: ${missing.join(", ")}`);
  for (const [name, want] of expected) {
    if (bundleFileHash(name, files.get(name) as Uint8Array, want.algorithm) !== want.hash)
      throw signatureError("hash_mismatch", `${name} does not match its signed hash (tampered?)`);
  }
  return expected.size;
}

/**
 * Verifies a bundle's signature against the configured keys. `scope` (the bundle's configured
 * scope) overrides the key's. Throws `GW_ERR_BUNDLE` with `details.reason` a
 * {@link SignatureRejection}; returns what was established otherwise.
 */
export function verifyBundleSignature(
  files: Map<string, Uint8Array>,
  keys: ReadonlyMap<string, VerificationKey>,
  opts: { scope?: string; keyId?: string } = {},
): SignatureCheck {
  const token = decodeToken(files);
  const kidRaw = token.header.kid ?? token.payload.keyid ?? opts.keyId;
  const kid = typeof kidRaw === "string" ? kidRaw : undefined;
  const key = kid === undefined ? undefined : keys.get(kid);
  if (!key || kid === undefined)
    throw signatureError(
      "unknown_key",
      `the bundle is signed with key '${kid ?? "(none)"}', which is not configured`,
    );
  if (token.header.alg !== key.algorithm)
    throw signatureError(
      "algorithm_mismatch",
      `the signature uses ${String(token.header.alg)} but key '${kid}' is configured for ${key.algorithm}`,
    );
  if (!signatureValid(key.algorithm, key.key, token.signingInput, token.signature))
    throw signatureError("bad_signature", `the bundle signature does not verify with key '${kid}'`);
  const scope = opts.scope ?? key.scope;
  const signedScope = typeof token.payload.scope === "string" ? token.payload.scope : undefined;
  if (scope !== undefined && signedScope !== scope)
    throw signatureError(
      "scope_mismatch",
      `the bundle is signed for scope '${signedScope ?? "(none)"}' but scope '${scope}' is required`,
    );
  const count = checkFiles(token.payload.files, files);
  return {
    keyId: kid,
    algorithm: key.algorithm,
    ...(signedScope === undefined ? {} : { scope: signedScope }),
    ...(typeof token.payload.iss === "string" ? { issuer: token.payload.iss } : {}),
    files: count,
  };
}
