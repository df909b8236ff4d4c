# The message of every reason code the default policy can emit: one function body per code (a
# constant object of messages would be built afresh on every evaluation). rego.test.ts checks that
# every code literal in the policy has a body here and is in contracts/reason-codes.json.
package portcullis.gateway

message("INVALID_INPUT") := "The policy input is not a valid v1 PolicyInput."

message("UNAUTHENTICATED") := "Unauthenticated callers over HTTP are denied."

message("TOOL_DEFINITION_CHANGED") := "The tool's definition changed since it was pinned; it needs re-approval."

message("DENIED_BY_RULE") := "A policy rule denies this request."

message("SECRET_IN_ARGUMENTS") := "The arguments contain a secret."

message("SECRET_REQUIRES_APPROVAL") := "The arguments contain a secret and need approval."

message("MODEL_NOT_ALLOWED") := "The model is not on the allowlist."

message("DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER") := "The data may only be sent to a local provider."

message("DESTRUCTIVE_TOOL") := "The tool is marked destructive."

message("OPEN_WORLD_TOOL") := "The tool reaches outside systems (open world)."

message("REQUIRES_APPROVAL") := "A policy rule requires approval for this request."

message("READ_ONLY_ALLOWED") := "Read-only tool called by an authenticated principal."

message("ALLOWED_BY_RULE") := "A policy rule allows this request."

message("LISTING_VISIBLE") := "The item is visible to authenticated principals."

message("MODEL_ALLOWED") := "The model is on the allowlist."

message("SELF_APPROVAL_FORBIDDEN") := "A principal may not approve its own request."

message("APPROVER_NOT_PERMITTED") := "The principal holds no approver role."

message("APPROVER_PERMITTED") := "The principal holds an approver role and did not ask."

message("DEFAULT_DENY") := "No rule allows this request."
