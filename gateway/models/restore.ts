/**
 * Restoring reversible placeholders (`[SECRET_1]`) in a provider's answer, so the client sees its
 * own values again while the provider never did. Text is restored as is; tool-call arguments are
 * JSON text, so there the original is restored JSON-escaped. Streams are restored incrementally
 * per content part: each delta is released at once except a tail that could still become a
 * placeholder (a `[` followed by a prefix of a known placeholder) — at most one placeholder's
 * length is ever held, never the stream — and that tail is released with the next delta, at the
 * part's end, or before an error.
 */
import type { ChatResponse, ChatStreamEvent, ContentPart } from "../../adapters/models/types.js";
import { restoreText } from "../../native/index.js";
import type { StreamRestorer } from "./router-types.js";

type Mapping = Readonly<Record<string, string>>;

/** The mapping for JSON text: originals escaped as they must appear inside a JSON string. */
function jsonEscaped(mapping: Mapping): Record<string, string> {
  return Object.fromEntries(Object.entries(mapping).map(([k, v]) => [k, JSON.stringify(v).slice(1, -1)]));
}

/** Restores placeholders in a whole answer. */
export function restoreResponse(res: ChatResponse, mapping: Mapping): ChatResponse {
  const json = jsonEscaped(mapping);
  return {
    ...res,
    content: res.content.map((p): ContentPart => {
      if (p.type === "text") return { ...p, text: restoreText(p.text, mapping) };
      if (p.type === "tool_call") return { ...p, arguments: restoreText(p.arguments, json) };
      return p;
    }),
  };
}

/**
 * Where the held-back tail of `text` starts: the first `[` from which the rest is a strict prefix
 * of some placeholder (it may still complete), or `text.length` when nothing needs holding.
 */
export function holdFrom(text: string, placeholders: readonly string[], longest: number): number {
  for (let p = Math.max(0, text.length - longest + 1); p < text.length; p++) {
    if (text.charCodeAt(p) !== 91 /* [ */) continue;
    const tail = text.slice(p);
    if (placeholders.some((k) => k.length > tail.length && k.startsWith(tail))) return p;
  }
  return text.length;
}

/** A stream restorer for one answer. */
export function createStreamRestorer(mapping: Mapping): StreamRestorer {
  const placeholders = Object.keys(mapping);
  const longest = Math.max(0, ...placeholders.map((k) => k.length));
  const json = jsonEscaped(mapping);
  /** Held-back tail per part index, and whether that part is tool arguments. */
  const held = new Map<number, { text: string; args: boolean }>();

  const release = (index: number, args: boolean, text: string, final: boolean): ChatStreamEvent[] => {
    const cut = final ? text.length : holdFrom(text, placeholders, longest);
    const out = text.slice(0, cut);
    held.set(index, { text: text.slice(cut), args });
    if (out.length === 0) return [];
    return args
      ? [{ type: "tool_arguments_delta", index, arguments: restoreText(out, json) }]
      : [{ type: "text_delta", index, text: restoreText(out, mapping) }];
  };

  const flushPart = (index: number): ChatStreamEvent[] => {
    const h = held.get(index);
    if (!h || h.text.length === 0) return [];
    return release(index, h.args, h.text, true);
  };

  return {
    push(ev) {
      switch (ev.type) {
        case "text_delta":
          return release(ev.index, false, (held.get(ev.index)?.text ?? "") + ev.text, false);
        case "tool_arguments_delta":
          return release(ev.index, true, (held.get(ev.index)?.text ?? "") + ev.arguments, false);
        case "part_stop":
          return [...flushPart(ev.index), ev];
        default:
          return [ev];
      }
    },
    flush() {
      return [...held.keys()].flatMap(flushPart);
    },
  };
}
