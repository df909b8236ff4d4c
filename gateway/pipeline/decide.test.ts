/**
 * The decide stage's hashes: `args_digest` is the digest of the arguments, and `context_hash` the
 * digest of the policy input the service saw with `arguments` replaced by that digest, so it
 * changes with any argument, principal, target or context fact and never re-hashes the arguments.
 */
import { describe, expect, it } from "vitest";
import { digest } from "../../native/index.js";
import type { CallContext, Decision, PolicyInputDoc } from "./context.js";
import { contextHash, decide } from "./decide.js";

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
});
