/**
 * Input-required rounds with a 2026-07-28 upstream (SEP-2322). The upstream answers a call with
 * `resultType: "input_required"` and a map of embedded requests (elicitation, sampling, roots);
 * the gateway gets the answers from the client of the call — a 2026 client sees the same map in
 * its own input-required result, a 2025 client gets each request as a server-to-client request —
 * and the adapter retries with `inputResponses` under the same keys. Also the per-request `_meta`
 * envelope that tells a 2026 upstream what the downstream client declared.
 */
import { CLIENT_CAPABILITIES_META_KEY, LOG_LEVEL_META_KEY } from "@modelcontextprotocol/client";
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
export function modernEnvelope(channel: ClientChannel): Record<string, unknown> {
  return {
    [CLIENT_CAPABILITIES_META_KEY]: channel.capabilities,
    ...(channel.logLevel ? { [LOG_LEVEL_META_KEY]: channel.logLevel } : {}),
  };
}

function cannot(what: string): PortcullisError {
  return new PortcullisError("GW_ERR_UPSTREAM", `the upstream needs input the client cannot give: ${what}`);
}

/** The answers to one round's input requests, from the call's client. */
export async function fulfilInputs(
  requests: Record<string, InputRequest>,
  channel: ClientChannel | undefined,
  signal: AbortSignal,
): Promise<Record<string, unknown>> {
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
