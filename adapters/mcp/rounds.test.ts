/**
 * Input-required rounds answered partly by the gateway: with a sampling fallback, the sampling
 * requests of a round a client cannot sample for are served by the fallback and the rest still go
 * to the client (one 2026 round of its own, keys unchanged); a client that can sample keeps them.
 */
import { describe, expect, it } from "vitest";
import type { ClientChannel, InputRequest } from "../../gateway/registry/source.js";
import { fulfilInputs, modernEnvelope, type SampleFallback } from "./rounds.js";

const ask: Record<string, InputRequest> = {
  name: { method: "elicitation/create", params: { message: "name?", requestedSchema: { type: "object" } } },
  greeting: {
    method: "sampling/createMessage",
    params: { messages: [{ role: "user", content: { type: "text", text: "hi" } }], maxTokens: 5 },
  },
};

const answer = (text: string) => ({
  role: "assistant" as const,
  content: { type: "text" as const, text },
  model: "m",
});

function channel(sampling: boolean, seen: string[][]): ClientChannel {
  return {
    era: "2026-07-28",
    capabilities: { elicitation: { form: {} }, ...(sampling ? { sampling: {} } : {}) },
    createMessage: async () => answer("from the client"),
    requestInput: async (requests) => {
      seen.push(Object.keys(requests));
      return Object.fromEntries(
        Object.entries(requests).map(([k, r]) => [
          k,
          r.method === "sampling/createMessage" ? answer("from the client") : { action: "accept" },
        ]),
      );
    },
    notify: async () => {},
  };
}

describe("input rounds with the gateway's sampling", () => {
  const sample: SampleFallback = async (params) =>
    answer(`router: ${(params.messages[0]?.content as { text: string } | undefined)?.text}`);
  const signal = new AbortController().signal;

  it("serves sampling for a client that cannot sample; the client answers the rest", async () => {
    const seen: string[][] = [];
    const out = await fulfilInputs(ask, channel(false, seen), signal, sample);
    expect(seen).toEqual([["name"]]);
    expect(out).toEqual({ name: { action: "accept" }, greeting: answer("router: hi") });
  });

  it("serves a sampling-only round without any client; other input still needs one", async () => {
    const only = { greeting: ask.greeting as InputRequest };
    expect(await fulfilInputs(only, undefined, signal, sample)).toEqual({ greeting: answer("router: hi") });
    await expect(fulfilInputs(ask, undefined, signal, sample)).rejects.toThrow(/no client to ask/);
    await expect(fulfilInputs(only, undefined, signal)).rejects.toThrow(/no client to ask/);
  });

  it("leaves sampling to a client that can sample", async () => {
    const seen: string[][] = [];
    const out = await fulfilInputs(ask, channel(true, seen), signal, sample);
    expect(seen).toEqual([["name", "greeting"]]);
    expect(out.greeting).toEqual(answer("from the client"));
  });

  it("declares sampling in the 2026 envelope only when the gateway samples", () => {
    const caps = (env: Record<string, unknown>) => Object.values(env)[0] as Record<string, unknown>;
    expect(caps(modernEnvelope(channel(false, []), true)).sampling).toEqual({});
    expect(caps(modernEnvelope(channel(false, []), false)).sampling).toBeUndefined();
  });
});
