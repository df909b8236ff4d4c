/**
 * The decision cache matches an input only when the policy could not tell it from the stored one:
 * without a projection everything but `context.time` and `context.request_id` counts, with one
 * only the members its shape keeps; member order included, and inputs whose compared parts are
 * not plain JSON data are never cached.
 */
import { describe, expect, it } from "vitest";
import type { PolicyDecision, PolicyInput } from "../contracts/index.js";
import { BUCKET, DecisionCache } from "./decision-cache.js";
import { InputProjector, parseInputProjection } from "./projection.js";

const input = (over: Partial<Record<string, unknown>> = {}, context: Record<string, unknown> = {}) =>
  ({
    v: 1,
    action: "tools/call",
    principal: { id: "alice", roles: ["dev"], authenticated: true, via: "api_key" },
    target: {
      kind: "tool",
      name: "fs__read",
      server: "fs",
      changed: false,
      annotations: { readOnlyHint: true },
    },
    arguments: { path: "/etc/hosts", n: 3, deep: { list: [1, "two", null, { x: false }] } },
    data_classes: [],
    context: { time: "2026-01-01T00:00:00Z", request_id: "r1", transport: "http", session: "s", ...context },
    ...over,
  }) as unknown as PolicyInput;

const decision = (code: string): PolicyDecision =>
  ({
    v: 1,
    decision: "allow",
    reasons: [{ code, message: code }],
    obligations: {},
    cacheable: true,
  }) as PolicyDecision;

function cacheWith(i: PolicyInput): DecisionCache {
  const cache = new DecisionCache(100);
  expect(cache.set(i, decision("A"))).toBe(true);
  return cache;
}

describe("DecisionCache", () => {
  it("hits for an equal input (a fresh copy too), ignoring only time and request id", () => {
    const cache = cacheWith(input());
    expect(cache.get(input())?.reasons[0]?.code).toBe("A");
    expect(cache.get(JSON.parse(JSON.stringify(input())))?.reasons[0]?.code).toBe("A");
    expect(cache.get(input({}, { time: "2027-05-05T00:00:00Z", request_id: "other" }))).toBeDefined();
    const { time: _t, request_id: _r, ...bare } = input().context as Record<string, unknown>;
    expect(cache.get(input({ context: bare }))).toBeDefined();
  });

  it("misses on any other difference", () => {
    const cache = cacheWith(input());
    const base = input() as unknown as Record<string, unknown>;
    const misses: unknown[] = [
      input({ arguments: { path: "/etc/shadow", n: 3, deep: { list: [1, "two", null, { x: false }] } } }),
      input({ arguments: { path: "/etc/hosts", n: 3, deep: { list: [1, "two", null, { x: true }] } } }),
      input({ arguments: { path: "/etc/hosts", n: "3", deep: { list: [1, "two", null, { x: false }] } } }),
      input({ arguments: { n: 3, path: "/etc/hosts", deep: { list: [1, "two", null, { x: false }] } } }),
      input({ arguments: { path: "/etc/hosts", n: 3, deep: { list: [1, "two", null] } } }),
      input({
        arguments: { path: "/etc/hosts", n: 3, deep: { list: [1, "two", null, { x: false }] }, y: 1 },
      }),
      input({ data_classes: ["secret"] }),
      input({ extra: true }),
      input({}, { session: "other" }),
      input({}, { transport: "stdio" }),
      input({}, { time_zone: "UTC" }),
      input({ principal: { id: "alice", roles: ["dev"], authenticated: false, via: "api_key" } }),
      input({ target: { kind: "tool", name: "fs__read", server: "fs", changed: true } }),
      { ...base, context: "text" },
      { ...base, v: undefined },
    ];
    for (const m of misses) expect(cache.get(m as PolicyInput)).toBeUndefined();
  });

  it("never caches inputs that are not plain JSON data", () => {
    class Args {
      path = "/etc/hosts";
    }
    const odd: unknown[] = [
      input({ arguments: { when: new Date(0) } }),
      input({ arguments: new Args() }),
      input({ arguments: { f: undefined } }),
      input({ arguments: { n: Number.NaN } }),
      input({ arguments: { n: 10n } }),
      input({ arguments: { toJSON: () => ({}) } }),
      input({ arguments: Object.assign([1], { toJSON: () => [2] }) }),
      input({ arguments: { list: new Array<number>(2) } }), // holes render as null
      null,
      "text",
    ];
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = { d: deep };
    odd.push(input({ arguments: deep }));
    const cache = new DecisionCache(100);
    for (const o of odd) {
      expect(cache.set(o as PolicyInput, decision("A"))).toBe(false);
      expect(cache.get(o as PolicyInput)).toBeUndefined();
    }
    expect(cache.size).toBe(0);
  });

  it("a Date never matches a stored plain value, nor an array-like object an array", () => {
    const cache = cacheWith(input({ arguments: { when: {} } }));
    expect(cache.get(input({ arguments: { when: new Date(0) } }))).toBeUndefined();
    const arrays = cacheWith(input({ data_classes: ["a"] }));
    expect(arrays.get(input({ data_classes: { 0: "a", length: 1 } }))).toBeUndefined();
    expect(arrays.get(input({ data_classes: ["a"] }))).toBeDefined();
  });

  it("stores a copy: changing the caller's object afterwards does not change what matches", () => {
    const i = input();
    const cache = cacheWith(i);
    (i.arguments as Record<string, unknown>).path = "/etc/shadow";
    expect(cache.get(i)).toBeUndefined();
    expect(cache.get(input())).toBeDefined();
  });

  it("an inherited toJSON (a polluted prototype) turns every lookup into a miss", () => {
    const cache = cacheWith(input());
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto.toJSON = () => "x";
    try {
      expect(cache.get(input())).toBeUndefined();
    } finally {
      delete proto.toJSON;
    }
    expect(cache.get(input())).toBeDefined();
  });

  it("keeps the newest entries of a bucket and bounds the total", () => {
    const cache = new DecisionCache(100);
    const args = (n: number) => input({ arguments: { n } });
    for (let n = 0; n <= BUCKET; n++) cache.set(args(n), decision(`D${n}`));
    expect(cache.get(args(0))).toBeUndefined();
    for (let n = 1; n <= BUCKET; n++) expect(cache.get(args(n))?.reasons[0]?.code).toBe(`D${n}`);
    cache.set(args(2), decision("again"));
    expect(cache.get(args(2))?.reasons[0]?.code).toBe("again");
    expect(cache.size).toBe(BUCKET);

    const small = new DecisionCache(3);
    for (let n = 0; n < 10; n++) small.set(input({ target: { kind: "tool", name: `t${n}` } }), decision("A"));
    expect(small.size).toBeLessThanOrEqual(3);
    expect(small.get(input({ target: { kind: "tool", name: "t9" } }))).toBeDefined();
    expect(small.get(input({ target: { kind: "tool", name: "t0" } }))).toBeUndefined();
  });

  it("a bucket the LRU dropped is gone from the lookup and can be stored again", () => {
    const cache = new DecisionCache(2);
    const tool = (name: string) => input({ target: { kind: "tool", name } });
    cache.set(tool("a"), decision("A"));
    cache.set(tool("b"), decision("B"));
    expect(cache.get(tool("a"))?.reasons[0]?.code).toBe("A"); // a is now the most recent
    cache.set(tool("c"), decision("C")); // evicts b, the least recently used
    expect(cache.get(tool("b"))).toBeUndefined();
    expect(cache.get(tool("a"))?.reasons[0]?.code).toBe("A");
    expect(cache.get(tool("c"))?.reasons[0]?.code).toBe("C");
    cache.set(tool("b"), decision("B2"));
    expect(cache.get(tool("b"))?.reasons[0]?.code).toBe("B2");
    expect(cache.size).toBe(2);
  });

  it("a cache smaller than a bucket keeps its newest entries and never answers a dropped one", () => {
    const cache = new DecisionCache(1);
    const args = (n: number) => input({ arguments: { n } });
    for (let n = 0; n < 3; n++) cache.set(args(n), decision(`D${n}`));
    expect(cache.size).toBeLessThanOrEqual(1);
    expect(cache.get(args(0))).toBeUndefined();
    expect(cache.get(args(1))).toBeUndefined();
  });

  it("inputs without string action, principal id or target name share one bucket and still compare", () => {
    const cache = new DecisionCache(10);
    const a = input({ action: 7, principal: {}, target: { name: 1 } });
    const b = input({ action: 8, principal: {}, target: { name: 1 } });
    cache.set(a, decision("A"));
    expect(cache.get(a)?.reasons[0]?.code).toBe("A");
    expect(cache.get(b)).toBeUndefined();
  });
});

describe("DecisionCache with a projection shape", () => {
  const projector = new InputProjector(
    parseInputProjection({
      keep: {
        v: true,
        action: true,
        principal: { id: true, authenticated: true },
        target: { name: true, annotations: true },
        data_classes: true,
        context: { transport: true },
      },
      by_action: { "approvals/resolve": { arguments: { granted: true } } },
    }),
  );
  const cacheFor = (i: PolicyInput) => {
    const cache = new DecisionCache(100);
    expect(cache.set(i, decision("A"), projector.shapeOf(i))).toBe(true);
    return cache;
  };
  const get = (cache: DecisionCache, i: unknown) => cache.get(i as PolicyInput, projector.shapeOf(i));

  it("hits whenever the projected text is the same, whatever the dropped members hold", () => {
    const cache = cacheFor(input());
    const same: unknown[] = [
      input(),
      JSON.parse(JSON.stringify(input())),
      input({ arguments: { anything: [1, 2, 3] } }),
      input({ arguments: { n: 10n, when: new Date(0) } }), // never serialised: not kept
      input({}, { time: "later", request_id: "other", session: "s2" }),
      input({ findings: [{ class: "email" }] }),
      input({ principal: { id: "alice", roles: ["root"], authenticated: true, via: "jwt" } }),
    ];
    for (const i of same) {
      expect(projector.text(i)).toBe(projector.text(input()));
      expect(get(cache, i)?.reasons[0]?.code).toBe("A");
    }
  });

  it("misses whenever the projected text differs", () => {
    const cache = cacheFor(input());
    const base = input() as unknown as Record<string, unknown>;
    const { v: _v, ...withoutV } = base;
    const misses: unknown[] = [
      input({ data_classes: ["secret"] }),
      input({ principal: { id: "alice", authenticated: false } }),
      input({ principal: { authenticated: true, id: "alice" } }), // member order
      input({ target: { name: "fs__read", annotations: { readOnlyHint: true, x: 1 } } }),
      input({ target: { name: "fs__read", annotations: [] } }),
      input({ target: { name: "fs__write", annotations: { readOnlyHint: true } } }),
      input({ target: ["fs__read"] }),
      input({}, { transport: "stdio" }),
      { ...base, context: "text" },
      { ...base, v: 1.5 },
      { ...withoutV, v: 1 }, // v moved to the end
      withoutV,
      input({ action: "approvals/resolve" }),
    ];
    for (const m of misses) {
      expect(projector.text(m)).not.toBe(projector.text(input()));
      expect(get(cache, m)).toBeUndefined();
    }
  });

  it("dropped members may come and go, in any order, around the kept ones", () => {
    const stored = { extra: 1, v: 1, action: "tools/call", more: [2], context: { transport: "http" } };
    const cache = cacheFor(stored as unknown as PolicyInput);
    const variants: [unknown, boolean][] = [
      [{ v: 1, extra: 1, action: "tools/call", context: { transport: "http", time: "t" } }, true],
      [{ other: 0, extra: 1, v: 1, action: "tools/call", context: { transport: "http" } }, true],
      [{ extra: 1, v: 1, more: 3, action: "tools/call", context: { session: "s", transport: "http" } }, true],
      [{ extra: 1, action: "tools/call", v: 1, context: { transport: "http" } }, false],
      [{ extra: 1, v: 1, action: "tools/call", context: { transport: "http" }, toJSON: () => ({}) }, false],
      [
        { extra: 1, v: 1, action: "tools/call", more: [2], context: { transport: "http" }, data_classes: [] },
        false,
      ],
      [{ extra: 1, v: 1, action: "tools/call", more: [2] }, false],
    ];
    for (const [input, hit] of variants) {
      expect(get(cache, input) !== undefined, JSON.stringify(input)).toBe(hit);
      expect(projector.text(input) === projector.text(stored), JSON.stringify(input)).toBe(hit);
    }
  });

  it("a hit exactly when the projected text is the same, on seeded variants of names and values", () => {
    // Variants of one stored object: members reordered, removed, added (kept or dropped names),
    // values changed, nested objects likewise; the lookup must agree with the projected text.
    let seed = 0x5eed;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const names = ["v", "action", "principal", "target", "data_classes", "context", "arguments", "extra"];
    const vary = (o: Record<string, unknown>, depth: number): Record<string, unknown> => {
      const entries = Object.entries(o);
      const op = rnd(8);
      if (op === 0 && entries.length > 1) {
        const i = rnd(entries.length - 1);
        [entries[i], entries[i + 1]] = [entries[i + 1] as [string, unknown], entries[i] as [string, unknown]];
      } else if (op === 1 && entries.length > 0) entries.splice(rnd(entries.length), 1);
      else if (op === 2)
        entries.splice(rnd(entries.length + 1), 0, [names[rnd(names.length)] as string, rnd(3)]);
      else if (op === 3 && entries.length > 0) {
        const i = rnd(entries.length);
        entries[i] = [(entries[i] as [string, unknown])[0], rnd(2) === 0 ? "changed" : 1];
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of entries) {
        const nested = v !== null && typeof v === "object" && !Array.isArray(v) && depth < 2 && rnd(2) === 0;
        out[k] = nested ? vary(v as Record<string, unknown>, depth + 1) : v;
      }
      return out;
    };
    const stored = input() as unknown as Record<string, unknown>;
    const cache = cacheFor(stored as unknown as PolicyInput);
    const want = projector.text(stored);
    let hits = 0;
    let misses = 0;
    for (let n = 0; n < 3000; n++) {
      const v = vary(JSON.parse(JSON.stringify(stored)) as Record<string, unknown>, 0);
      const same = projector.text(v) === want;
      expect(get(cache, v) !== undefined, JSON.stringify(v)).toBe(same);
      if (same) hits++;
      else misses++;
    }
    expect(hits).toBeGreaterThan(300);
    expect(misses).toBeGreaterThan(300);
  });

  it("names that match the stored ones for a while, then differ, are judged from the start", () => {
    const stored = { v: 1, extra: 1, action: "tools/call", context: { transport: "http" } };
    const cache = cacheFor(stored as unknown as PolicyInput);
    const cases: [unknown, boolean][] = [
      [{ v: 1, extra: 1, action: "tools/call", context: { transport: "http" }, more: 2 }, true],
      [{ v: 1, extra: 1, action: "tools/call" }, false],
      [{ v: 1, extra: 1, action: "tools/call", context: { transport: "http" }, data_classes: [] }, false],
      [{ v: 1, extra: 1, other: 0, action: "tools/call", context: { transport: "http" } }, true],
      [{ v: 1, extra: 1, other: 0, action: "tools/other", context: { transport: "http" } }, false],
      [{ v: 1, action: "tools/call", context: { transport: "http" } }, true],
      [{ v: 1, extra: 1, context: { transport: "http" }, action: "tools/call" }, false],
    ];
    for (const [i, hit] of cases) {
      expect(get(cache, i) !== undefined, JSON.stringify(i)).toBe(hit);
      expect(projector.text(i) === projector.text(stored), JSON.stringify(i)).toBe(hit);
    }
  });

  it("the action's own tree counts for its inputs, and entries of another shape never match", () => {
    const approval = (granted: unknown) =>
      input({ action: "approvals/resolve", arguments: { granted, id: 1 } });
    const cache = cacheFor(approval(true));
    expect(get(cache, approval(true))).toBeDefined();
    expect(
      get(cache, input({ action: "approvals/resolve", arguments: { id: 2, granted: true } })),
    ).toBeDefined();
    expect(get(cache, approval(false))).toBeUndefined();
    expect(cache.get(approval(true))).toBeUndefined(); // stored under a shape, looked up without one
    expect(cache.get(approval(true), projector.shapeOf(input()))).toBeUndefined();
  });

  it("never caches inputs whose kept parts are not plain JSON data, nor matches them", () => {
    const cache = new DecisionCache(100);
    const odd: unknown[] = [
      input({ data_classes: [10n] }),
      input({ principal: { id: new Date(0) } }),
      input({ target: { name: "x", annotations: { toJSON: () => ({}) } } }),
      input({ principal: Object.assign(Object.create({ id: "inherited" }), { authenticated: true }) }),
      input({ principal: { id: "a", toJSON: 1 } }),
    ];
    for (const o of odd) {
      expect(cache.set(o as PolicyInput, decision("A"), projector.shapeOf(o))).toBe(false);
      expect(get(cache, o)).toBeUndefined();
    }
    const stored = cacheFor(input({ principal: { id: "a", authenticated: true } }));
    expect(get(stored, input({ principal: { id: "a", authenticated: true, toJSON: 1 } }))).toBeUndefined();
    const inherited = Object.assign(Object.create({ id: "a" }), { authenticated: true });
    expect(get(stored, input({ principal: inherited }))).toBeUndefined();
  });
});
