import { describe, expect, it } from "vitest";
import { PortcullisError } from "../../gateway/errors.js";
import { assembleStream } from "./assemble.js";
import { ModelRequestError, modelErrorBody, ProviderError, UnsupportedFeatureError } from "./errors.js";
import type { ChatStreamEvent } from "./types.js";

describe("model errors", () => {
  it("are PortcullisErrors with stable codes and neutral bodies", () => {
    const bad = new ModelRequestError("messages: expected an array");
    const unsupported = new UnsupportedFeatureError("response_format", "anthropic_messages");
    expect(bad).toBeInstanceOf(PortcullisError);
    expect(bad.code).toBe("GW_ERR_MODEL_REQUEST");
    expect(unsupported.code).toBe("GW_ERR_MODEL_UNSUPPORTED");
    expect(unsupported.feature).toBe("response_format");
    expect(unsupported.message).toBe("response_format is not supported by anthropic_messages targets");
    expect(new UnsupportedFeatureError("n > 1", "any").message).toBe("n > 1 is not supported by the gateway");
    expect(modelErrorBody(bad)).toEqual({ code: "invalid_request", message: bad.message, status: 400 });
    expect(modelErrorBody(unsupported)).toMatchObject({ code: "unsupported_feature", status: 400 });
  });

  it("give provider failures a retriable default by kind and a gateway status", () => {
    expect(new ProviderError("server_error", "x").retriable).toBe(true);
    expect(new ProviderError("client_error", "x").retriable).toBe(false);
    expect(new ProviderError("stream_cut", "x", { retriable: true }).retriable).toBe(true);
    expect(modelErrorBody(new ProviderError("timeout", "slow"))).toEqual({
      code: "timeout",
      message: "slow",
      status: 504,
    });
    expect(modelErrorBody(new ProviderError("client_error", "no such model", { status: 404 })).status).toBe(
      404,
    );
    expect(
      modelErrorBody(new ProviderError("rate_limited", "later", { status: 429, retryAfterMs: 1000 })).status,
    ).toBe(429);
  });

  it("never echo the message of an unexpected error", () => {
    expect(modelErrorBody(new Error("secret internals at /somewhere"))).toEqual({
      code: "internal_error",
      message: "internal error",
      status: 500,
    });
  });
});

describe("StreamAssembler", () => {
  const ok: ChatStreamEvent[] = [
    { type: "start", id: "i", model: "m" },
    { type: "part_start", index: 0, part: { type: "text" } },
    { type: "text_delta", index: 0, text: "a" },
    { type: "part_stop", index: 0 },
    { type: "finish", stop_reason: "end_turn" },
    { type: "done" },
  ];

  it("assembles a well-formed stream", () => {
    expect(assembleStream(ok).result()).toEqual({
      id: "i",
      model: "m",
      content: [{ type: "text", text: "a" }],
      stop_reason: "end_turn",
    });
  });

  it.each([
    ["a delta before start", [ok[2]]],
    ["a delta after part_stop", [...ok.slice(0, 4), ok[2]]],
    ["a finish with an open part", [...ok.slice(0, 3), ok[4]]],
    ["done without finish", [...ok.slice(0, 4), ok[5]]],
    ["anything after done", [...ok, ok[2]]],
    [
      "a tool delta on a text part",
      [...ok.slice(0, 2), { type: "tool_arguments_delta", index: 0, arguments: "{}" }],
    ],
  ] as [string, ChatStreamEvent[]][])("refuses %s", (_name, events) => {
    expect(() => assembleStream(events)).toThrow(ProviderError);
  });

  it("does not call an unfinished or failed stream a result", () => {
    expect(() => assembleStream(ok.slice(0, 4)).result()).toThrow(/did not finish/);
    const failed = assembleStream([
      ...ok.slice(0, 3),
      { type: "error", error: { code: "stream_cut", message: "cut", status: 502 } },
    ]);
    expect(failed.outcome).toBe("error");
    expect(() => failed.result()).toThrow("cut");
    expect(failed.snapshot().content).toEqual([{ type: "text", text: "a" }]);
  });
});
