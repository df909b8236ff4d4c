import { describe, expect, it } from "vitest";
import { CallAbort, LazySignalOptions, onAbort } from "./call-abort.js";

describe("CallAbort", () => {
  it("runs registered callbacks once, with the first reason, and mirrors it on a signal made later", () => {
    const abort = new CallAbort();
    const seen: unknown[] = [];
    abort.onAbort((r) => seen.push(["a", r]));
    const off = abort.onAbort((r) => seen.push(["b", r]));
    off();
    abort.abort("first");
    abort.abort("second");
    expect(seen).toEqual([["a", "first"]]);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe("first");
  });

  it("aborts a signal made before the abort", () => {
    const abort = new CallAbort();
    const signal = abort.signal;
    expect(signal.aborted).toBe(false);
    expect(abort.signal).toBe(signal);
    abort.abort(new Error("timeout"));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe("timeout");
  });

  it("onAbort registers on a plain AbortSignal too and unregisters", () => {
    const ctl = new AbortController();
    const seen: unknown[] = [];
    const off = onAbort(ctl.signal, (r) => seen.push(r));
    off();
    onAbort(ctl.signal, (r) => seen.push(r));
    ctl.abort("stop");
    expect(seen).toEqual(["stop"]);
  });

  it("LazySignalOptions hands out the call's signal on first read, aborted when the call was", () => {
    const abort = new CallAbort();
    const options = new LazySignalOptions(abort, 1_000);
    abort.abort("gone");
    expect(options.timeout).toBe(1_000);
    expect(options.abort).toBe(abort);
    expect(options.signal.aborted).toBe(true);
    expect(options.signal.reason).toBe("gone");
  });
});
