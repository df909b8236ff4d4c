import { describe, expect, it } from "vitest";
import { CallAbort } from "../../adapters/mcp/call-abort.js";
import { CallState, LocalAbort, SignalAbort } from "./call-state.js";

describe("call abort states", () => {
  it("SignalAbort follows its signal and unregisters its callbacks", () => {
    const ctl = new AbortController();
    const abort = new SignalAbort(ctl.signal);
    const seen: unknown[] = [];
    const off = abort.onAbort((r) => seen.push(["kept", r]));
    const removed = abort.onAbort((r) => seen.push(["removed", r]));
    removed();
    expect(abort.aborted).toBe(false);
    ctl.abort("stop");
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe("stop");
    expect(seen).toEqual([["kept", "stop"]]);
    off();
    expect(abort.signal).toBe(ctl.signal);
  });

  it("LocalAbort never aborts and makes one signal of its own, only when read", () => {
    const a = new LocalAbort();
    const b = new LocalAbort();
    expect(a.aborted).toBe(false);
    expect(a.onAbort(() => {})).toBeTypeOf("function");
    const made = (x: LocalAbort) => (x as unknown as { controller?: AbortController }).controller;
    expect(made(a)).toBeUndefined(); // nothing made yet
    const signal = a.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(made(a)?.signal).toBe(signal);
    expect(a.signal).toBe(signal);
    expect(b.signal).not.toBe(signal); // never shared between calls
    expect(signal.aborted).toBe(false);
  });

  it("a call's signal is its abort state's, made on first read", () => {
    const abort = new CallAbort();
    const ctx = new CallState("id-1", "tools/call", "echo", {}, { kind: "stdio" }, "stdio", abort);
    expect(ctx.abort).toBe(abort);
    expect(Object.keys(ctx)).not.toContain("signal");
    expect(Object.keys(ctx)).not.toContain("principal"); // optional members only once set
    const signal = ctx.signal;
    expect(signal.aborted).toBe(false);
    abort.abort(new Error("cancelled by client"));
    expect(signal.aborted).toBe(true);
    expect(ctx.signal).toBe(signal);
    expect(ctx.startedAt).toBeGreaterThan(0);
  });
});
