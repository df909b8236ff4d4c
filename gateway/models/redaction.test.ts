import { describe, expect, it } from "vitest";
import type { ChatRequest, ChatStreamEvent } from "../../adapters/models/types.js";
import type { RedactionPolicy } from "../../contracts/index.js";
import { redactValue } from "../../native/index.js";
import { ModelCallError } from "./failures.js";
import { EgressRedactor } from "./redaction.js";
import { createStreamRestorer, holdFrom, restoreResponse } from "./restore.js";

const KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const MAIL = "bob@example.com";

const request: ChatRequest = {
  model: "alias",
  system: [`deploy with ${KEY}`],
  messages: [
    { role: "user", content: [{ type: "text", text: `mail ${MAIL} the key ${KEY}` }] },
    {
      role: "assistant",
      content: [{ type: "tool_call", id: "c1", name: "send", arguments: JSON.stringify({ to: MAIL, n: 1 }) }],
    },
    { role: "tool", content: [{ type: "tool_result", tool_call_id: "c1", content: `sent to ${MAIL}` }] },
  ],
  stream: false,
};

const policy = (p: Partial<RedactionPolicy>): RedactionPolicy => ({
  v: 1,
  id: "default",
  detectors: ["secret", "email"],
  action: "mask",
  allowed_providers: {},
  ...p,
});

const everything = (r: ChatRequest) => JSON.stringify(r);

describe("EgressRedactor", () => {
  it("masks system prompts, message text, tool arguments (still JSON) and tool results", () => {
    const prepared = new EgressRedactor({ policy: policy({}), redact: redactValue }).prepare(request);
    expect(prepared.found).toEqual(["email", "secret"]);
    const e = prepared.forProvider("cloud");
    if (!("request" in e)) throw new Error("blocked");
    const sent = everything(e.request);
    expect(sent).not.toContain(KEY);
    expect(sent).not.toContain(MAIL);
    expect(e.request.system[0]).toBe("deploy with [REDACTED:secret]");
    const call = e.request.messages[1]!.content[0] as { arguments: string };
    expect(JSON.parse(call.arguments)).toEqual({ to: "[REDACTED:email]", n: 1 });
    expect(e.request.messages[2]!.content[0]).toMatchObject({ content: "sent to [REDACTED:email]" });
    expect(e.dataClasses).toEqual([]);
  });

  it("hash gives stable keyed digests", () => {
    const r = new EgressRedactor({ policy: policy({ action: "hash" }), hashKey: "k", redact: redactValue });
    const a = r.prepare(request).forProvider("p");
    const b = r.prepare(request).forProvider("p");
    if (!("request" in a) || !("request" in b)) throw new Error("blocked");
    expect(a.request.system[0]).toMatch(/^deploy with \[secret:[0-9a-f]{16}\]$/);
    expect(a.request.system).toEqual(b.request.system);
  });

  it("reversible placeholders come with the mapping that restores the answer", () => {
    const e = new EgressRedactor({ policy: policy({ action: "reversible" }), redact: redactValue })
      .prepare(request)
      .forProvider("p");
    if (!("request" in e)) throw new Error("blocked");
    expect(e.request.system[0]).toBe("deploy with [SECRET_1]");
    expect(e.mapping).toEqual({ "[SECRET_1]": KEY, "[EMAIL_1]": MAIL });
    const answer = restoreResponse(
      {
        id: "r",
        model: "m",
        stop_reason: "tool_use",
        content: [
          { type: "text", text: "using [SECRET_1] for [EMAIL_1]" },
          { type: "tool_call", id: "t", name: "f", arguments: '{"k":"[SECRET_1]"}' },
        ],
      },
      e.mapping!,
    );
    expect(answer.content[0]).toEqual({ type: "text", text: `using ${KEY} for ${MAIL}` });
    expect(JSON.parse((answer.content[1] as { arguments: string }).arguments)).toEqual({ k: KEY });
  });

  it("restores JSON-escaped originals into tool arguments", () => {
    const r = restoreResponse(
      {
        id: "r",
        model: "m",
        stop_reason: "tool_use",
        content: [{ type: "tool_call", id: "t", name: "f", arguments: '{"q":"[PII_1]"}' }],
      },
      { "[PII_1]": 'say "hi"\\' },
    );
    expect(JSON.parse((r.content[0] as { arguments: string }).arguments)).toEqual({ q: 'say "hi"\\' });
  });

  it("block refuses a provider; allowed_providers lets a class through unredacted and reports it", () => {
    const prepared = new EgressRedactor({
      policy: policy({ action: "block", allowed_providers: { secret: ["local"], email: ["local"] } }),
      redact: redactValue,
    }).prepare(request);
    expect(prepared.forProvider("cloud")).toEqual({ blocked: ["email", "secret"] });
    const local = prepared.forProvider("local");
    if (!("request" in local)) throw new Error("blocked");
    expect(local.request).toBe(request);
    expect(local.dataClasses).toEqual(["email", "secret"]);
    expect(local.findings.map((f) => f.class).sort()).toContain("secret");
  });

  it("only the listed detectors are acted on; the rest leave and are reported", () => {
    const e = new EgressRedactor({ policy: policy({ detectors: ["email"] }), redact: redactValue })
      .prepare(request)
      .forProvider("p");
    if (!("request" in e)) throw new Error("blocked");
    expect(everything(e.request)).toContain(KEY);
    expect(everything(e.request)).not.toContain(MAIL);
    expect(e.dataClasses).toEqual(["secret"]);
  });

  it("without a policy nothing is rewritten and every class found is reported", () => {
    const e = new EgressRedactor({ redact: redactValue }).prepare(request).forProvider("p");
    if (!("request" in e)) throw new Error("blocked");
    expect(e.request).toBe(request);
    expect(e.dataClasses).toEqual(["email", "secret"]);
  });

  it("fails closed when the sanitizer fails", () => {
    const broken = new EgressRedactor({
      policy: policy({}),
      redact: () => {
        throw new Error("addon crashed");
      },
    });
    const e = (() => {
      try {
        broken.prepare(request);
      } catch (x) {
        return x;
      }
    })() as ModelCallError;
    expect(e).toBeInstanceOf(ModelCallError);
    expect([e.status, e.details?.reasons]).toEqual([
      503,
      [{ code: "SANITIZER_FAILED", message: "The sanitizer failed; nothing was sent" }],
    ]);
  });
});

describe("stream restoring", () => {
  const mapping = { "[SECRET_1]": KEY, "[SECRET_12]": "twelve" };
  const text = "key [SECRET_1], not [SECRET_x], and [SECRET_12] [";
  const restored = `key ${KEY}, not [SECRET_x], and twelve [`;

  const run = (chunks: string[]) => {
    const r = createStreamRestorer(mapping);
    const out: ChatStreamEvent[] = [];
    const heldMax: number[] = [];
    let sent = 0;
    for (const c of chunks) {
      out.push(...r.push({ type: "text_delta", index: 0, text: c }));
      sent += c.length;
      const released = out.reduce((n, e) => n + (e.type === "text_delta" ? e.text.length : 0), 0);
      heldMax.push(sent - released);
    }
    out.push(...r.push({ type: "part_stop", index: 0 }));
    return { out, heldMax };
  };

  it("restores across every split point of two chunks and holds back at most a placeholder", () => {
    for (let i = 0; i <= text.length; i++) {
      const { out } = run([text.slice(0, i), text.slice(i)]);
      const joined = out.map((e) => (e.type === "text_delta" ? e.text : "")).join("");
      expect(joined, `split at ${i}`).toBe(restored);
      expect(out.at(-1)).toEqual({ type: "part_stop", index: 0 });
    }
  });

  it("restores one character at a time", () => {
    const { out, heldMax } = run([...text]);
    expect(out.map((e) => (e.type === "text_delta" ? e.text : "")).join("")).toBe(restored);
    expect(Math.max(...heldMax)).toBeLessThan("[SECRET_12]".length);
  });

  it("releases text that cannot start a placeholder at once", () => {
    const r = createStreamRestorer(mapping);
    expect(r.push({ type: "text_delta", index: 0, text: "plain [x] text" })).toEqual([
      { type: "text_delta", index: 0, text: "plain [x] text" },
    ]);
    expect(holdFrom("abc [SEC", ["[SECRET_1]"], 10)).toBe(4);
    expect(holdFrom("abc [SECRET_1]", ["[SECRET_1]"], 10)).toBe(14);
  });

  it("restores tool argument deltas JSON-escaped and flushes held tails before an error", () => {
    const r = createStreamRestorer({ "[PII_1]": 'a"b' });
    const a = r.push({ type: "tool_arguments_delta", index: 1, arguments: '{"q":"[PI' });
    const b = r.push({ type: "tool_arguments_delta", index: 1, arguments: 'I_1]"}' });
    const args = [...a, ...b].map((e) => (e.type === "tool_arguments_delta" ? e.arguments : "")).join("");
    expect(JSON.parse(args)).toEqual({ q: 'a"b' });
    r.push({ type: "text_delta", index: 2, text: "tail [PI" });
    expect(r.flush()).toEqual([{ type: "text_delta", index: 2, text: "[PI" }]);
  });
});
