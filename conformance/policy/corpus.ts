/**
 * The policy parity corpus: hand-written edge cases plus inputs generated from a fixed seed, each
 * as JSON text (so integers above 2^53 and unusual number spellings reach both engines exactly as
 * written). Both engines evaluate every entry under several data documents; see parity.test.ts.
 */
import { PolicyAction } from "../../contracts/index.js";
import { seededRandom } from "../../gateway/random.js";

export interface CorpusEntry {
  name: string;
  text: string;
}

export const SEED = 0x5eed_2026;
export const GENERATED = 1200;

/** The corpus generator's seeded random source (mulberry32). */
export const prng = seededRandom;

/** JSON text of a value whose bigints are written as plain integers. */
export function toJson(value: unknown): string {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value && typeof value === "object") {
    const parts = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${parts.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const context = { time: "2026-11-24T10:00:00Z", request_id: "req-1", transport: "http" };
const alice = { id: "alice", roles: ["user"], authenticated: true, via: "api_key" };
const base = {
  v: 1,
  action: "tools/call",
  principal: alice,
  target: { kind: "tool", name: "docs__search", server: "docs", annotations: { readOnlyHint: true } },
  arguments: {},
  data_classes: [],
  context,
};

const approval = {
  ...base,
  action: "approvals/resolve",
  target: { kind: "tool", name: "github__delete_repo", server: "github" },
  arguments: { approval_id: "apr-1", requester: "alice", granted: true },
};

function nest(depth: number): unknown {
  let v: unknown = { leaf: true };
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
  return v;
}

function handWritten(): CorpusEntry[] {
  const e = (name: string, value: unknown): CorpusEntry => ({ name, text: toJson(value) });
  const raw = (name: string, text: string): CorpusEntry => ({ name, text });
  const baseText = toJson(base);
  return [
    e("read-only", base),
    e("empty object", {}),
    raw("null", "null"),
    raw("array", "[1,2,3]"),
    raw("string", '"tools/call"'),
    raw("number", "42"),
    e("v2", { ...base, v: 2 }),
    e("v as string", { ...base, v: "1" }),
    raw("v as 1.0", baseText.replace('"v":1', '"v":1.0')),
    raw("v as 1e0", baseText.replace('"v":1', '"v":1e0')),
    raw("v as 10e-1", baseText.replace('"v":1', '"v":10e-1')),
    e("missing principal", { ...base, principal: undefined }),
    e("missing target", { ...base, target: undefined }),
    e("missing context", { ...base, context: undefined }),
    e("missing transport", { ...base, context: { time: "t", request_id: "r" } }),
    e("principal without roles", { ...base, principal: { id: "a", authenticated: true, via: "jwt" } }),
    e("roles not an array", { ...base, principal: { ...alice, roles: "admin" } }),
    e("roles with non-strings", { ...base, principal: { ...alice, roles: [1, null, {}, "admin"] } }),
    e("empty arrays", { ...base, principal: { ...alice, roles: [] }, data_classes: [], findings: [] }),
    e("authenticated as string", { ...base, principal: { ...alice, authenticated: "true" } }),
    e("unknown action", { ...base, action: "tools/delete" }),
    e("unicode names", {
      ...base,
      target: { kind: "tool", name: "文件__読む", annotations: { readOnlyHint: true } },
    }),
    e("emoji principal", { ...base, principal: { ...alice, id: "👩🏽‍💻".repeat(100) } }),
    e("combining marks", {
      ...base,
      target: { kind: "tool", name: "e\u0301\u0301__x", annotations: { destructiveHint: true } },
    }),
    e("lone surrogate escaped", { ...base, arguments: { s: "\ud800" } }),
    e("control characters", { ...base, arguments: { s: "\u0000\u0001\u001f\u007f" } }),
    e("big integer 2^53+1", { ...base, arguments: { n: 9007199254740993n } }),
    e("big integer 2^64", { ...base, arguments: { n: 18446744073709551616n, m: -18446744073709551617n } }),
    e("big integer 10^30 as v", { ...base, v: 1000000000000000000000000000000n }),
    raw(
      "float edge numbers",
      baseText.replace('"arguments":{}', '"arguments":{"a":1e308,"b":-0,"c":5e-324,"d":0.1}'),
    ),
    raw("huge exponent", baseText.replace('"arguments":{}', '"arguments":{"a":1e400}')),
    e("deep nesting 200", { ...base, arguments: { deep: nest(200) } }),
    e("deep nesting in target", { ...base, target: { ...base.target, extra: nest(50) } }),
    e("huge string argument", { ...base, arguments: { blob: "x".repeat(1_000_000) } }),
    e("huge tool name", {
      ...base,
      target: { kind: "tool", name: "a".repeat(100_000), annotations: { destructiveHint: true } },
    }),
    e("many data classes", { ...base, data_classes: Array.from({ length: 500 }, (_, i) => `class${i}`) }),
    e("secret", { ...base, data_classes: ["secret"] }),
    e("secret + pii", { ...base, data_classes: ["pii", "secret", "email", "payment_card", "pii"] }),
    e("changed", { ...base, target: { ...base.target, changed: true } }),
    e("changed not boolean", { ...base, target: { ...base.target, changed: "yes" } }),
    e("annotations not booleans", {
      ...base,
      target: { kind: "tool", name: "x__y", annotations: { readOnlyHint: "true", destructiveHint: 1 } },
    }),
    e("annotations null", { ...base, target: { kind: "tool", name: "x__y", annotations: null } }),
    e("stdio unauthenticated", {
      ...base,
      principal: { id: "local", roles: [], authenticated: false, via: "stdio" },
      context: { ...context, transport: "stdio" },
    }),
    e("http unauthenticated", {
      ...base,
      principal: { id: "anon", roles: [], authenticated: false, via: "anonymous" },
    }),
    e("admin", {
      ...base,
      principal: { ...alice, roles: ["admin"] },
      target: { kind: "tool", name: "db__drop" },
    }),
    e("workspace write", {
      ...base,
      target: { kind: "tool", name: "workspace__write_file", server: "workspace" },
    }),
    e("model call local", {
      ...base,
      action: "model/call",
      data_classes: ["secret"],
      target: { kind: "model", name: "llama", provider: { id: "ollama", local: true } },
    }),
    e("model call remote", {
      ...base,
      action: "model/call",
      data_classes: ["secret"],
      target: { kind: "model", name: "gpt", provider: { id: "openai", local: false } },
    }),
    e("model list", { ...base, action: "model/list", target: { kind: "model", name: "gpt" } }),
    e("model by role", {
      ...base,
      action: "model/call",
      principal: { ...alice, roles: ["user", "research"] },
      target: { kind: "model", name: "claude-x", provider: { id: "p", local: false } },
    }),
    e("approval resolved", { ...approval, principal: { ...alice, id: "bob", roles: ["approver"] } }),
    e("approval self", { ...approval, principal: { ...alice, roles: ["admin"] } }),
    e("approval no role", { ...approval, principal: { ...alice, id: "bob" } }),
    e("approval unauthenticated", {
      ...approval,
      principal: { id: "anon", roles: ["approver"], authenticated: false, via: "anonymous" },
    }),
    e("approval missing requester", {
      ...approval,
      principal: { ...alice, id: "bob", roles: ["admin"] },
      arguments: { approval_id: "apr-1", granted: true },
    }),
    e("prompt get", { ...base, action: "prompts/get", target: { kind: "prompt", name: "p__greet" } }),
    e("resource list", {
      ...base,
      action: "resources/list",
      target: { kind: "resource", name: "file:///etc/passwd" },
    }),
    e("duplicate keys", JSON.parse(baseText)),
    raw("duplicate keys raw", baseText.replace('"v":1,', '"v":1,"v":1,')),
    raw("whitespace everywhere", ` \n\t${baseText.replaceAll(",", " ,\n ").replaceAll(":", " : ")}\r\n`),
    raw("escaped unicode keys", baseText.replace('"action"', '"\\u0061ction"')),
    e("integer-like keys", { ...base, arguments: { "10": 1, "2": 2, "-1": 3, "01": 4 } }),
    // Odd shapes of the fields the policy iterates or indexes (each path it reads, off-type).
    e("data classes as string", { ...base, data_classes: "secret" }),
    e("data classes as object", { ...base, data_classes: { a: "secret", b: "pii" } }),
    e("data classes null", { ...base, data_classes: null }),
    e("data classes mixed", { ...base, data_classes: [7, "pii", null, "pii", ["secret"]] }),
    e("roles as object", { ...base, principal: { ...alice, roles: { a: "admin" } } }),
    e("annotations as array", { ...base, target: { kind: "tool", name: "x__y", annotations: [true] } }),
    e("read-only and destructive", {
      ...base,
      target: { kind: "tool", name: "x__y", annotations: { readOnlyHint: true, destructiveHint: true } },
    }),
    e("read-only and open world", {
      ...base,
      target: { kind: "tool", name: "x__y", annotations: { readOnlyHint: true, openWorldHint: true } },
    }),
    e("destructive, open world, secret", {
      ...base,
      data_classes: ["secret", "payment_card"],
      target: { kind: "tool", name: "x__y", annotations: { destructiveHint: true, openWorldHint: true } },
    }),
    e("changed, unauthenticated, secret", {
      ...base,
      principal: { id: "anon", roles: [], authenticated: false, via: "anonymous" },
      data_classes: ["secret", "pii"],
      target: { ...base.target, changed: true },
    }),
    e("changed prompt", {
      ...base,
      action: "prompts/get",
      target: { kind: "prompt", name: "p", changed: true },
    }),
    e("model call with model field", {
      ...base,
      action: "model/call",
      target: { kind: "model", name: "router", model: "llama3", provider: { id: "p", local: true } },
    }),
    e("model call with model not a string", {
      ...base,
      action: "model/call",
      target: { kind: "model", name: "gpt-4o", model: 7, provider: { id: "p", local: "yes" } },
    }),
    e("model call kind tool", { ...base, action: "model/call", target: { kind: "tool", name: "gpt-4o" } }),
    e("model list secret", {
      ...base,
      action: "model/list",
      data_classes: ["secret"],
      target: { kind: "model", name: "x" },
    }),
    e("tools list secret", {
      ...base,
      action: "tools/list",
      data_classes: ["secret"],
      target: { kind: "tool", name: "*" },
    }),
    e("approval arguments as array", {
      ...approval,
      principal: { ...alice, id: "bob", roles: ["admin"] },
      arguments: [1],
    }),
    e("approval over stdio unauthenticated", {
      ...approval,
      principal: { id: "local", roles: ["admin"], authenticated: false, via: "stdio" },
      context: { ...context, transport: "stdio" },
    }),
    e("approval self without role", { ...approval, principal: { ...alice, roles: ["user"] } }),
    e("approval destructive target", {
      ...approval,
      principal: { ...alice, id: "bob", roles: ["approver"] },
      target: { kind: "tool", name: "x", annotations: { destructiveHint: true, openWorldHint: true } },
      data_classes: ["secret"],
    }),
    e("transport unknown", { ...base, context: { ...context, transport: "ws" } }),
    e("server not a string", { ...base, target: { ...base.target, server: 7 } }),
  ];
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const maybe = (r: () => number, p = 0.5) => r() < p;

const ACTIONS = [...PolicyAction.options, "bogus"];
const NAMES = [
  "workspace__write_file",
  "workspace__delete",
  "workspace__read",
  "memory__store",
  "db__query",
  "shell__exec",
  "web__fetch",
  "gpt-4o",
  "llama3",
  "ünï__cødé",
  "",
  "*",
  "a*b",
];
const ROLES = ["admin", "user", "ops-admin", "", "ADMIN", "auditor", "approver", "research"];
const CLASSES = ["secret", "pii", "email", "payment_card", "other", ""];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 8));
  switch (k) {
    case 0:
      return null;
    case 1:
      return maybe(r);
    case 2:
      return Math.floor(r() * 2000) - 1000;
    case 3:
      return BigInt(Math.floor(r() * 1e9)) * 10_000_000_000n + 9_007_199_254_740_993n;
    case 4:
      return r() * 1e6;
    case 5:
      return pick(r, NAMES) + String.fromCodePoint(0x20 + Math.floor(r() * 0x2fff));
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: Math.floor(r() * 4) }, (_, i) => [
          `k${i}${pick(r, ["", "é", "1"])}`,
          randomValue(r, depth + 1),
        ]),
      );
  }
}

function generated(): CorpusEntry[] {
  const r = prng(SEED);
  const out: CorpusEntry[] = [];
  for (let i = 0; i < GENERATED; i++) {
    const transport = maybe(r, 0.7) ? "http" : "stdio";
    const kind = pick(r, ["tool", "tool", "tool", "prompt", "resource", "model"]);
    const annotations = maybe(r, 0.8)
      ? Object.fromEntries(
          ["readOnlyHint", "destructiveHint", "openWorldHint", "idempotentHint"]
            .filter(() => maybe(r, 0.4))
            .map((a) => [a, maybe(r, 0.9) ? maybe(r) : randomValue(r, 4)]),
        )
      : undefined;
    const input: Record<string, unknown> = {
      v: maybe(r, 0.97) ? 1 : pick(r, [0, 2, "1", null]),
      action: pick(r, ACTIONS),
      principal: {
        id: `user-${i}`,
        roles: Array.from({ length: Math.floor(r() * 3) }, () => pick(r, ROLES)),
        authenticated: maybe(r, 0.97) ? maybe(r, 0.75) : "yes",
        via: pick(r, ["stdio", "api_key", "jwt", "anonymous"]),
      },
      target: {
        kind,
        name: pick(r, NAMES),
        server: maybe(r, 0.6) ? pick(r, ["workspace", "db", "docs", ""]) : undefined,
        annotations,
        changed: maybe(r, 0.15) ? true : maybe(r, 0.1) ? false : undefined,
        provider: kind === "model" && maybe(r, 0.8) ? { id: "p", local: maybe(r) } : undefined,
        model: kind === "model" && maybe(r, 0.3) ? pick(r, NAMES) : undefined,
      },
      arguments: randomValue(r, 0),
      data_classes: Array.from({ length: Math.floor(r() * 3) }, () =>
        maybe(r, 0.95) ? pick(r, CLASSES) : 7,
      ),
      context: {
        time: `2026-11-24T10:00:${String(i % 60).padStart(2, "0")}Z`,
        request_id: `req-${i}`,
        transport,
      },
    };
    // approvals/resolve mostly carries its own arguments: who asked (often the caller) and the verdict.
    if (input.action === "approvals/resolve" && maybe(r, 0.8))
      input.arguments = {
        approval_id: `apr-${i}`,
        requester: maybe(r, 0.3) ? `user-${i}` : pick(r, ["alice", "", "user-0", 7]),
        granted: maybe(r, 0.9) ? maybe(r) : "yes",
      };
    // Drop a top-level field now and then: missing fields must still give a decision.
    if (maybe(r, 0.05)) delete input[pick(r, Object.keys(input))];
    out.push({ name: `generated #${i}`, text: toJson(input) });
  }
  return out;
}

/** Every corpus entry, in a stable order. */
export function buildCorpus(): CorpusEntry[] {
  return [...handWritten(), ...generated()];
}
