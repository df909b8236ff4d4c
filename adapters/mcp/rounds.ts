/**
 * Input-required rounds with a 2026-07-28 upstream (SEP-2322). The upstream answers a call with
 * `resultType: "input_required"` and a map of embedded requests (elicitation, sampling, roots);
 * the gateway gets the answers from the client of the call — a 2026 client sees the same map in
 * its own input-required result, a 2025 client gets each request as a server-to-client request —
 * and the adapter retries with `inputResponses` under the same keys. Also the per-request `_meta`
 * envelope that tells a 2026 upstream what the downstream client declared. Sampling requests a
 * client cannot answer are served by the gateway's model router when one is configured.
 */
import { CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY } from "@modelcontextprotocol/client";
import type { CreateMessageRequest, CreateMessageResult } from "@modelcontextprotocol/sdk/types.js";
import { PortcullisError } from "../../gateway/errors.js";
import type { ClientChannel, InputRequest } from "../../gateway/registry/source.js";

/** Rounds one call may take before the gateway gives up on the upstream. */
export const MAX_INPUT_ROUNDS = 16;

export interface InputRequiredShape {
  resultType: "input_required";
  inputRequests?: Record<string, InputRequest>;
  requestState?: string;
}

export function isInputRequired(result: unknown): result is InputRequiredShape {
  return (
    typeof result === "object" &&
    result !== null &&
    (result as { resultType?: unknown }).resultType === "input_required"
  );
}

/**
 * The `_meta` keys a 2026 upstream reads per request: the downstream client's declared
 * capabilities (so the upstream asks only for what that client can answer, or refuses with
 * -32021 as it would directly) and its log level when it set one.
 */
export function modernEnvelope(channel: ClientChannel, gatewaySamples = false): Record<string, unknown> {
  // The gateway answers sampling itself (the model router) when the client cannot: declare it.
  const capabilities =
    gatewaySamples && !channel.capabilities.sampling
      ? { ...channel.capabilities, sampling: {} }
      : channel.capabilities;
  return {
    [CLIENT_CAPABILITIES_META_KEY]: capabilities,
    ...(channel.logLevel ? { [LOG_LEVEL_META_KEY]: channel.logLevel } : {}),
  };
}

function cannot(what: string): PortcullisError {
  return new PortcullisError("GW_ERR_UPSTREAM", `the upstream needs input the client cannot give: ${what}`);
}

/** Serves a sampling request without the client (the model router, gateway/models/sampling.ts). */
export type SampleFallback = (
  params: CreateMessageRequest["params"],
  signal: AbortSignal,
) => Promise<CreateMessageResult>;

/**
 * The answers to one round's input requests, from the call's client. When the client cannot
 * sample (no client, or none that declared sampling) and `sample` is given, the round's sampling
 * requests are served by it and the rest still go to the client.
 */
export async function fulfilInputs(
  requests: Record<string, InputRequest>,
  channel: ClientChannel | undefined,
  signal: AbortSignal,
  sample?: SampleFallback,
): Promise<Record<string, unknown>> {
  if (sample && !(channel?.createMessage && channel.capabilities.sampling)) {
    const forClient: Record<string, InputRequest> = {};
    const served: [string, Promise<CreateMessageResult>][] = [];
    for (const [key, req] of Object.entries(requests)) {
      if (req.method === "sampling/createMessage") served.push([key, sample(req.params as never, signal)]);
      else forClient[key] = req;
    }
    if (served.length > 0) {
      const fromClient =
        Object.keys(forClient).length > 0 ? fulfilInputs(forClient, channel, signal) : Promise.resolve({});
      const [client, sampled] = await Promise.all([
        fromClient,
        Promise.all(served.map(async ([key, p]) => [key, await p] as const)),
      ]);
      return { ...client, ...Object.fromEntries(sampled) };
    }
  }
  if (!channel) throw cannot("the request has no client to ask");
  // A 2026 client answers the whole map in one round of its own, keys unchanged.
  if (channel.requestInput) return channel.requestInput(requests, signal);
  const answers: Record<string, unknown> = {};
  for (const [key, req] of Object.entries(requests)) {
    const params = (req.params ?? {}) as never;
    switch (req.method) {
      case "elicitation/create":
        if (!channel.elicit || !channel.capabilities.elicitation) throw cannot("elicitation");
        answers[key] = await channel.elicit(params, signal);
        break;
      case "sampling/createMessage":
        if (!channel.createMessage || !channel.capabilities.sampling) throw cannot("sampling");
        answers[key] = await channel.createMessage(params, signal);
        break;
      case "roots/list":
        if (!channel.listRoots || !channel.capabilities.roots) throw cannot("roots");
        answers[key] = await channel.listRoots(signal);
        break;
      default:
        throw cannot(`unknown input request method '${req.method}'`);
    }
  }
  return answers;
}
