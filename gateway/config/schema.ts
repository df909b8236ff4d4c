/**
 * The configuration document (`portcullis.json` / `portcullis.yaml`). zod is the source; its
 * JSON Schema is generated into `docs/portcullis.schema.json` so editors can complete it.
 * Every section has defaults, so `{}` (and no file at all) is the embedded default.
 */
import { z } from "zod";
import { SIGNING_ALGORITHMS } from "../../policies/bundle/signing.js";
import { DEFAULT_GROUP_COMMIT_MS } from "../audit/log.js";
import { ModelsConfig } from "../models/config-schema.js";

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
    protocol: z
      .enum(["2025-11-25", "2026-07-28", "auto"])
      .default("2025-11-25")
      .describe(
        "MCP revision spoken to this upstream (2026-07-28: stateless, input-required rounds; auto: probe)",
      ),
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
  approverRoles: z
    .array(z.string().min(1))
    .default(["admin", "approver"])
    .describe("Roles whose holders may answer approvals over the REST API (never their own requests)"),
  adminRoles: z
    .array(z.string().min(1))
    .default(["admin"])
    .describe("Roles whose holders may push policy bundles and read policy status (PUT /v1/policy/bundle)"),
  jwt: z
    .strictObject({
      jwksUrl: z.url(),
      issuer: z.string().min(1),
      audience: z.string().min(1),
      clockSkewS: z.number().int().min(0).max(300).default(30),
      rolesClaim: z.string().min(1).default("roles"),
    })
    .optional()
    .describe(
      "JWT bearer tokens verified against this issuer's JWKS (REST API); the subject is the principal",
    ),
  resource: z
    .url()
    .optional()
    .describe(
      "This gateway's MCP resource identifier (RFC 9728 metadata, audience of JWTs on /mcp); default: the request's origin + /mcp",
    ),
  localHttpPrincipal: z
    .string()
    .min(1)
    .optional()
    .describe(
      "When set, HTTP callers without credentials connecting from a loopback address act as this principal (with stdioRoles), as a local stdio client would",
    ),
});

/** A bundle verification key (see policies/bundle/README.md). */
export const BundleKeyConfig = z.object({
  key: SecretRef.describe("PEM key (RS*, PS*, ES*) or HMAC secret (HS*), by reference"),
  algorithm: z.enum(SIGNING_ALGORITHMS).default("RS256"),
  scope: z.string().min(1).optional().describe("Scope bundles signed with this key must carry"),
});

/** Where signed bundles come from and how they are checked before activation. */
export const BundleSourceConfig = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/)
      .default("portcullis"),
    file: z
      .string()
      .optional()
      .describe("A bundle .tar.gz or an unpacked bundle folder, watched for changes"),
    service: z
      .object({
        url: z.url().describe("Full URL of the bundle on an OPA-compatible bundle service"),
        token: SecretRef.optional().describe("Bearer token, by reference"),
        minDelaySeconds: z.number().min(0).default(60),
        maxDelaySeconds: z.number().min(0).default(120),
        longPollingTimeoutSeconds: z.number().int().positive().max(3600).optional(),
      })
      .refine((s) => s.minDelaySeconds <= s.maxDelaySeconds, { message: "minDelaySeconds > maxDelaySeconds" })
      .optional(),
    keys: z
      .record(z.string().min(1), BundleKeyConfig)
      .default({})
      .describe("When any is set, unsigned bundles are refused"),
    keyId: z.string().optional().describe("Key to use when a signature names none"),
    scope: z.string().min(1).optional().describe("Scope every bundle must be signed for"),
    limits: z
      .object({
        maxCompressedBytes: z
          .number()
          .int()
          .positive()
          .default(32 * 1024 * 1024),
        maxUncompressedBytes: z
          .number()
          .int()
          .positive()
          .default(128 * 1024 * 1024),
        maxEntries: z.number().int().positive().max(100_000).default(1024),
        maxPathBytes: z.number().int().positive().max(4096).default(256),
      })
      .prefault({}),
  })
  .refine((s) => Boolean(s.file) !== Boolean(s.service), {
    message: "exactly one of 'file' or 'service' is required",
  });

/** OPA-compatible decision logs: a local JSONL file and/or an HTTP sink. */
export const DecisionLogConfig = z.object({
  file: z.string().optional(),
  url: z.url().optional().describe("HTTP sink receiving gzip JSON arrays of events"),
  token: SecretRef.optional(),
  minDelaySeconds: z.number().min(0).default(1),
  maxDelaySeconds: z.number().min(0).default(10),
  maxBufferEvents: z.number().int().positive().default(10_000),
  labels: z.record(z.string(), z.string()).default({}),
});

export const PolicyConfig = z.object({
  bundle: z.string().optional().describe("Path to a policy bundle (.tar.gz); default: the embedded one"),
  data: z.string().optional().describe("Path to a data.json that replaces the bundle's data"),
  engine: z.enum(["auto", "ts", "rust"]).default("auto"),
  cacheSize: z.number().int().min(0).default(10_000),
  source: BundleSourceConfig.optional().describe("Signed bundle distribution (file or bundle service)"),
  decisionLogs: DecisionLogConfig.optional(),
  statusUpload: z
    .object({
      url: z.url().describe("Receives OPA-style status documents (POST, JSON)"),
      token: SecretRef.optional(),
      minDelaySeconds: z.number().min(0).default(30),
      maxDelaySeconds: z.number().min(0).default(60),
      labels: z.record(z.string(), z.string()).default({}),
    })
    .optional(),
});

export const AuditConfig = z.object({
  dir: z.string().default(".portcullis/audit"),
  sync: z.enum(["group", "always"]).default("group"),
  segmentBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
  groupCommitMs: z
    .number()
    .min(0)
    .max(60_000)
    .default(DEFAULT_GROUP_COMMIT_MS)
    .describe(
      "sync: group — how long (ms) a written record may wait for its fsync so later records share it; 0 = at once",
    ),
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
    models: ModelsConfig.prefault({}).describe(
      "Model routing: providers, routes, redaction before egress (see docs/models.md)",
    ),
    limits: z
      .strictObject({
        rate: z
          .strictObject({
            perMinute: z.number().positive().max(1_000_000),
            burst: z.number().int().min(1).max(1_000_000),
          })
          .optional()
          .describe("Per-principal token bucket for calls; a breach is a deny with RATE_LIMITED"),
      })
      .prefault({}),
    dataDir: z
      .string()
      .default(".portcullis")
      .describe("Local state: last-good bundle, lock file, approvals"),
    store: z.string().optional().describe("Shared state for several instances, e.g. redis://127.0.0.1:6379"),
  })
  .strict();

export type PortcullisConfig = z.infer<typeof PortcullisConfig>;
export type UpstreamServerConfig = z.infer<typeof UpstreamServerConfig>;
