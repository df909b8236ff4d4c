/**
 * The decide stage's hashes: `args_digest` is the digest of the arguments, and `context_hash` the
 * digest of the policy input the service saw with `arguments` replaced by that digest, so it
 * changes with any argument, principal, target or context fact and never re-hashes the arguments.
 */
import { describe, expect, it } from "vitest";
import { isCanonicallyOrdered } from "../../native/fallback/canonical.js";
import { digest } from "../../native/index.js";
import type { CallContext, Decision, PolicyInputDoc } from "./context.js";
import { contextHash, decide, decideSafely, policyInput } from "./decide.js";

function call(args: Record<string, unknown>, id = "req-1"): CallContext {
  return {
    id,
    action: "tools/call",
    name: "files__write",
    arguments: args,
    credentials: { kind: "stdio" },
    transport: "stdio",
    signal: new AbortController().signal,
    startedAt: 0,
    principal: { id: "local", roles: ["owner"], authenticated: true, via: "stdio" },
    target: { kind: "tool", name: "files__write", server: "files", definition_hash: "0".repeat(64) },
  };
}

async function decided(ctx: CallContext): Promise<PolicyInputDoc> {
  const seen: PolicyInputDoc[] = [];
  const allow: Decision = { decision: "allow", reasons: [] };
  const stage = decide({
    decisions: {
      decide: async (input) => {
        seen.push(input);
        return allow;
      },
    },
    now: () => new Date("2026-11-24T12:00:00.000Z"),
  });
  await stage(ctx, async () => {});
  return seen[0]!;
}

describe("decide stage hashes", () => {
  it("stores the args digest and the context hash of the input the policy saw", async () => {
    const args = { path: "a.txt", content: "x".repeat(10_000) };
    const ctx = call(args);
    const input = await decided(ctx);
    expect(ctx.argsDigest).toBe(digest(args));
    expect(input.arguments).toEqual(args);
    expect(ctx.inputHash).toBe(contextHash(input, digest(args)));
    expect(ctx.inputHash).toBe(digest({ ...input, arguments: digest(args) }));
    expect(ctx.inputHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("equals the digest of the input with its arguments' digest, with and without session and findings", () => {
    const base = {
      v: 1 as const,
      action: "tools/call" as const,
      arguments: { path: "a.txt" },
      context: { request_id: "req-\u2028", time: "2026-11-25T00:00:00.000Z", transport: "stdio" as const },
      data_classes: [] as string[],
      principal: { authenticated: true, id: 'al"ice', roles: ["dev"], via: "stdio" },
      target: { changed: false, kind: "tool", name: "echo", server: "up" },
    } as unknown as PolicyInputDoc;
    const variants = [
      base,
      { ...base, context: { ...base.context, session: "s-1" } },
      {
        ...base,
        data_classes: ["email"],
        findings: [{ class: "email", detector: "email_address", path: "/to" }],
      },
    ] as PolicyInputDoc[];
    for (const input of variants) {
      const d = digest(input.arguments);
      expect(contextHash(input, d)).toBe(digest({ ...input, arguments: d }));
    }
  });

  it("changes with the arguments and with the context, and is stable otherwise", async () => {
    const a = call({ path: "a.txt" });
    const b = call({ path: "a.txt" });
    const other = call({ path: "b.txt" });
    const later = call({ path: "a.txt" }, "req-2");
    for (const c of [a, b, other, later]) await decided(c);
    expect(a.inputHash).toBe(b.inputHash);
    expect(other.inputHash).not.toBe(a.inputHash);
    expect(later.inputHash).not.toBe(a.inputHash);
  });

  it("builds the input in canonical member order, with findings when the sanitizer reports some", () => {
    const ctx = call({ token: "x" });
    ctx.principal = { authenticated: true, id: "local", roles: ["owner"], via: "stdio" };
    ctx.target = { changed: false, definition_hash: "0".repeat(64), kind: "tool", name: "t", server: "s" };
    ctx.session = "s-1";
    const now = new Date("2026-11-24T12:00:00.000Z");
    const plain = policyInput(ctx, () => [], now);
    expect(isCanonicallyOrdered(plain)).toBe(true);
    expect(plain).toEqual({
      action: "tools/call",
      arguments: { token: "x" },
      context: { request_id: "req-1", session: "s-1", time: now.toISOString(), transport: "stdio" },
      data_classes: [],
      principal: ctx.principal,
      target: ctx.target,
      v: 1,
    });
    const found = policyInput(
      ctx,
      () => [
        { class: "secret", detector: "generic", path: "token" },
        { class: "pii", detector: "email" },
        { class: "secret", detector: "aws" },
      ],
      now,
    );
    expect(isCanonicallyOrdered(found)).toBe(true);
    expect(found.data_classes).toEqual(["pii", "secret"]);
    expect(found.findings).toEqual([
      { class: "secret", detector: "generic", path: "token" },
      { class: "pii", detector: "email", path: "" },
      { class: "secret", detector: "aws", path: "" },
    ]);
  });
});

describe("decideSafely", () => {
  const input = {} as PolicyInputDoc;
  it("fails closed with POLICY_ERROR when the service throws or rejects", async () => {
    const thrown = await decideSafely(
      {
        decide: () => {
          throw new Error("boom");
        },
      },
      input,
    );
    const rejected = await decideSafely({ decide: () => Promise.reject(new Error("gone")) }, input);
    for (const [d, why] of [
      [thrown, "boom"],
      [rejected, "gone"],
    ] as const) {
      expect(d.decision).toBe("deny");
      expect(d.reasons).toEqual([{ code: "POLICY_ERROR", message: `the policy could not decide: ${why}` }]);
    }
    const allow: Decision = { decision: "allow", reasons: [] };
    expect(await decideSafely({ decide: async () => allow }, input)).toBe(allow);
  });
});
