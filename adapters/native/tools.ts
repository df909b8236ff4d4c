/**
 * Tool definitions (JSON Schema inputs, annotations) and argument parsing for the built-in
 * servers. Annotations: workspace tools and memory query are read-only; memory upsert writes but
 * is neither destructive nor open-world, and upserting the same id twice is idempotent.
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { PortcullisError } from "../../gateway/errors.js";

function parser<T extends z.ZodType>(schema: T): (args: unknown) => z.infer<T> {
  return (args) => {
    const r = schema.safeParse(args ?? {});
    if (!r.success) {
      const issues = r.error.issues
        .map((i) => `${i.path.join(".") || "(arguments)"}: ${i.message}`)
        .join("; ");
      throw new PortcullisError("GW_ERR_USAGE", `invalid arguments: ${issues}`);
    }
    return r.data;
  };
}

function tool(
  name: string,
  title: string,
  description: string,
  schema: z.ZodType,
  annotations: Tool["annotations"],
): Tool {
  const inputSchema = z.toJSONSchema(schema, { target: "draft-2020-12" }) as Tool["inputSchema"];
  delete (inputSchema as Record<string, unknown>).$schema;
  return { name, title, description, inputSchema, annotations: { title, ...annotations } };
}

const READ_ONLY = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

export function workspaceTools() {
  const list = z.strictObject({
    path: z
      .string()
      .max(4096)
      .default(".")
      .describe("Directory, relative to the first root or absolute inside a root"),
    depth: z.number().int().min(1).max(10).default(1),
    limit: z.number().int().min(1).max(10_000).default(1000),
  });
  const read = z.strictObject({
    path: z.string().min(1).max(4096),
    offset: z.number().int().min(0).default(0).describe("Byte offset"),
    length: z.number().int().min(0).optional().describe("Bytes to read (capped by workspace.maxReadBytes)"),
  });
  const search = z.strictObject({
    pattern: z
      .string()
      .min(1)
      .max(1000)
      .describe(
        "ECMAScript regular expression (u flag), matched per line; the first match of each line is reported",
      ),
    path: z.string().max(4096).optional(),
    caseInsensitive: z.boolean().optional(),
    maxResults: z.number().int().min(1).max(5000).optional(),
    maxFiles: z.number().int().min(1).max(200_000).optional(),
    maxFileBytes: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024)
      .optional(),
  });
  return {
    tools: [
      tool("list", "List workspace files", "List a directory inside the workspace roots.", list, READ_ONLY),
      tool(
        "read",
        "Read a workspace file",
        "Read a byte range of a text file inside the workspace roots.",
        read,
        READ_ONLY,
      ),
      tool(
        "search",
        "Search workspace files",
        "Regex search over files, honouring .gitignore, with limits.",
        search,
        READ_ONLY,
      ),
    ],
    parse: { list: parser(list), read: parser(read), search: parser(search) },
  };
}

export function memoryTools() {
  const upsert = z.strictObject({
    id: z.string().min(1).max(256).optional(),
    text: z.string().max(1_000_000),
    vector: z.array(z.number()).min(1).max(65536).optional(),
    embedding: z.string().min(1).max(256).optional().describe("Embedding id of a caller-supplied vector"),
    metadata: z.record(z.string(), z.unknown()).optional(),
  });
  const query = z.strictObject({
    text: z.string().max(1_000_000).optional(),
    vector: z.array(z.number()).min(1).max(65536).optional(),
    embedding: z.string().min(1).max(256).optional(),
    k: z.number().int().min(1).max(100).default(5),
    minScore: z.number().optional(),
  });
  return {
    tools: [
      tool("upsert", "Remember text", "Store text (and optionally its vector) in memory.", upsert, {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      }),
      tool(
        "query",
        "Recall memories",
        "Find the stored texts most similar to a text or vector.",
        query,
        READ_ONLY,
      ),
    ],
    parse: { upsert: parser(upsert), query: parser(query) },
  };
}
