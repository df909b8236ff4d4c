/**
 * Stage 2, resolve: finds the tool, prompt or resource in the registry and, for tools, compares the
 * definition's hash with the pinned one so the policy sees `changed: true` for a tool whose
 * name, description, schemas or annotations moved since approval. The definition hash is computed
 * once per registry generation (memoised on the registry entry), not once per call.
 */
import { digest } from "../../native/index.js";
import type { Registry } from "../registry/registry.js";
import type { PinPort, Stage } from "./context.js";

/** The parts of a tool definition that are pinned. */
export function pinnedDefinition(tool: {
  name: string;
  description?: string | undefined;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}): Record<string, unknown> {
  const def: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) def.description = tool.description;
  if (tool.inputSchema !== undefined) def.inputSchema = tool.inputSchema;
  if (tool.outputSchema !== undefined) def.outputSchema = tool.outputSchema;
  if (tool.annotations !== undefined) def.annotations = tool.annotations;
  return def;
}

export function resolve(registry: Registry, pins: PinPort | undefined): Stage {
  return async function resolveStage(ctx, next) {
    if (ctx.action === "tools/call") {
      const entry = await registry.resolveTool(ctx.name);
      ctx.source = entry.source;
      ctx.sourceName = entry.definition.name;
      ctx.definition = entry.tool;
      entry.definitionHash ??= digest(pinnedDefinition(entry.tool));
      const hash = entry.definitionHash;
      const pin = pins
        ? pins.checkHash
          ? pins.checkHash(ctx.name, hash)
          : pins.check(ctx.name, pinnedDefinition(entry.tool))
        : { hash, changed: false };
      ctx.target = {
        kind: "tool",
        name: ctx.name,
        server: entry.source.name,
        ...(entry.tool.annotations ? { annotations: entry.tool.annotations } : {}),
        definition_hash: pin.hash,
        changed: pin.changed,
      };
    } else if (ctx.action === "prompts/get") {
      const entry = await registry.resolvePrompt(ctx.name);
      ctx.source = entry.source;
      ctx.sourceName = entry.name;
      ctx.target = { kind: "prompt", name: ctx.name, server: entry.source.name };
    } else {
      const entry = await registry.resolveResource(ctx.name);
      ctx.source = entry.source;
      ctx.sourceName = ctx.name;
      ctx.target = { kind: "resource", name: ctx.name, server: entry.source.name };
    }
    await next();
  };
}
