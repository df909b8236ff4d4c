import { describe, expect, it } from "vitest";
import {
  CONTRACT_DOCUMENTS,
  isRegisteredReasonCode,
  PolicyDecision,
  PolicyInput,
  REASON_CODES,
  SessionEvent,
  ToolCallRequest,
  validateContractJson,
} from "./index.js";

const principal = { id: "alice", roles: ["user"], authenticated: true, via: "api_key" };

describe("contracts", () => {
  it("accepts a minimal PolicyInput and rejects an unknown member", () => {
    const input = {
      v: 1,
      action: "tools/call",
      principal,
      target: { kind: "tool", name: "workspace__read", annotations: { readOnlyHint: true } },
      arguments: { path: "README.md" },
      data_classes: [],
      context: { time: "2026-01-31T12:00:00Z", request_id: "r1", transport: "http" },
    };
    expect(PolicyInput.safeParse(input).success).toBe(true);
    expect(PolicyInput.safeParse({ ...input, extra: 1 }).success).toBe(false);
    expect(PolicyInput.safeParse({ ...input, v: 2 }).success).toBe(false);
  });

  it("requires ask for ask_user decisions", () => {
    const d = {
      v: 1,
      decision: "ask_user",
      reasons: [{ code: "REQUIRES_APPROVAL", message: "m" }],
      obligations: {},
    };
    expect(PolicyDecision.safeParse(d).success).toBe(false);
    expect(PolicyDecision.safeParse({ ...d, ask: { prompt: "ok?", ttl_s: 60 } }).success).toBe(true);
    expect(PolicyDecision.safeParse({ ...d, reasons: [{ code: "lower", message: "" }] }).success).toBe(false);
  });

  it("rejects lone surrogates, non-finite numbers and deep nesting anywhere", () => {
    const req = { v: 1, id: "c1", tool: "memory__search", arguments: {}, principal };
    expect(ToolCallRequest.safeParse(req).success).toBe(true);
    expect(ToolCallRequest.safeParse({ ...req, arguments: { q: "\ud800" } }).success).toBe(false);
    expect(validateContractJson("ToolCallRequest", JSON.stringify(req).replace("{}", '{"n":1e400}'))).toEqual(
      {
        valid: false,
        error: "ToolCallRequest: arguments.n: number is not finite",
      },
    );
    let deep: unknown = 1;
    for (let i = 0; i < 63; i++) deep = [deep];
    expect(ToolCallRequest.safeParse({ ...req, arguments: { d: deep } }).success).toBe(false);
  });

  it("checks event data by kind", () => {
    const e = { v: 1, session: "s", seq: 0, ts: "2026-01-31T12:00:00.5+01:00", kind: "file.read" };
    expect(SessionEvent.safeParse({ ...e, data: { path: "a.txt", bytes: 3 } }).success).toBe(true);
    expect(SessionEvent.safeParse({ ...e, data: { url: "x" } }).success).toBe(false);
    expect(SessionEvent.safeParse({ ...e, kind: "file.exec", data: {} }).success).toBe(false);
  });

  it("has a registry of UPPER_SNAKE codes", () => {
    expect(isRegisteredReasonCode("DEFAULT_DENY")).toBe(true);
    expect(isRegisteredReasonCode("toString")).toBe(false);
    expect(Object.keys(REASON_CODES).length).toBeGreaterThan(15);
    expect(Object.keys(CONTRACT_DOCUMENTS)).toHaveLength(9);
  });
});
