/**
 * The `models` section of the configuration: the providers and routes of the model routing
 * contract (each validated by the contract's own zod schema), the redaction policy applied before
 * egress, and the router's own knobs (circuit breaker, Retry-After cap, latency smoothing). The
 * section is checked as a whole too: ids are unique and every route target names a configured
 * provider and one of that provider's models, so a typo fails at load, not at the first call.
 */
import { z } from "zod";
import { CredentialRef, ProviderConfig, RedactionPolicy, Route } from "../../contracts/index.js";

export const ModelsConfig = z
  .strictObject({
    providers: z.array(ProviderConfig).default([]),
    routes: z
      .array(Route)
      .default([])
      .describe("Tried in order: the first route whose match holds serves the request"),
    redaction: RedactionPolicy.optional().describe(
      "What is redacted before a request leaves for a provider; absent: nothing is redacted and the policy sees every data class found",
    ),
    hashKey: CredentialRef.optional().describe(
      "HMAC key of the 'hash' redaction action, by reference; default: a random key per process",
    ),
    breaker: z
      .strictObject({
        failures: z.number().int().min(1).max(1000).default(5),
        cooldownMs: z.number().int().min(1).max(3_600_000).default(30_000),
      })
      .prefault({})
      .describe("Per-target circuit breaker: opens after this many consecutive failures"),
    maxRetryAfterMs: z
      .number()
      .int()
      .min(0)
      .max(600_000)
      .default(30_000)
      .describe("Longest Retry-After the router waits before retrying a target"),
    latencyAlpha: z
      .number()
      .gt(0)
      .max(1)
      .default(0.3)
      .describe("Weight of the newest sample in the least_latency EWMA"),
    samplingModel: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        "Model name serving an upstream MCP server's sampling request that no client can answer, when its hints name none a route serves",
      ),
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024)
      .describe("Largest request body of the model API"),
  })
  .superRefine((m, ctx) => {
    const providers = new Map(m.providers.map((p) => [p.id, p]));
    if (providers.size !== m.providers.length)
      ctx.addIssue({ code: "custom", path: ["providers"], message: "provider ids must be unique", input: m });
    const routeIds = new Set(m.routes.map((r) => r.id));
    if (routeIds.size !== m.routes.length)
      ctx.addIssue({ code: "custom", path: ["routes"], message: "route ids must be unique", input: m });
    m.routes.forEach((route, i) => {
      const lists = [["targets", route.targets] as const, ["fallbacks", route.fallbacks ?? []] as const];
      for (const [key, targets] of lists)
        targets.forEach((t, j) => {
          const p = providers.get(t.provider);
          const path = ["routes", i, key, j];
          if (!p)
            ctx.addIssue({ code: "custom", path, message: `unknown provider '${t.provider}'`, input: t });
          else if (!p.models.includes(t.model))
            ctx.addIssue({
              code: "custom",
              path,
              message: `provider '${t.provider}' does not list model '${t.model}'`,
              input: t,
            });
        });
      if (route.strategy === "single" && route.targets.length !== 1)
        ctx.addIssue({
          code: "custom",
          path: ["routes", i, "targets"],
          message: "strategy 'single' takes exactly one target",
          input: route.targets,
        });
    });
  });

export type ModelsConfig = z.infer<typeof ModelsConfig>;
