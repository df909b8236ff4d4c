/**
 * The input projector writes exactly the JSON text of the projected input: member order of the
 * input, arrays and scalars at object positions kept whole, missing members left missing, the
 * `by_action` tree merged in only for a string action naming it, numbers written as
 * JSON.stringify writes them. Invalid declarations are refused with the first fault named.
 */
import { describe, expect, it } from "vitest";
import { InputProjector, mergeTrees, parseInputProjection } from "./projection.js";

const declaration = parseInputProjection({
  keep: {
    v: true,
    action: true,
    principal: { id: true, roles: true },
    target: { name: true, provider: { local: true } },
    context: { transport: true },
  },
  by_action: { "approvals/resolve": { arguments: { approval_id: true, granted: true }, principal: true } },
});
const projector = new InputProjector(declaration);
const project = (input: unknown) => projector.text(input);

describe("InputProjector.text", () => {
  it("keeps the declared members in the input's own order and drops the rest", () => {
    const input = {
      context: { request_id: "r", transport: "http", time: "t" },
      arguments: { secret: "x" },
      principal: { roles: ["a"], via: "jwt", id: "alice" },
      action: "tools/call",
      v: 1,
    };
    expect(project(input)).toBe(
      '{"context":{"transport":"http"},"principal":{"roles":["a"],"id":"alice"},"action":"tools/call","v":1}',
    );
  });

  it("keeps arrays, scalars and null where the tree expects an object, as they are", () => {
    for (const odd of [[{ local: true, id: "p" }], "ollama", 7, true, null]) {
      const input = { target: { provider: odd, name: "m" } };
      expect(project(input)).toBe(JSON.stringify(input));
    }
    expect(project({ principal: [1, { id: "x", via: "y" }] })).toBe('{"principal":[1,{"id":"x","via":"y"}]}');
  });

  it("projects the whole input only when it is a plain object", () => {
    for (const whole of [null, [1, 2], "tools/call", 42, false, { toJSON: () => ({ v: 1, x: 2 }) }]) {
      expect(project(whole)).toBe(JSON.stringify(whole));
    }
    expect(project(Object.assign(Object.create(null), { v: 1, x: 2 }))).toBe('{"v":1}');
    // A Date renders through its own toJSON, as JSON.stringify does, wherever it stands.
    expect(project({ v: new Date(0) })).toBe('{"v":"1970-01-01T00:00:00.000Z"}');
    const keyed = {
      v: { toJSON: (key: string) => `as ${key}` },
      principal: { id: { toJSON: (k: string) => k } },
    };
    expect(project(keyed)).toBe(JSON.stringify(keyed));
    expect(() => project(undefined)).toThrow(/no JSON text/);
  });

  it("leaves missing members missing and skips members JSON has no text for", () => {
    expect(project({})).toBe("{}");
    expect(project({ target: {} })).toBe('{"target":{}}');
    expect(project({ v: undefined, action: () => 1, principal: { id: Symbol("s") } })).toBe(
      '{"principal":{}}',
    );
  });

  it("reads own members only", () => {
    const inherited = Object.create({ v: 1, action: "approvals/resolve" }) as Record<string, unknown>;
    inherited.principal = { id: "a", roles: [] };
    expect(project(inherited)).toBe('{"principal":{"id":"a","roles":[]}}');
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto.v = 2;
    try {
      const input = { action: "a", principal: { id: "x", roles: { v: 1 } } };
      expect(project(input)).toBe('{"action":"a","principal":{"id":"x","roles":{"v":1}}}');
      expect(project(input)).toBe(JSON.stringify(input));
    } finally {
      delete proto.v;
    }
  });

  it("merges the action's tree only for a string action naming an entry", () => {
    const approval = {
      v: 1,
      action: "approvals/resolve",
      principal: { id: "bob", via: "jwt" },
      arguments: { granted: true, note: "n", approval_id: "a-1" },
    };
    expect(project(approval)).toBe(
      '{"v":1,"action":"approvals/resolve","principal":{"id":"bob","via":"jwt"},"arguments":{"granted":true,"approval_id":"a-1"}}',
    );
    for (const action of ["tools/call", ["approvals/resolve"], { a: 1 }, 1, null]) {
      expect(project({ ...approval, action })).toBe(
        `{"v":1,"action":${JSON.stringify(action)},"principal":{"id":"bob"}}`,
      );
    }
  });

  it("writes unicode, escapes and awkward names exactly as JSON.stringify does", () => {
    const names = new InputProjector(
      parseInputProjection({ keep: { 'é\u0000"\\': true, "10": true, __proto__x: true, "👩🏽‍💻": true } }),
    );
    const input = JSON.parse('{"👩🏽‍💻":"\\ud800 lone","é\\u0000\\"\\\\":"\\u2028 ü","other":1,"10":"ten"}');
    expect(names.text(input)).toBe(
      JSON.stringify({ "10": "ten", "👩🏽‍💻": "\ud800 lone", 'é\u0000"\\': "\u2028 ü" }),
    );
    const proto = new InputProjector(parseInputProjection(JSON.parse('{"keep":{"__proto__":true}}')));
    expect(proto.text(JSON.parse('{"__proto__":{"a":1},"b":2}'))).toBe('{"__proto__":{"a":1}}');
  });

  it("writes numbers as JSON.stringify does (no rounding of its own) and refuses bigints it keeps", () => {
    const input = { v: 2 ** 64, action: 2 ** 53 + 2, principal: { id: -0, roles: [1e21, 5e-324, 0.1] } };
    expect(project(input)).toBe(JSON.stringify(input));
    expect(project(input)).toBe(
      '{"v":18446744073709552000,"action":9007199254740994,"principal":{"id":0,"roles":[1e+21,5e-324,0.1]}}',
    );
    expect(project({ v: Number.NaN, action: Number.POSITIVE_INFINITY })).toBe('{"v":null,"action":null}');
    expect(() => project({ v: 1n })).toThrow(TypeError);
    // A bigint in a member the projection drops is never serialised.
    expect(project({ v: 1, arguments: { n: 1n } })).toBe('{"v":1}');
  });
});

describe("declarations", () => {
  it("merges trees: true wins, objects unite", () => {
    expect(mergeTrees({ a: true, b: { c: true } }, { b: { d: true }, e: true })).toEqual({
      a: true,
      b: { c: true, d: true },
      e: true,
    });
    expect(mergeTrees({ a: { b: true } }, { a: true })).toEqual({ a: true });
    expect(mergeTrees(true, { a: true })).toBe(true);
  });

  it("accepts keep alone, keep true, and empty trees", () => {
    expect(parseInputProjection({ keep: true })).toEqual({ keep: true });
    expect(new InputProjector(parseInputProjection({ keep: true })).text({ a: [1] })).toBe('{"a":[1]}');
    expect(new InputProjector(parseInputProjection({ keep: {}, by_action: {} })).text({ a: 1 })).toBe("{}");
  });

  it("refuses anything else, naming the fault", () => {
    const bad: [unknown, RegExp][] = [
      [null, /must be an object/],
      [[], /must be an object/],
      [{}, /keep is missing/],
      [{ keep: false }, /keep must be true or an object/],
      [{ keep: { a: 1 } }, /keep\."a" must be true/],
      [{ keep: { a: { b: null } } }, /keep\."a"\."b" must be true/],
      [{ keep: { a: ["b"] } }, /must be true or an object/],
      [{ keep: true, drop: {} }, /unknown member "drop"/],
      [{ keep: true, by_action: [] }, /by_action must be an object/],
      [{ keep: true, by_action: { "tools/call": "arguments" } }, /by_action\."tools\/call" must be true/],
    ];
    for (const [value, message] of bad) {
      expect(() => parseInputProjection(value), JSON.stringify(value)).toThrow(message);
    }
    let deep: unknown = true;
    for (let i = 0; i < 40; i++) deep = { d: deep };
    expect(() => parseInputProjection({ keep: deep })).toThrow(/deeper than 32/);
  });
});
