/**
 * Stage 2, resolve: finds the tool, prompt or resource in the registry and, for tools, compares the
 * definition's hash with the pinned one so the policy sees `changed: true` for a tool whose
 * name, description, schemas or annotations moved since approval.
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
      const def = pinnedDefinition(entry.tool);
      const pin = pins ? pins.check(ctx.name, def) : { hash: digest(def), changed: false };
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
