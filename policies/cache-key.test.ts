/**
 * The decision cache key and evaluation text rendered together: the text is the whole input (as a
 * JSON value, member order aside), the key leaves out only `context.time` and `context.request_id`.
 */
import { describe, expect, it } from "vitest";
import type { PolicyInput } from "../contracts/index.js";
import { decisionCacheKey, decisionTexts } from "./cache-key.js";

const input = (over: Partial<Record<string, unknown>> = {}, context: Record<string, unknown> = {}) =>
  ({
    v: 1,
    action: "tools/call",
    principal: { id: "alice", roles: ["dev"], authenticated: true, via: "api_key" },
    target: { kind: "tool", name: "fs__read", server: "fs", changed: false },
    arguments: { path: "/etc/hosts", n: 3 },
    data_classes: [],
    context: { time: "2026-01-01T00:00:00Z", request_id: "r1", transport: "http", session: "s", ...context },
    ...over,
  }) as unknown as PolicyInput;

describe("decisionTexts", () => {
  it("renders exactly the input as the evaluation text", () => {
    const i = input();
    expect(JSON.parse(decisionTexts(i).text)).toEqual(JSON.parse(JSON.stringify(i)));
    const bare = { v: 1 } as unknown as PolicyInput;
    expect(decisionTexts(bare).text).toBe('{"v":1}');
    const onlyContext = { context: { time: "t", request_id: "r", x: 1 } } as unknown as PolicyInput;
    expect(JSON.parse(decisionTexts(onlyContext).text)).toEqual(onlyContext);
    expect(decisionTexts(onlyContext).key).toBe('{"context":{"x":1}}');
  });

  it("keys ignore the time and request id, and nothing else", () => {
    const a = decisionTexts(input({}, { time: "2026-02-02T00:00:00Z", request_id: "r2" }));
    expect(a.key).toBe(decisionTexts(input()).key);
    expect(a.text).not.toBe(decisionTexts(input()).text);
    expect(JSON.parse(a.key).context).toEqual({ transport: "http", session: "s" });
    expect(decisionCacheKey(input({ arguments: { path: "/etc/shadow", n: 3 } }))).not.toBe(
      decisionCacheKey(input()),
    );
    expect(decisionCacheKey(input({}, { session: "other" }))).not.toBe(decisionCacheKey(input()));
  });

  it("hashes long keys and keeps them distinct", () => {
    const big = (s: string) => decisionCacheKey(input({ arguments: { blob: s.repeat(2000) } }));
    expect(big("a")).toMatch(/^#[A-Za-z0-9+/]{43}=$/);
    expect(big("a")).not.toBe(big("b"));
  });

  it("serialises inputs without a context object as they are", () => {
    const odd = { v: 1, context: "text" } as unknown as PolicyInput;
    expect(decisionTexts(odd)).toEqual({ text: '{"v":1,"context":"text"}', key: '{"v":1,"context":"text"}' });
  });
});
