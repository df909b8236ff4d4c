import { describe, expect, it } from "vitest";
import { formatSseComment, formatSseFrame, parseSse, SseParser } from "./sse.js";
import type { SseEvent } from "./types.js";

const enc = new TextEncoder();

function parseAll(chunks: (string | Uint8Array)[]): SseEvent[] {
  const parser = new SseParser();
  const out: SseEvent[] = [];
  for (const c of chunks) out.push(...parser.push(typeof c === "string" ? enc.encode(c) : c));
  out.push(...parser.end());
  return out;
}

describe("SseParser", () => {
  it("reads events, event types, ids and multi-line data", () => {
    expect(parseAll(["event: a\ndata: one\ndata: two\nid: 7\n\ndata:x\n\n"])).toEqual([
      { event: "a", data: "one\ntwo", id: "7" },
      { data: "x", id: "7" },
    ]);
  });

  it("accepts LF, CR and CRLF line ends, mixed", () => {
    expect(parseAll(["data: a\r\rdata: b\r\n\r\ndata: c\n\n"])).toEqual([
      { data: "a" },
      { data: "b" },
      { data: "c" },
    ]);
  });

  it("treats a CR at a chunk end followed by LF in the next chunk as one line end", () => {
    expect(parseAll(["data: a\r", "\ndata: b\r", "\n\r", "\n"])).toEqual([{ data: "a\nb" }]);
    // A CR then a non-LF: the CR alone ended the line.
    expect(parseAll(["data: a\r", "\r"])).toEqual([{ data: "a" }]);
  });

  it("drops one leading BOM, also when it is split, and keeps a BOM inside data", () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    expect(parseAll([bom, "data: x\n\n"])).toEqual([{ data: "x" }]);
    expect(parseAll([bom.slice(0, 1), bom.slice(1), "data: \uFEFFy\n\n"])).toEqual([{ data: "\uFEFFy" }]);
    // Without the BOM strip, the first field would be "\uFEFFdata" and be ignored.
    expect(parseAll([new Uint8Array([...bom, ...enc.encode("data: z\n\n")])])).toEqual([{ data: "z" }]);
  });

  it("ignores comments, unknown fields, and fields without a colon", () => {
    expect(parseAll([": keep-alive\n:\nfoo: bar\ndata\n\nevent\ndata: q\n\n"])).toEqual([
      { data: "" },
      { data: "q" },
    ]);
  });

  it("removes only one space after the colon", () => {
    expect(parseAll(["data:  two spaces\ndata:none\n\n"])).toEqual([{ data: " two spaces\nnone" }]);
  });

  it("does not dispatch a block without data, and resets the event type after it", () => {
    expect(parseAll(["event: lonely\n\ndata: d\n\n"])).toEqual([{ data: "d" }]);
  });

  it("keeps the last event id across events; an id with NUL is ignored; an empty id clears it", () => {
    expect(parseAll(["id: 1\ndata: a\n\ndata: b\n\nid: x\u0000y\ndata: c\n\nid\ndata: d\n\n"])).toEqual([
      { data: "a", id: "1" },
      { data: "b", id: "1" },
      { data: "c", id: "1" },
      { data: "d" },
    ]);
  });

  it("takes retry only when it is all ASCII digits", () => {
    const parser = new SseParser();
    expect(parser.push(enc.encode("retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\n"))).toEqual([
      { data: "a", retry: 1500 },
      { data: "b", retry: 1500 },
    ]);
    expect(parser.reconnectionTimeMs).toBe(1500);
  });

  it("dispatches only at a blank line and drops a trailing partial event at the end", () => {
    const parser = new SseParser();
    expect(parser.push(enc.encode("data: a\n"))).toEqual([]);
    expect(parser.push(enc.encode("\ndata: b\n"))).toEqual([{ data: "a" }]);
    expect(parser.end()).toEqual([]);
    expect(parseAll(["data: a\n\ndata: unterminated"])).toEqual([{ data: "a" }]);
  });

  it("decodes UTF-8 characters split across chunks", () => {
    const bytes = enc.encode("data: h\u00e9llo \u{1F600} \u6f22\n\n");
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(parseAll([bytes.slice(0, cut), bytes.slice(cut)])).toEqual([
        { data: "h\u00e9llo \u{1F600} \u6f22" },
      ]);
    }
  });

  it("gives the same events for every two- and three-way split of a sample stream", () => {
    const sample =
      '\uFEFF: hello\r\nevent: message_start\r\ndata: {"a":"\u00fc\u{1F680}"}\r\n\r\n' +
      "id: 42\rdata: line1\rdata: line2\r\r:ping\n\nevent: x\ndata\n\nretry: 10\ndata: \u6f22\u5b57\n\n";
    const bytes = enc.encode(sample);
    const whole = parseAll([bytes]);
    expect(whole).toEqual([
      { event: "message_start", data: '{"a":"\u00fc\u{1F680}"}' },
      { data: "line1\nline2", id: "42" },
      { event: "x", data: "", id: "42" },
      { data: "\u6f22\u5b57", id: "42", retry: 10 },
    ]);
    for (let a = 0; a <= bytes.length; a++) {
      expect(parseAll([bytes.slice(0, a), bytes.slice(a)]), `split at ${a}`).toEqual(whole);
    }
    for (let a = 0; a <= bytes.length; a += 3) {
      for (let b = a; b <= bytes.length; b += 2) {
        expect(
          parseAll([bytes.slice(0, a), bytes.slice(a, b), bytes.slice(b)]),
          `split at ${a},${b}`,
        ).toEqual(whole);
      }
    }
    // One byte at a time.
    expect(parseAll(Array.from(bytes, (b) => new Uint8Array([b])))).toEqual(whole);
  });

  it("refuses input after end", () => {
    const parser = new SseParser();
    parser.end();
    expect(() => parser.push(enc.encode("data: a\n\n"))).toThrow(/after end/);
  });
});

describe("parseSse", () => {
  it("yields events from an async byte stream as they complete", async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield enc.encode("data: 1\n");
      yield enc.encode("\ndata: 2\n\ndata: 3");
    }
    const seen: string[] = [];
    for await (const e of parseSse(body())) seen.push(e.data);
    expect(seen).toEqual(["1", "2"]);
  });
});

describe("formatSseFrame", () => {
  it("round-trips through the parser, including multi-line data of every line-end kind", () => {
    const events: SseEvent[] = [
      { data: "plain" },
      { event: "content_block_delta", data: '{"x":1}' },
      { data: "a\nb\r\nc\rd", id: "9", retry: 3000 },
      { data: "" },
      { data: "\n" },
    ];
    const text = events.map(formatSseFrame).join("") + formatSseComment("ping") + formatSseComment();
    expect(parseAll([text])).toEqual([
      { data: "plain" },
      { event: "content_block_delta", data: '{"x":1}' },
      { data: "a\nb\nc\nd", id: "9", retry: 3000 },
      { data: "", id: "9" },
      { data: "\n", id: "9" },
    ]);
  });

  it("refuses an event type or id that would break the framing", () => {
    expect(() => formatSseFrame({ event: "a\nb", data: "" })).toThrow(/single line/);
    expect(() => formatSseFrame({ id: "a\rb", data: "" })).toThrow(/single line/);
    expect(() => formatSseFrame({ id: "a\u0000", data: "" })).toThrow(/NUL/);
    expect(() => formatSseFrame({ retry: -1, data: "" })).toThrow(/retry/);
    expect(() => formatSseComment("x\ny")).toThrow(/single line/);
  });
});
