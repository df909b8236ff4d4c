/**
 * Stage 2, resolve: finds the tool, prompt or resource in the registry and, for tools, compares the
 * definition's hash with the pinned one so the policy sees `changed: true` for a tool whose
 * name, description, schemas or annotations moved since approval. The definition hash is computed
 * once per registry generation (memoised on the registry entry), not once per call, and a tool of
 * an index already built is resolved without waiting on a promise.
 */
import { digest } from "../../native/index.js";
import { intern } from "../canonical-fragments.js";
import type { Registry, ToolEntry } from "../registry/registry.js";
import type { CallContext, PinPort, PolicyTarget, Stage, ToolAnnotations } from "./context.js";

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

/** `obj` itself when its members ascend (canonical order), else a copy with them sorted. */
export function sortedMembers<T extends object>(obj: T): T {
  let prev: string | undefined;
  let sorted = true;
  for (const key in obj) {
    if (prev !== undefined && !(prev < key)) {
      sorted = false;
      break;
    }
    prev = key;
  }
  if (sorted) return obj;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(obj).sort()) copy[key] = (obj as Record<string, unknown>)[key];
  return copy as T;
}

/**
 * Fills the context from a tool's registry entry. The target is built with its members in
 * canonical order (annotations too, memoised per entry), so the audit records and context hash
 * that embed it canonicalise with one JSON.stringify.
 */
function resolveTool(ctx: CallContext, entry: ToolEntry, pins: PinPort | undefined): void {
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
  const last = entry.target as PolicyTarget | undefined;
  if (last && last.changed === pin.changed && last.definition_hash === pin.hash && last.name === ctx.name) {
    ctx.target = last;
    return;
  }
  if (entry.tool.annotations && !entry.targetAnnotations)
    entry.targetAnnotations = sortedMembers(structuredClone(entry.tool.annotations));
  const annotations = entry.tool.annotations ? entry.targetAnnotations : undefined;
  const target: PolicyTarget = annotations
    ? {
        annotations: annotations as ToolAnnotations,
        changed: pin.changed,
        definition_hash: pin.hash,
        kind: "tool",
        name: ctx.name,
        server: entry.source.name,
      }
    : {
        changed: pin.changed,
        definition_hash: pin.hash,
        kind: "tool",
        name: ctx.name,
        server: entry.source.name,
      };
  // Interned: frozen, its canonical text kept for the context hash and both audit records.
  entry.target = intern(target);
  ctx.target = target;
}

export function resolve(registry: Registry, pins: PinPort | undefined): Stage {
  return function resolveStage(ctx, next) {
    if (ctx.action === "tools/call") {
      const known = registry.toolEntryNow(ctx.name);
      if (known) {
        resolveTool(ctx, known, pins);
        return next();
      }
      return registry.resolveTool(ctx.name).then((entry) => {
        resolveTool(ctx, entry, pins);
        return next();
      });
    }
    if (ctx.action === "prompts/get") {
      return registry.resolvePrompt(ctx.name).then((entry) => {
        ctx.source = entry.source;
        ctx.sourceName = entry.name;
        ctx.target = { kind: "prompt", name: ctx.name, server: entry.source.name };
        return next();
      });
    }
    return registry.resolveResource(ctx.name).then((entry) => {
      ctx.source = entry.source;
      ctx.sourceName = ctx.name;
      ctx.target = { kind: "resource", name: ctx.name, server: entry.source.name };
      return next();
    });
  };
}
