/**
 * What the two conformance fixtures (fixture-server.mjs, 2025 era on the v1 SDK; fixture-modern.mjs,
 * 2026 era on the v2 SDK) serve alike: the static test_* tools, test:// resources and template,
 * test_* prompts and completions. SDK-free: each lookup returns undefined for a name it does not
 * know, and the fixture answers that with its own era's error.
 */

// A 1x1 red PNG and a 1-sample silent WAV, small enough to inline.
export const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
export const WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==";

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const noArgs = { type: "object", properties: {} };
export const text = (t) => ({ content: [{ type: "text", text: t }] });

/** The content tools, in the order both fixtures list them first. */
export const CONTENT_TOOLS = [
  { name: "test_simple_text", description: "Returns a simple text", inputSchema: noArgs },
  { name: "test_image_content", description: "Returns an image", inputSchema: noArgs },
  { name: "test_audio_content", description: "Returns audio", inputSchema: noArgs },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: noArgs },
  {
    name: "test_multiple_content_types",
    description: "Returns text, image and resource",
    inputSchema: noArgs,
  },
];
export const PROGRESS_TOOL = {
  name: "test_tool_with_progress",
  description: "Reports progress 0, 50, 100",
  inputSchema: noArgs,
};
export const ERROR_TOOL = { name: "test_error_handling", description: "Always fails", inputSchema: noArgs };

/** tools/call of a static tool (the content tools and test_error_handling); undefined otherwise. */
export function staticToolResult(name) {
  switch (name) {
    case "test_simple_text":
      return text("This is a simple text response for testing.");
    case "test_image_content":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "test_audio_content":
      return { content: [{ type: "audio", data: WAV, mimeType: "audio/wav" }] };
    case "test_embedded_resource":
      return {
        content: [
          {
            type: "resource",
            resource: {
              uri: "test://embedded-resource",
              mimeType: "text/plain",
              text: "This is an embedded resource content.",
            },
          },
        ],
      };
    case "test_multiple_content_types":
      return {
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: PNG, mimeType: "image/png" },
          {
            type: "resource",
            resource: {
              uri: "test://mixed-content-resource",
              mimeType: "application/json",
              text: JSON.stringify({ test: "data", value: 123 }),
            },
          },
        ],
      };
    case "test_error_handling":
      return {
        isError: true,
        content: [{ type: "text", text: "This tool intentionally returns an error for testing" }],
      };
    default:
      return undefined;
  }
}

/**
 * test_tool_with_progress: reports 0, 50 and 100 (of 100) through `notify` when the request carried
 * a progress token, 50 ms apart, then returns the tool's result.
 */
export async function progressTool(token, notify) {
  for (const progress of [0, 50, 100]) {
    if (token !== undefined)
      await notify({
        method: "notifications/progress",
        params: { progressToken: token, progress, total: 100 },
      });
    if (progress < 100) await sleep(50);
  }
  return text("Tool with progress executed successfully");
}

/** resources/list; the fixtures word the watched resource's description for their era. */
export function resourceList(watchedDescription) {
  return [
    {
      uri: "test://static-text",
      name: "static-text",
      description: "A static text resource",
      mimeType: "text/plain",
    },
    {
      uri: "test://static-binary",
      name: "static-binary",
      description: "A static PNG",
      mimeType: "image/png",
    },
    {
      uri: "test://watched-resource",
      name: "watched-resource",
      description: watchedDescription,
      mimeType: "text/plain",
    },
  ];
}

export const RESOURCE_TEMPLATES = [
  {
    uriTemplate: "test://template/{id}/data",
    name: "template-data",
    description: "Data for an id",
    mimeType: "application/json",
  },
];

/** resources/read of a listed resource or the template; undefined for any other URI. */
export function readStaticResource(uri) {
  if (uri === "test://static-text")
    return {
      contents: [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }],
    };
  if (uri === "test://static-binary") return { contents: [{ uri, mimeType: "image/png", blob: PNG }] };
  if (uri === "test://watched-resource")
    return { contents: [{ uri, mimeType: "text/plain", text: "Watched resource content." }] };
  const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (m) {
    const id = m[1];
    return {
      contents: [
        {
          uri,
          mimeType: "application/json",
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    };
  }
  return undefined;
}

/** The prompts both fixtures list first. */
export const PROMPTS = [
  { name: "test_simple_prompt", description: "A prompt without arguments" },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt embedding a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
  },
  { name: "test_prompt_with_image", description: "A prompt with an image" },
];

/** prompts/get of a prompt in PROMPTS with its arguments `a`; undefined for any other name. */
export function staticPrompt(name, a) {
  const user = (content) => ({ role: "user", content });
  switch (name) {
    case "test_simple_prompt":
      return { messages: [user({ type: "text", text: "This is a simple prompt for testing." })] };
    case "test_prompt_with_arguments":
      return {
        messages: [user({ type: "text", text: `Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'` })],
      };
    case "test_prompt_with_embedded_resource":
      return {
        messages: [
          user({
            type: "resource",
            resource: {
              uri: a.resourceUri,
              mimeType: "text/plain",
              text: "Embedded resource content for testing.",
            },
          }),
          user({ type: "text", text: "Please process the embedded resource above." }),
        ],
      };
    case "test_prompt_with_image":
      return {
        messages: [
          user({ type: "image", data: PNG, mimeType: "image/png" }),
          user({ type: "text", text: "Please analyze the image above." }),
        ],
      };
    default:
      return undefined;
  }
}

/** completion/complete: the pool's values that start with what was typed. */
export function complete(value) {
  const values = ["paris", "park", "party", "hello", "world"].filter((v) => v.startsWith(value));
  return { completion: { values, total: values.length, hasMore: false } };
}
