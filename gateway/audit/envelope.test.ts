/**
 * sealRecord builds the record with its members in canonical order, so a record whose nested
 * values are ordered too is canonicalised by one JSON.stringify; the line is that text plus the
 * hash, and checkLine recomputes the same hash. Members outside the contract (untyped callers)
 * and a stray `hash` are handled as before: sealed, respectively dropped.
 */
import { describe, expect, it } from "vitest";
import { randomJson } from "../../conformance/native/random-json.js";
import { isCanonicallyOrdered, canonicalize as tsCanonicalize } from "../../native/fallback/canonical.js";
import { canonicalize, sha256Hex } from "../../native/index.js";
import { intern } from "../canonical-fragments.js";
import { seededRandom } from "../random.js";
import { type AuditEntry, checkLine, GENESIS_HASH, sealRecord } from "./envelope.js";

const entry = {
  v: 1,
  id: "call-1",
  kind: "decision",
  principal: { authenticated: true, id: "local", roles: ["user"], via: "stdio" },
  session: "s-1",
  target: { changed: false, definition_hash: "a".repeat(64), kind: "tool", name: "echo", server: "up" },
  args_digest: "b".repeat(64),
  args_redacted: { message: "hi" },
  decision: "allow",
  reasons: [{ code: "ALLOWED", message: "ok" }],
  context_hash: "c".repeat(64),
} as AuditEntry;

describe("sealRecord", () => {
  it("orders the members canonically and seals the one text it writes", () => {
    const { envelope, line } = sealRecord(entry, 7, "2026-01-01T00:00:00.000Z", GENESIS_HASH);
    const { hash, ...content } = envelope;
    expect(isCanonicallyOrdered(content)).toBe(true);
    expect(line).toBe(`${JSON.stringify(content).slice(0, -1)},"hash":"${hash}"}`);
    expect(hash).toBe(sha256Hex(canonicalize(content)));
    expect(content).toMatchObject({ v: 1, seq: 7, prev_hash: GENESIS_HASH, ts: "2026-01-01T00:00:00.000Z" });
    const checked = checkLine(line);
    expect(checked.ok).toBe(true);
  });

  it("seals members outside the contract and drops a stray hash", () => {
    const odd = {
      ...entry,
      zeta: { b: 1, a: 2 },
      constructor: "kept",
      hash: "f".repeat(64),
      seq: 99,
    } as unknown as AuditEntry;
    const { envelope, line } = sealRecord(odd, 3, "2026-01-01T00:00:00.000Z", "d".repeat(64));
    expect(envelope.seq).toBe(3); // the chain's seq, not the caller's
    expect(line).toContain('"zeta":{"a":2,"b":1}');
    expect(line).toContain('"constructor":"kept"'); // a name Object.prototype also has
    expect(line.match(/"hash"/g)?.length).toBe(1);
    const { hash, ...content } = envelope;
    expect(hash).not.toBe("f".repeat(64));
    expect(hash).toBe(sha256Hex(canonicalize(content)));
    expect(checkLine(line).ok).toBe(true);
  });

  it("gives the same hash whatever order the caller's members come in", () => {
    const shuffled = Object.fromEntries(Object.entries(entry).reverse()) as AuditEntry;
    const a = sealRecord(entry, 1, "2026-01-01T00:00:00.000Z", GENESIS_HASH);
    const b = sealRecord(
      {
        ...shuffled,
        principal: { via: "stdio", roles: ["user"], id: "local", authenticated: true },
      } as AuditEntry,
      1,
      "2026-01-01T00:00:00.000Z",
      GENESIS_HASH,
    );
    expect(b.line).toBe(a.line);
  });
});

describe("sealRecord against the general canonicalisation", () => {
  it("writes the canonical text of 5,000 seeded entries, members in any order, some interned", () => {
    const rnd = seededRandom(20261125);
    const names = Object.keys(entry).concat([
      "outcome",
      "timings",
      "policy_hash",
      "policy_revision",
      "v",
      "seq",
    ]);
    for (let i = 0; i < 5_000; i++) {
      const e: Record<string, unknown> = {};
      for (const name of [...names].sort(() => rnd() - 0.5)) {
        if (rnd() < 0.25) continue;
        const v = rnd() < 0.1 ? undefined : randomJson(rnd, 1);
        e[name] = v !== null && typeof v === "object" && rnd() < 0.5 ? intern(v) : v;
      }
      const prev = rnd() < 0.5 ? GENESIS_HASH : "e".repeat(64);
      const { envelope, line } = sealRecord(e as AuditEntry, i + 1, "2026-11-25T00:00:00.000Z", prev);
      const { hash, ...content } = envelope;
      const expected = tsCanonicalize(content);
      expect(line).toBe(`${expected.slice(0, -1)},"hash":"${hash}"}`);
      expect(hash).toBe(sha256Hex(expected));
      // The envelope's own members in canonical order (nested values are kept as given).
      const keys = Object.keys(content);
      expect(keys).toEqual([...keys].sort());
    }
  });

  it("refuses a non-finite number as the general path does", () => {
    const bad = { ...entry, timings: { total_ms: Number.NaN } } as AuditEntry;
    expect(() => sealRecord(bad, 1, "2026-11-25T00:00:00.000Z", GENESIS_HASH)).toThrow(/cannot represent/);
  });
});
