/**
 * The configuration document (`portcullis.json` / `portcullis.yaml`). zod is the source; its
 * JSON Schema is generated into `docs/portcullis.schema.json` so editors can complete it.
 * Every section has defaults, so `{}` (and no file at all) is the embedded default.
 */
import { z } from "zod";

/** A reference to a secret: `env:NAME` or `file:path`. Literals are refused so they never reach logs. */
export const SecretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, "a secret reference such as env:NAME or file:path")
  .describe("Secret reference: env:NAME or file:path — never the secret itself");

/** One upstream MCP server, in the common `mcpServers` shape (stdio command or Streamable HTTP url). */
export const UpstreamServerConfig = z
  .object({
    command: z.string().min(1).optional().describe("Executable of a stdio upstream"),
    args: z.array(z.string()).default([]),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe("Environment; values may be env:NAME references"),
    cwd: z.string().optional(),
    url: z.url().optional().describe("Streamable HTTP endpoint of an HTTP upstream"),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe("Headers; values may be env:NAME references"),
    prefix: z
      .string()
      .max(32)
      .optional()
      .describe("Name prefix for this upstream's tools; default '<server>__', '' for none"),
    disabled: z.boolean().default(false),
    timeoutMs: z.number().int().positive().max(3_600_000).default(60_000),
  })
  .refine((s) => Boolean(s.command) !== Boolean(s.url), {
    message: "exactly one of 'command' (stdio) or 'url' (Streamable HTTP) is required",
  });

export const ApiKeyConfig = z.object({
  id: z.string().min(1).describe("Principal id this key authenticates as"),
  key: SecretRef,
  roles: z.array(z.string().min(1)).default([]),
});

export const ServerConfig = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(8787),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  maxJsonDepth: z.number().int().positive().max(1000).default(64),
  allowedOrigins: z.array(z.string()).default([]).describe("Extra Origins accepted besides loopback ones"),
  allowedHosts: z
    .array(z.string())
    .default([])
    .describe("Extra Host header values accepted besides loopback ones"),
});

export const AuthConfig = z.object({
  apiKeys: z.array(ApiKeyConfig).default([]),
  stdioPrincipal: z.string().min(1).default("local-user").describe("Principal trusted on stdio"),
  stdioRoles: z.array(z.string()).default(["user"]),
  localHttpPrincipal: z
    .string()
    .min(1)
    .optional()
    .describe(
      "When set, HTTP callers without credentials connecting from a loopback address act as this principal (with stdioRoles), as a local stdio client would",
    ),
});

export const PolicyConfig = z.object({
  bundle: z.string().optional().describe("Path to a policy bundle (.tar.gz); default: the embedded one"),
  data: z.string().optional().describe("Path to a data.json that replaces the bundle's data"),
  engine: z.enum(["auto", "ts", "rust"]).default("auto"),
  cacheSize: z.number().int().min(0).default(10_000),
});

export const AuditConfig = z.object({
  dir: z.string().default(".portcullis/audit"),
  sync: z.enum(["group", "always"]).default("group"),
  segmentBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
});

export const WorkspaceConfig = z.object({
  roots: z.array(z.string().min(1)).default(["."]),
  maxReadBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export const MemoryConfig = z.object({
  file: z.string().default(".portcullis/memory.bin"),
  dimensions: z.number().int().positive().max(8192).default(384),
});

export const PortcullisConfig = z
  .object({
    $schema: z.string().optional(),
    server: ServerConfig.prefault({}),
    auth: AuthConfig.prefault({}),
    mcpServers: z
      .record(
        z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a server name of letters, digits, '_', '.', '-'"),
        UpstreamServerConfig,
      )
      .default({}),
    policy: PolicyConfig.prefault({}),
    audit: AuditConfig.prefault({}),
    workspace: WorkspaceConfig.prefault({}),
    memory: MemoryConfig.prefault({}),
    dataDir: z
      .string()
      .default(".portcullis")
      .describe("Local state: last-good bundle, lock file, approvals"),
    store: z.string().optional().describe("Shared state for several instances, e.g. redis://127.0.0.1:6379"),
  })
  .strict();

export type PortcullisConfig = z.infer<typeof PortcullisConfig>;
export type UpstreamServerConfig = z.infer<typeof UpstreamServerConfig>;
