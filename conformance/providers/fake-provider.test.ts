import { afterEach, describe, expect, it } from "vitest";
import { SseParser } from "../../adapters/models/sse.js";
import type { SseEvent } from "../../adapters/models/types.js";
import { type FakeFormat, type FakeProvider, failFirst, startFakeProvider } from "./fake-provider.js";

const PATHS: Record<FakeFormat, string> = {
  openai_chat: "/v1/chat/completions",
  openai_responses: "/v1/responses",
  anthropic_messages: "/v1/messages",
};

function userBody(format: FakeFormat, text: string, stream: boolean): Record<string, unknown> {
  if (format === "openai_responses") return { model: "m", input: text, stream };
  return { model: "m", max_tokens: 64, messages: [{ role: "user", content: text }], stream };
}

/** Reads a whole SSE body, also recording how many network reads it took. */
async function readEvents(res: Response): Promise<{ events: SseEvent[]; reads: number }> {
  const parser = new SseParser();
  const events: SseEvent[] = [];
  let reads = 0;
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    reads++;
    events.push(...parser.push(value));
  }
  events.push(...parser.end());
  return { events, reads };
}

let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe.each(["openai_chat", "openai_responses", "anthropic_messages"] as const)(
  "fake %s provider",
  (format) => {
    it("echoes the last user message, non-streamed, and records the request", async () => {
      fake = await startFakeProvider({ format });
      const res = await fetch(`${fake.url}${PATHS[format]}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer k" },
        body: JSON.stringify(userBody(format, "héllo", false)),
      });
      expect(res.status).toBe(200);
      expect(JSON.stringify(await res.json())).toContain("echo: héllo");
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]?.headers.authorization).toBe("Bearer k");
      expect(fake.requests[0]?.body?.model).toBe("m");
    });

    it("streams the echo in split frames that reassemble into whole JSON events", async () => {
      fake = await startFakeProvider({
        format,
        script: { text: "snow ☃ and 🚀", stream: { splitBytes: 5, pings: true } },
      });
      const res = await fetch(`${fake.url}${PATHS[format]}`, {
        method: "POST",
        body: JSON.stringify(userBody(format, "x", true)),
      });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const { events } = await readEvents(res);
      const data = events.map((e) => e.data).filter((d) => d !== "[DONE]");
      for (const d of data) expect(() => JSON.parse(d)).not.toThrow();
      expect(data.join("")).toContain("☃");
      if (format === "anthropic_messages") expect(events.some((e) => e.event === "ping")).toBe(true);
      if (format === "openai_chat") expect(events.at(-1)?.data).toBe("[DONE]");
    });

    it("fails the first requests of a burst, with Retry-After, then answers", async () => {
      fake = await startFakeProvider({ format, script: failFirst(2, 503, undefined, "1") });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${fake.url}${PATHS[format]}`, {
          method: "POST",
          body: JSON.stringify(userBody(format, "x", false)),
        });
        statuses.push(res.status);
        if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
        await res.arrayBuffer();
      }
      expect(statuses).toEqual([503, 503, 200]);
    });
  },
);

describe("fake provider routing", () => {
  it("answers 404 in its own error format on another path", async () => {
    fake = await startFakeProvider({ format: "anthropic_messages" });
    const res = await fetch(`${fake.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });
});
