/**
 * The registry aggregates tools, prompts, resources, resource templates and completions from all
 * capability sources (upstreams and built-ins) into one namespace. Tool and prompt names get the
 * source's prefix and are kept within 64 characters (see names.ts); a name two sources would share
 * is refused for the later source and reported, never silently shadowed. Resources keep their URIs
 * and are routed by exact URI, then by template. Lists are cached per source until that source
 * reports `list_changed`, which is passed on to the registry's listeners; the aggregated tool list
 * and its by-name index are built once per such generation, so resolving a tool per call is one
 * map lookup (and each entry's pinned-definition hash is computed once per generation).
 */
import type { Prompt, Resource, ResourceTemplate, Tool } from "@modelcontextprotocol/sdk/types.js";
import { PortcullisError } from "../errors.js";
import { qualifyName } from "./names.js";
import type { CapabilitySource, ListKind } from "./source.js";

export interface ToolEntry {
  /** The tool as clients see it (qualified name). */
  tool: Tool;
  /** The tool as the source defines it (source's own name). */
  definition: Tool;
  source: CapabilitySource;
  /**
   * Memo of the hash of the pinned parts of `tool`, filled by the first call that needs it; valid
   * for the life of the entry (entries are rebuilt when a source's tool list changes).
   */
  definitionHash?: string;
  /** Memo of `tool.annotations` with its members in canonical order (what the policy target carries). */
  targetAnnotations?: Record<string, unknown>;
  /**
   * Memo of the last policy target built for this tool (interned, so frozen): reused while the
   * pin state it carries is unchanged.
   */
  target?: unknown;
}

/** The aggregated tool list of one generation of the source lists, with its by-name index. */
interface ToolIndex {
  entries: ToolEntry[];
  byName: Map<string, ToolEntry>;
}

export interface PromptEntry {
  prompt: Prompt;
  name: string;
  source: CapabilitySource;
}

export interface ResourceEntry {
  resource: Resource;
  source: CapabilitySource;
}

export interface TemplateEntry {
  template: ResourceTemplate;
  source: CapabilitySource;
  pattern: RegExp;
}

export interface RegistryWarning {
  source: string;
  message: string;
}

type Listener = (kind: ListKind) => void;

interface SourceCache {
  tools?: Promise<Tool[]>;
  prompts?: Promise<Prompt[]>;
  resources?: Promise<Resource[]>;
  templates?: Promise<ResourceTemplate[]>;
}

export class Registry {
  readonly sources: readonly CapabilitySource[];
  readonly warnings: RegistryWarning[] = [];
  private readonly cache = new Map<CapabilitySource, SourceCache>();
  private readonly listeners = new Set<Listener>();
  private readonly updateListeners = new Set<(uri: string) => void>();
  /** The current tool index; dropped whenever any source's tool list changes. */
  private tools: Promise<ToolIndex> | undefined;
  /** The last index that finished building (current while `tools` is still its promise). */
  private builtTools: { promise: Promise<ToolIndex>; index: ToolIndex } | undefined;

  constructor(sources: CapabilitySource[]) {
    this.sources = sources;
    for (const s of sources) {
      this.cache.set(s, {});
      s.setEvents({
        onListChanged: (kind) => this.invalidate(s, kind),
        onResourceUpdated: (uri) => {
          for (const l of this.updateListeners) l(uri);
        },
      });
    }
  }

  /** Listens for list changes of any source; returns the unsubscribe function. */
  onListChanged(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResourceUpdated(listener: (uri: string) => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  private invalidate(source: CapabilitySource, kind: ListKind): void {
    const c = this.cache.get(source);
    if (kind === "tools") {
      this.tools = undefined;
      this.builtTools = undefined;
    }
    if (c) {
      if (kind === "tools") c.tools = undefined;
      if (kind === "prompts") c.prompts = undefined;
      if (kind === "resources") {
        c.resources = undefined;
        c.templates = undefined;
      }
    }
    for (const l of this.listeners) l(kind);
  }

  /** Lists of one kind from every source; a failing source is reported and left out, not fatal. */
  private async gather<T>(
    key: keyof SourceCache,
    fetch: (s: CapabilitySource) => Promise<T[]>,
    onFailure?: () => void,
  ): Promise<Array<{ source: CapabilitySource; items: T[] }>> {
    return Promise.all(
      this.sources.map(async (source) => {
        const c = this.cache.get(source)!;
        let p = c[key] as Promise<T[]> | undefined;
        if (!p) {
          p = fetch(source);
          (c as Record<string, Promise<unknown> | undefined>)[key] = p;
          p.catch(() => {
            if ((c as Record<string, unknown>)[key] === p) (c as Record<string, unknown>)[key] = undefined;
          });
        }
        try {
          return { source, items: await p };
        } catch (e) {
          this.warn(source.name, `cannot list ${key}: ${e instanceof Error ? e.message : String(e)}`);
          onFailure?.();
          return { source, items: [] };
        }
      }),
    );
  }

  private warn(source: string, message: string): void {
    this.warnings.push({ source, message });
    if (this.warnings.length > 100) this.warnings.shift();
  }

  async listTools(): Promise<ToolEntry[]> {
    // A copy: callers may filter or sort it; the index itself stays as built.
    return [...(await this.toolIndex()).entries];
  }

  /**
   * The tool index, built once per generation. A source that failed to list is left out of this
   * index and retried by the next lookup, so a build that saw a failure is not kept.
   */
  private toolIndex(): Promise<ToolIndex> {
    const current = this.tools;
    if (current) return current;
    let failed = false;
    const build = this.gather(
      "tools",
      (s) => s.listTools(),
      () => {
        failed = true;
      },
    ).then((lists) => {
      const entries: ToolEntry[] = [];
      const byName = new Map<string, ToolEntry>();
      for (const { source, items } of lists) {
        for (const definition of items) {
          const name = qualifyName(source.prefix, definition.name);
          if (byName.has(name)) {
            this.warn(source.name, `tool '${definition.name}' left out: the name '${name}' is already taken`);
            continue;
          }
          const entry: ToolEntry = { tool: { ...definition, name }, definition, source };
          byName.set(name, entry);
          entries.push(entry);
        }
      }
      // Keep the index only while no list change or failure happened meanwhile.
      const index = { entries, byName };
      if (failed && this.tools === build) this.tools = undefined;
      else this.builtTools = { promise: build, index };
      return index;
    });
    this.tools = build;
    build.catch(() => {
      if (this.tools === build) this.tools = undefined;
    });
    return build;
  }

  /**
   * The entry of a qualified tool name when the current index is built and has it; undefined when
   * only `resolveTool` can tell (index still building, or the name unknown). The per-call fast path.
   */
  toolEntryNow(name: string): ToolEntry | undefined {
    return this.tools === this.builtTools?.promise ? this.builtTools?.index.byName.get(name) : undefined;
  }

  /** The entry of a qualified tool name; GW_ERR_NOT_FOUND when no source offers it. */
  async resolveTool(name: string): Promise<ToolEntry> {
    const entry = (await this.toolIndex()).byName.get(name);
    if (!entry)
      throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown tool '${name}'`, { details: { name } });
    return entry;
  }

  async listPrompts(): Promise<PromptEntry[]> {
    const out: PromptEntry[] = [];
    const seen = new Set<string>();
    for (const { source, items } of await this.gather("prompts", (s) => s.listPrompts())) {
      for (const prompt of items) {
        const name = qualifyName(source.prefix, prompt.name);
        if (seen.has(name)) {
          this.warn(source.name, `prompt '${prompt.name}' left out: the name '${name}' is already taken`);
          continue;
        }
        seen.add(name);
        out.push({ prompt: { ...prompt, name }, name: prompt.name, source });
      }
    }
    return out;
  }

  async resolvePrompt(name: string): Promise<PromptEntry> {
    const entry = (await this.listPrompts()).find((e) => e.prompt.name === name);
    if (!entry)
      throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown prompt '${name}'`, { details: { name } });
    return entry;
  }

  async listResources(): Promise<ResourceEntry[]> {
    const out: ResourceEntry[] = [];
    for (const { source, items } of await this.gather("resources", (s) => s.listResources()))
      for (const resource of items) out.push({ resource, source });
    return out;
  }

  async listResourceTemplates(): Promise<TemplateEntry[]> {
    const out: TemplateEntry[] = [];
    for (const { source, items } of await this.gather("templates", (s) => s.listResourceTemplates()))
      for (const template of items)
        out.push({ template, source, pattern: templatePattern(template.uriTemplate) });
    return out;
  }

  /**
   * The source serving a URI: a listed resource first, then a matching template, then (when there
   * is exactly one source offering resources) that source, since servers may serve unlisted URIs.
   */
  async resolveResource(uri: string): Promise<{ source: CapabilitySource; resource?: Resource }> {
    const listed = (await this.listResources()).find((e) => e.resource.uri === uri);
    if (listed) return listed;
    const templated = (await this.listResourceTemplates()).find((e) => e.pattern.test(uri));
    if (templated) return { source: templated.source };
    if (this.sources.length === 1) return { source: this.sources[0]! };
    throw new PortcullisError("GW_ERR_NOT_FOUND", `unknown resource '${uri}'`, { details: { uri } });
  }

  /** The source a completion request belongs to (by prompt name or resource template). */
  async resolveCompletion(
    ref: { type: "ref/prompt"; name: string } | { type: "ref/resource"; uri: string },
  ): Promise<{ source: CapabilitySource; ref: typeof ref }> {
    if (ref.type === "ref/prompt") {
      const p = await this.resolvePrompt(ref.name);
      return { source: p.source, ref: { type: "ref/prompt", name: p.name } };
    }
    const t = (await this.listResourceTemplates()).find((e) => e.template.uriTemplate === ref.uri);
    if (t) return { source: t.source, ref };
    return { source: (await this.resolveResource(ref.uri)).source, ref };
  }
}

/** A RFC 6570 level-1 template (`{var}` segments) as an anchored regular expression. */
export function templatePattern(template: string): RegExp {
  const parts = template
    .split(/(\{[^}]+\})/)
    .map((part) =>
      part.startsWith("{") && part.endsWith("}")
        ? part.startsWith("{+") || part.startsWith("{/")
          ? ".+"
          : "[^/]+"
        : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    );
  return new RegExp(`^${parts.join("")}$`);
}
