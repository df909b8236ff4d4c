# The message of every reason code the default policy can emit, as one else-chain: a call stops
# at its code, and the codes of the common outcomes come first (a constant object of messages
# would be built afresh on every evaluation). rego.test.ts checks that every code literal in the
# policy has a message here and is in contracts/reason-codes.json.
package portcullis.gateway

message(c) := "Read-only tool called by an authenticated principal." if {
	c == "READ_ONLY_ALLOWED"
} else := "A policy rule allows this request." if {
	c == "ALLOWED_BY_RULE"
} else := "The item is visible to authenticated principals." if {
	c == "LISTING_VISIBLE"
} else := "The model is on the allowlist." if {
	c == "MODEL_ALLOWED"
} else := "No rule allows this request." if {
	c == "DEFAULT_DENY"
} else := "Unauthenticated callers over HTTP are denied." if {
	c == "UNAUTHENTICATED"
} else := "The policy input is not a valid v1 PolicyInput." if {
	c == "INVALID_INPUT"
} else := "A policy rule requires approval for this request." if {
	c == "REQUIRES_APPROVAL"
} else := "The tool is marked destructive." if {
	c == "DESTRUCTIVE_TOOL"
} else := "The tool reaches outside systems (open world)." if {
	c == "OPEN_WORLD_TOOL"
} else := "The tool's definition changed since it was pinned; it needs re-approval." if {
	c == "TOOL_DEFINITION_CHANGED"
} else := "A policy rule denies this request." if {
	c == "DENIED_BY_RULE"
} else := "The arguments contain a secret." if {
	c == "SECRET_IN_ARGUMENTS"
} else := "The arguments contain a secret and need approval." if {
	c == "SECRET_REQUIRES_APPROVAL"
} else := "The model is not on the allowlist." if {
	c == "MODEL_NOT_ALLOWED"
} else := "The data may only be sent to a local provider." if {
	c == "DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER"
} else := "The principal holds an approver role and did not ask." if {
	c == "APPROVER_PERMITTED"
} else := "A principal may not approve its own request." if {
	c == "SELF_APPROVAL_FORBIDDEN"
} else := "The principal holds no approver role." if {
	c == "APPROVER_NOT_PERMITTED"
}
