# Unit tests of the default policy: every rule and every reason code. Run with the reason-code
# registry loaded as data (`opa test rego/ contracts/reason-codes.json`, done by npm test).
package portcullis.gateway_test

import data.portcullis.gateway

base := {
	"v": 1,
	"action": "tools/call",
	"principal": {"id": "alice", "roles": ["user"], "authenticated": true, "via": "api_key"},
	"target": {"kind": "tool", "name": "docs__search", "server": "docs", "annotations": {"readOnlyHint": true}},
	"arguments": {},
	"data_classes": [],
	"context": {"time": "2026-11-24T10:00:00Z", "request_id": "r1", "transport": "http"},
}

# Shallow replacement of top-level fields (object.union would merge nested objects).
put(obj, patch) := object.union(object.remove(obj, object.keys(patch)), patch)

with_target(t) := put(base, {"target": t})

codes(d) := {r.code | some r in d.reasons}

decide(inp) := d if {
	d := gateway.decision with input as inp
}

# --- registry -------------------------------------------------------------------------------

# Every code of the policy (rego.test.ts checks this list against the sources' code literals).
all_codes := [
	"INVALID_INPUT", "UNAUTHENTICATED", "TOOL_DEFINITION_CHANGED", "DENIED_BY_RULE",
	"SECRET_IN_ARGUMENTS", "SECRET_REQUIRES_APPROVAL", "MODEL_NOT_ALLOWED",
	"DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER", "DESTRUCTIVE_TOOL", "OPEN_WORLD_TOOL", "REQUIRES_APPROVAL",
	"READ_ONLY_ALLOWED", "ALLOWED_BY_RULE", "LISTING_VISIBLE", "MODEL_ALLOWED", "DEFAULT_DENY",
	"SELF_APPROVAL_FORBIDDEN", "APPROVER_NOT_PERMITTED", "APPROVER_PERMITTED",
]

test_every_code_is_registered_with_a_message if {
	every code in all_codes {
		data.codes[code]
		is_string(gateway.message(code))
	}
}

test_every_reason_carries_its_message if {
	inputs := [
		base, {}, put(base, {"data_classes": ["secret"]}),
		with_target({"kind": "tool", "name": "x", "annotations": {"destructiveHint": true, "openWorldHint": true}}),
		approval("alice", ["user"], "alice"),
	]
	every inp in inputs {
		d := decide(inp)
		count(d.reasons) > 0
		every r in d.reasons {
			r.message == gateway.message(r.code)
		}
	}
}

# --- allow ----------------------------------------------------------------------------------------

test_read_only_allowed if {
	d := decide(base)
	d.decision == "allow"
	codes(d) == {"READ_ONLY_ALLOWED"}
	d.cacheable == true
	d.v == 1
	d.obligations.audit_level == "standard"
	not d.ask
}

test_stdio_unauthenticated_is_trusted if {
	inp := put(base, {
		"principal": {"id": "local", "roles": [], "authenticated": false, "via": "stdio"},
		"context": {"time": "t", "request_id": "r", "transport": "stdio"},
	})
	decide(inp).decision == "allow"
}

test_admin_rule_allows if {
	inp := put(base, {
		"principal": {"id": "root", "roles": ["admin"], "authenticated": true, "via": "jwt"},
		"target": {"kind": "tool", "name": "db__query", "server": "db"},
	})
	d := decide(inp)
	d.decision == "allow"
	codes(d) == {"ALLOWED_BY_RULE"}
}

test_listing_visible if {
	inp := put(base, {"action": "tools/list", "target": {"kind": "tool", "name": "shell__exec", "annotations": {"destructiveHint": true}}})
	d := decide(inp)
	d.decision == "allow"
	codes(d) == {"LISTING_VISIBLE"}
}

test_model_allowed if {
	inp := put(base, {"action": "model/call", "target": {"kind": "model", "name": "gpt-x", "provider": {"id": "p", "local": false}}})
	d := decide(inp) with data.portcullis.settings.models.allowed as ["gpt-*"]
	d.decision == "allow"
	codes(d) == {"MODEL_ALLOWED"}
}

# --- deny ---------------------------------------------------------------------------------------------

test_invalid_input_denied if {
	d := decide({"v": 2})
	d.decision == "deny"
	codes(d) == {"INVALID_INPUT"}
	d.obligations.audit_level == "full"
}

test_empty_input_denied if {
	d := decide({})
	d.decision == "deny"
}

test_unknown_action_denied if {
	codes(decide(put(base, {"action": "tools/delete"}))) == {"INVALID_INPUT"}
}

test_unauthenticated_http_denied if {
	inp := put(base, {"principal": {"id": "anon", "roles": [], "authenticated": false, "via": "anonymous"}})
	d := decide(inp)
	d.decision == "deny"
	codes(d) == {"UNAUTHENTICATED"}
}

test_changed_definition_denied if {
	d := decide(with_target({"kind": "tool", "name": "docs__search", "changed": true, "annotations": {"readOnlyHint": true}}))
	d.decision == "deny"
	codes(d) == {"TOOL_DEFINITION_CHANGED"}
}

test_rule_denies if {
	d := decide(base) with data.portcullis.settings.rules as [{"id": "no-docs", "effect": "deny", "servers": ["docs"]}]
	d.decision == "deny"
	codes(d) == {"DENIED_BY_RULE"}
}

test_secret_denied if {
	d := decide(put(base, {"data_classes": ["secret", "email"]}))
	d.decision == "deny"
	codes(d) == {"SECRET_IN_ARGUMENTS"}
	d.obligations.redact == ["email", "secret"]
}

test_secret_asks_when_configured if {
	d := decide(put(base, {"data_classes": ["secret"]})) with data.portcullis.settings.secrets.action as "ask"
	d.decision == "ask_user"
	codes(d) == {"SECRET_REQUIRES_APPROVAL"}
	d.ask.ttl_s == 300
}

test_model_not_allowed if {
	inp := put(base, {"action": "model/call", "target": {"kind": "model", "name": "gpt-x"}})
	codes(decide(inp)) == {"MODEL_NOT_ALLOWED"}
}

test_secret_needs_local_provider if {
	inp := put(base, {
		"action": "model/call", "data_classes": ["secret"],
		"target": {"kind": "model", "name": "m", "model": "llama", "provider": {"id": "cloud", "local": false}},
	})
	d := decide(inp) with data.portcullis.settings.models.allowed as ["llama"]
	d.decision == "deny"
	codes(d) == {"DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER"}
}

test_secret_to_local_provider_allowed if {
	inp := put(base, {
		"action": "model/call", "data_classes": ["secret"],
		"target": {"kind": "model", "name": "llama", "provider": {"id": "ollama", "local": true}},
	})
	d := decide(inp) with data.portcullis.settings.models.allowed as ["llama"]
	d.decision == "allow"
	d.obligations.redact == ["secret"]
}

test_nothing_matched_denied if {
	d := decide(with_target({"kind": "tool", "name": "db__query"}))
	d.decision == "deny"
	codes(d) == {"DEFAULT_DENY"}
}

test_prompt_get_denied_by_default if {
	codes(decide(put(base, {"action": "prompts/get", "target": {"kind": "prompt", "name": "p__x"}}))) == {"DEFAULT_DENY"}
}

# --- ask_user -------------------------------------------------------------------------------------------

test_destructive_asks if {
	d := decide(with_target({"kind": "tool", "name": "shell__exec", "annotations": {"destructiveHint": true}}))
	d.decision == "ask_user"
	codes(d) == {"DESTRUCTIVE_TOOL"}
	startswith(d.ask.prompt, "Allow alice to use shell__exec? ")
	d.obligations.audit_level == "full"
}

test_open_world_asks if {
	d := decide(with_target({"kind": "tool", "name": "web__fetch", "annotations": {"openWorldHint": true}}))
	codes(d) == {"OPEN_WORLD_TOOL"}
}

test_open_world_read_only_allowed if {
	d := decide(with_target({"kind": "tool", "name": "web__fetch", "annotations": {"openWorldHint": true, "readOnlyHint": true}}))
	d.decision == "allow"
}

test_destructive_ask_can_be_disabled if {
	d := decide(with_target({"kind": "tool", "name": "x__rm", "annotations": {"destructiveHint": true, "readOnlyHint": true}})) with data.portcullis.settings.ask.destructive as false
	d.decision == "allow"
}

test_rule_requires_approval if {
	d := decide(with_target({"kind": "tool", "name": "workspace__write_file", "server": "workspace"}))
	d.decision == "ask_user"
	codes(d) == {"REQUIRES_APPROVAL"}
}

test_deny_beats_ask if {
	d := decide(with_target({"kind": "tool", "name": "shell__exec", "changed": true, "annotations": {"destructiveHint": true}}))
	d.decision == "deny"
	codes(d) == {"TOOL_DEFINITION_CHANGED"}
}

# --- patterns and obligations ---------------------------------------------------------------------------

test_patterns if {
	gateway.pattern_matches("*", "anything")
	gateway.pattern_matches("workspace__*", "workspace__read")
	gateway.pattern_matches("*__read", "workspace__read")
	gateway.pattern_matches("exact", "exact")
	not gateway.pattern_matches("workspace__*", "memory__read")
	not gateway.pattern_matches("*__read", "workspace__write")
	not gateway.pattern_matches("exact", "exactly")
	not gateway.pattern_matches("a*b", "a*b")
}

test_rule_obligations if {
	rules := [{"id": "r", "effect": "allow", "names": ["db__*"], "rate_limit": {"limit": 5, "window_s": 60}, "timeout_ms": 2000}]
	d := decide(with_target({"kind": "tool", "name": "db__query", "server": "db"})) with data.portcullis.settings.rules as rules
	d.decision == "allow"
	d.obligations.rate_limit == {"limit": 5, "window_s": 60}
	d.obligations.timeout_ms == 2000
}

test_rule_role_and_server_filters if {
	rules := [{"id": "r", "effect": "allow", "roles": ["ops*"], "servers": ["db"]}]
	allowed := put(base, {"principal": {"id": "o", "roles": ["ops-admin"], "authenticated": true, "via": "jwt"}, "target": {"kind": "tool", "name": "db__q", "server": "db"}})
	decide(allowed).decision == "allow" with data.portcullis.settings.rules as rules
	other_server := put(allowed, {"target": {"kind": "tool", "name": "db__q", "server": "other"}})
	decide(other_server).decision == "deny" with data.portcullis.settings.rules as rules
	no_server := put(allowed, {"target": {"kind": "tool", "name": "db__q"}})
	decide(no_server).decision == "deny" with data.portcullis.settings.rules as rules
}

# --- per-role model allowlists ---------------------------------------------------------------------

model_input(name, roles) := put(base, {
	"action": "model/call",
	"principal": {"id": "alice", "roles": roles, "authenticated": true, "via": "api_key"},
	"target": {"kind": "model", "name": name, "provider": {"id": "p", "local": false}},
})

test_model_allowed_by_role if {
	d := decide(model_input("claude-x", ["user", "research"])) with data.portcullis.settings.models.roles as {"research": ["claude-*"]}
	d.decision == "allow"
	codes(d) == {"MODEL_ALLOWED"}
}

test_model_role_allowlist_is_per_role if {
	roles := {"research": ["claude-*"], "user": ["small-*"]}
	d := decide(model_input("claude-x", ["user"])) with data.portcullis.settings.models.roles as roles
	d.decision == "deny"
	codes(d) == {"MODEL_NOT_ALLOWED"}
	decide(model_input("small-1", ["user"])).decision == "allow" with data.portcullis.settings.models.roles as roles
}

test_model_list_uses_role_allowlist if {
	inp := put(model_input("claude-x", ["research"]), {"action": "model/list"})
	decide(inp).decision == "allow" with data.portcullis.settings.models.roles as {"research": ["claude-*"]}
	decide(inp).decision == "deny"
}

test_model_role_allowlist_absent_or_malformed if {
	decide(model_input("claude-x", ["research"])).decision == "deny" with data.portcullis.settings.models.roles as {"research": "claude-x"}
	no_roles := put(data.portcullis.settings, {"models": {"allowed": [], "local_only_classes": []}})
	decide(model_input("claude-x", [1, "research"])).decision == "deny" with data.portcullis.settings as no_roles
}

# --- approvals/resolve -----------------------------------------------------------------------------

approval(approver, roles, requester) := put(base, {
	"action": "approvals/resolve",
	"principal": {"id": approver, "roles": roles, "authenticated": true, "via": "api_key"},
	"target": {"kind": "tool", "name": "github__delete_repo", "server": "github"},
	"arguments": {"approval_id": "apr-1", "requester": requester, "granted": true},
})

test_approver_permitted if {
	d := decide(approval("bob", ["approver"], "alice"))
	d.decision == "allow"
	codes(d) == {"APPROVER_PERMITTED"}
	d.cacheable == false
	decide(approval("carol", ["user", "admin"], "alice")).decision == "allow"
}

test_self_approval_forbidden if {
	d := decide(approval("alice", ["admin"], "alice"))
	d.decision == "deny"
	codes(d) == {"SELF_APPROVAL_FORBIDDEN"}
	d.cacheable == false
}

test_approver_not_permitted if {
	d := decide(approval("bob", ["user"], "alice"))
	d.decision == "deny"
	codes(d) == {"APPROVER_NOT_PERMITTED"}
	decide(approval("bob", [], "alice")).decision == "deny"

	# The policy reads settings as one document: replace it whole (opa's `with` merges an object
	# value into the document below it when the policy reads a parent path).
	no_roles := put(data.portcullis.settings, {"approvals": {}})
	decide(approval("bob", ["approver"], "alice")).decision == "deny" with data.portcullis.settings as no_roles
}

test_approver_roles_from_data if {
	inp := approval("bob", ["ops"], "alice")
	decide(inp).decision == "allow" with data.portcullis.settings.approvals.approver_roles as ["ops"]
	decide(approval("bob", ["approver"], "alice")).decision == "deny" with data.portcullis.settings.approvals.approver_roles as ["ops"]
}

test_approval_unauthenticated if {
	anon := put(approval("anonymous", ["approver"], "alice"), {"principal": {"id": "anonymous", "roles": ["approver"], "authenticated": false, "via": "anonymous"}})
	d := decide(anon)
	d.decision == "deny"
	codes(d) == {"UNAUTHENTICATED"}
	local := put(anon, {"context": {"time": "2026-11-24T10:00:00Z", "request_id": "r1", "transport": "stdio"}})
	codes(decide(local)) == {"UNAUTHENTICATED"}
}

test_approval_ignores_tool_rules if {
	rules := [{"id": "ask-all", "effect": "ask"}, {"id": "deny-github", "effect": "deny", "names": ["github__*"]}]
	d := decide(approval("bob", ["approver"], "alice")) with data.portcullis.settings.rules as rules
	d.decision == "allow"
	codes(d) == {"APPROVER_PERMITTED"}
}

test_approval_arguments_required if {
	inp := approval("bob", ["approver"], "alice")
	codes(decide(put(inp, {"arguments": {"approval_id": "apr-1", "granted": true}}))) == {"INVALID_INPUT"}
	codes(decide(put(inp, {"arguments": {"approval_id": "apr-1", "requester": "alice", "granted": "yes"}}))) == {"INVALID_INPUT"}
	codes(decide(put(inp, {"arguments": {"requester": "alice", "granted": false}}))) == {"INVALID_INPUT"}
	d := decide(put(inp, {"arguments": {"approval_id": "apr-1", "requester": "alice", "granted": false}}))
	d.decision == "allow"
}
