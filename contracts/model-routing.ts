/**
 * Model routing contract: which providers exist (`ProviderConfig`, with a credential *reference*
 * — never the secret), how a model request picks one (`Route`: match → targets by strategy, then
 * fallbacks, never after the first streamed token) and what may leave the gateway
 * (`RedactionPolicy`: detectors, the action on a finding, and which providers may receive each
 * data class).
 */
import { z } from "zod";
import { DataClass, documentChecks, Id, intIn, nonEmpty, ProviderId, V1 } from "./common.js";

/** `env:NAME` or `file:path` — a reference resolved at use, never the secret itself. */
export const CredentialRef = z
  .string()
  .regex(
    /^(env:[A-Za-z_][A-Za-z0-9_]*|file:[^\u0000-\u001f]+)$/,
    "a secret reference such as env:NAME or file:path",
  )
  .describe("Secret reference: env:NAME or file:path");

export const ProviderKind = z.enum(["openai", "anthropic", "openai_compatible"]);

/**
 * The wire API a provider is called with. Absent means the kind's default (`openai` and
 * `openai_compatible` → `chat_completions`, `anthropic` → `messages`); `responses` is OpenAI's
 * alone, `messages` Anthropic's alone.
 */
export const ProviderApi = z.enum(["chat_completions", "responses", "messages"]);

/** The APIs each provider kind can speak; the first is its default. */
export const PROVIDER_APIS: Readonly<Record<ProviderKind, readonly ProviderApi[]>> = {
  openai: ["chat_completions", "responses"],
  openai_compatible: ["chat_completions"],
  anthropic: ["messages"],
};

/** The API a provider is called with: its `api`, else its kind's default. */
export function providerApi(config: { kind: ProviderKind; api?: ProviderApi }): ProviderApi {
  return config.api ?? (PROVIDER_APIS[config.kind][0] as ProviderApi);
}

const TimeoutMs = intIn(1, 3_600_000);

export const ProviderConfig = z
  .strictObject({
    v: V1,
    id: ProviderId,
    kind: ProviderKind,
    base_url: z
      .string()
      .regex(/^https?:\/\/[^\u0000-\u0020\u007f]+$/, "an http(s) URL")
      .max(2048),
    credential: CredentialRef.optional().describe("Absent for local providers that need none"),
    models: z.array(nonEmpty(256)).min(1),
    local: z.boolean().describe("Runs on this machine or network: data never leaves it"),
    timeouts: z
      .strictObject({
        connect_ms: TimeoutMs.optional(),
        first_token_ms: TimeoutMs.optional(),
        idle_ms: TimeoutMs.optional(),
        request_ms: TimeoutMs.optional(),
      })
      .optional(),
    retry: z
      .strictObject({
        max_attempts: intIn(1, 10),
        backoff_ms: intIn(0, 60_000),
        retry_on: z.array(z.enum(["connect_error", "timeout", "rate_limited", "server_error"])).optional(),
      })
      .optional(),
    weight: intIn(0, 10_000).optional(),
    api: ProviderApi.optional().describe(
      "Wire API; default by kind: openai and openai_compatible → chat_completions, anthropic → messages",
    ),
  })
  .superRefine(documentChecks)
  .superRefine((config, ctx) => {
    if (config.api !== undefined && !PROVIDER_APIS[config.kind].includes(config.api)) {
      ctx.addIssue({
        code: "custom",
        message: `api ${config.api} is not spoken by kind ${config.kind}`,
        path: ["api"],
        input: config.api,
      });
    }
  })
  .describe("One model provider");

export const RouteTarget = z.strictObject({
  provider: ProviderId,
  model: nonEmpty(256),
  weight: intIn(0, 10_000).optional(),
});

export const RouteMatch = z.strictObject({
  models: z.array(nonEmpty(256)).optional().describe("Requested model names; a trailing * matches a prefix"),
  principals: z.array(Id).optional(),
  roles: z.array(nonEmpty(128)).optional(),
  data_classes: z.array(DataClass).optional().describe("Matches when the request carries any of these"),
});

export const Route = z
  .strictObject({
    v: V1,
    id: Id,
    match: RouteMatch.describe("All present criteria must hold; {} matches every request"),
    targets: z.array(RouteTarget).min(1),
    strategy: z.enum(["priority", "weighted", "round_robin", "single", "fallback", "least_latency"]),
    fallbacks: z.array(RouteTarget).optional().describe("Tried in order when every target failed"),
  })
  .superRefine(documentChecks)
  .describe("How model requests are routed to providers");

export const RedactionAction = z.enum(["mask", "hash", "block", "reversible"]);

export const RedactionPolicy = z
  .strictObject({
    v: V1,
    id: Id,
    detectors: z.array(z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, "a detector name")).min(1),
    action: RedactionAction,
    allowed_providers: z
      .record(DataClass, z.array(ProviderId))
      .describe("Data class → providers that may receive text of that class unredacted"),
  })
  .superRefine(documentChecks)
  .describe("What is redacted before text leaves for a model provider");

export type CredentialRef = z.infer<typeof CredentialRef>;
export type ProviderKind = z.infer<typeof ProviderKind>;
export type ProviderApi = z.infer<typeof ProviderApi>;
export type ProviderConfig = z.infer<typeof ProviderConfig>;
export type RouteTarget = z.infer<typeof RouteTarget>;
export type RouteMatch = z.infer<typeof RouteMatch>;
export type Route = z.infer<typeof Route>;
export type RedactionAction = z.infer<typeof RedactionAction>;
export type RedactionPolicy = z.infer<typeof RedactionPolicy>;
