import { describe, expect, it } from "vitest";
import { MemoryEventStore } from "./event-store.js";
import { isAllowedHost, isAllowedOrigin, jsonDepthExceeds, readBounded, readRequestBody } from "./limits.js";
import { decodeCursor, paginate } from "./paginate.js";

describe("Host and Origin validation", () => {
  it("accepts loopback hosts with or without a port", () => {
    for (const h of ["localhost", "localhost:8787", "127.0.0.1:1", "[::1]:8080", "[::1]"])
      expect(isAllowedHost(h, [])).toBe(true);
  });
  it("refuses other hosts unless configured", () => {
    expect(isAllowedHost("evil.example:80", [])).toBe(false);
    expect(isAllowedHost(undefined, [])).toBe(false);
    expect(isAllowedHost("gw.internal:443", ["gw.internal"])).toBe(true);
  });
  it("accepts a missing or loopback Origin and refuses others", () => {
    expect(isAllowedOrigin(undefined, [])).toBe(true);
    expect(isAllowedOrigin("http://localhost:3000", [])).toBe(true);
    expect(isAllowedOrigin("https://127.0.0.1", [])).toBe(true);
    expect(isAllowedOrigin("http://evil.example", [])).toBe(false);
    expect(isAllowedOrigin("null", [])).toBe(false);
    expect(isAllowedOrigin("https://app.example", ["https://app.example"])).toBe(true);
  });
});

describe("JSON depth", () => {
  it("counts nesting outside strings only", () => {
    expect(jsonDepthExceeds("[[[1]]]", 3)).toBe(false);
    expect(jsonDepthExceeds("[[[[1]]]]", 3)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[\\"{{{{' }), 1)).toBe(false);
  });
});

describe("bounded body reads", () => {
  const stream = (s: string) => new Response(s).body;
  it("returns the text under the limit and undefined over it", async () => {
    expect(await readBounded(stream("hello"), 5)).toBe("hello");
    expect(await readBounded(stream("hello!"), 5)).toBeUndefined();
  });
  it("reads a request body with or without a declared length, within the bound only", async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      new Request("http://localhost/", { method: "POST", body, headers });
    expect(await readRequestBody(post("héllo", { "content-length": "6" }), 6)).toBe("héllo");
    expect(await readRequestBody(post("hello!", { "content-length": "6" }), 5)).toBeUndefined();
    expect(await readRequestBody(post("hello"), 5)).toBe("hello");
    expect(await readRequestBody(post("hello!"), 5)).toBeUndefined();
    expect(await readRequestBody(new Request("http://localhost/", { method: "POST" }), 5)).toBe("");
    // A declared length that understates the body does not get a larger body past the bound.
    expect(await readRequestBody(post("héllo!", { "content-length": "5" }), 6)).toBeUndefined();
    expect(await readRequestBody(post("hé", { "content-length": "3" }), 3)).toBe("hé");
  });
});

describe("pagination", () => {
  it("walks a list with opaque cursors", () => {
    const all = [1, 2, 3, 4, 5];
    const p1 = paginate(all, undefined, 2);
    expect(p1.items).toEqual([1, 2]);
    const p2 = paginate(all, p1.nextCursor, 2);
    const p3 = paginate(all, p2.nextCursor, 2);
    expect([...p2.items, ...p3.items]).toEqual([3, 4, 5]);
    expect(p3.nextCursor).toBeUndefined();
  });
  it("rejects a forged cursor with InvalidParams", () => {
    expect(() => decodeCursor("not-a-cursor")).toThrow(expect.objectContaining({ code: -32602 }));
  });
});

describe("MemoryEventStore", () => {
  it("replays only the events after the given id on the same stream", async () => {
    const store = new MemoryEventStore(10);
    const m = (n: number) => ({ jsonrpc: "2.0" as const, method: "notifications/message", params: { n } });
    const a1 = await store.storeEvent("_GET_stream", m(1));
    await store.storeEvent("other", m(2));
    await store.storeEvent("_GET_stream", m(3));
    const seen: unknown[] = [];
    const stream = await store.replayEventsAfter(a1, { send: async (_id, msg) => void seen.push(msg) });
    expect(stream).toBe("_GET_stream");
    expect(seen).toEqual([m(3)]);
  });
});
