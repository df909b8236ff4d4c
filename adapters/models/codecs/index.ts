/**
 * The wire codecs by format. `codecFor(format)` is how the router, the inbound routes and the
 * provider adapters pick one; each is stateless (stream state lives in the decoders and encoders
 * they create).
 */
import type { WireCodec, WireFormat } from "../types.js";
import { anthropicMessagesCodec } from "./anthropic-messages.js";
import { openaiChatCodec } from "./openai-chat.js";
import { openaiResponsesCodec } from "./openai-responses.js";

export { anthropicMessagesCodec, DEFAULT_ANTHROPIC_MAX_TOKENS } from "./anthropic-messages.js";
export { createOpenAIChatCodec, type OpenAIChatCodecOptions, openaiChatCodec } from "./openai-chat.js";
export { openaiResponsesCodec } from "./openai-responses.js";

export const CODECS: Readonly<Record<WireFormat, WireCodec>> = {
  openai_chat: openaiChatCodec,
  openai_responses: openaiResponsesCodec,
  anthropic_messages: anthropicMessagesCodec,
};

export function codecFor(format: WireFormat): WireCodec {
  return CODECS[format];
}
