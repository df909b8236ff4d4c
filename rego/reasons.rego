# Messages of every reason code the default policy can emit. The keys of `messages` are the
# complete list of codes: tests check each against contracts/reason-codes.json.
package portcullis.gateway

messages := {
	"INVALID_INPUT": "The policy input is not a valid v1 PolicyInput.",
	"UNAUTHENTICATED": "Unauthenticated callers over HTTP are denied.",
	"TOOL_DEFINITION_CHANGED": "The tool's definition changed since it was pinned; it needs re-approval.",
	"DENIED_BY_RULE": "A policy rule denies this request.",
	"SECRET_IN_ARGUMENTS": "The arguments contain a secret.",
	"SECRET_REQUIRES_APPROVAL": "The arguments contain a secret and need approval.",
	"MODEL_NOT_ALLOWED": "The model is not on the allowlist.",
	"DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER": "The data may only be sent to a local provider.",
	"DESTRUCTIVE_TOOL": "The tool is marked destructive.",
	"OPEN_WORLD_TOOL": "The tool reaches outside systems (open world).",
	"REQUIRES_APPROVAL": "A policy rule requires approval for this request.",
	"READ_ONLY_ALLOWED": "Read-only tool called by an authenticated principal.",
	"ALLOWED_BY_RULE": "A policy rule allows this request.",
	"LISTING_VISIBLE": "The item is visible to authenticated principals.",
	"MODEL_ALLOWED": "The model is on the allowlist.",
	"DEFAULT_DENY": "No rule allows this request.",
}
