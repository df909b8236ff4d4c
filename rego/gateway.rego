# Default Portcullis policy. One entrypoint, `decision`, returns a full PolicyDecision for every
# input, defined or not: deny > ask_user > allow, and nothing matched means deny. Behaviour is
# driven by `data.portcullis.settings` (data.json) so most deployments edit data, not Rego.
# Only builtins compiled into the wasm module are used; time, ids and randomness never enter.
package portcullis.gateway

import data.portcullis.settings

# Action and transport checks are one comparison per rule body rather than set literals: the
# wasm module would build each set afresh on every evaluation (measured).
is_list_action if input.action == "tools/list"

is_list_action if input.action == "prompts/list"

is_list_action if input.action == "resources/list"

is_list_action if input.action == "model/list"

is_call_action if input.action == "tools/call"

is_call_action if input.action == "prompts/get"

is_call_action if input.action == "resources/read"

is_call_action if input.action == "model/call"

is_model_action if input.action == "model/call"

is_model_action if input.action == "model/list"

is_approval_action if input.action == "approvals/resolve"

known_action if is_list_action

known_action if is_call_action

known_action if is_approval_action

known_transport if input.context.transport == "stdio"

known_transport if input.context.transport == "http"

# --- input shape --------------------------------------------------------------------------

valid_input if {
	input.v == 1
	known_action
	is_object(input.principal)
	is_string(input.principal.id)
	is_boolean(input.principal.authenticated)
	is_object(input.target)
	is_string(input.target.name)
	is_object(input.context)
	known_transport
	action_arguments_valid
}

# approvals/resolve names who asked and what the approver decides; other actions' arguments are
# whatever the tool or model takes.
action_arguments_valid if not is_approval_action

action_arguments_valid if {
	is_string(input.arguments.approval_id)
	is_string(input.arguments.requester)
	is_boolean(input.arguments.granted)
}

# Local stdio callers are trusted as the user who launched the gateway.
trusted if input.context.transport == "stdio"

trusted if input.principal.authenticated == true

# Existential checks over input arrays instead of building sets: each set built per evaluation
# costs more than the checks themselves (measured).
has_data_class if {
	some c in input.data_classes
	is_string(c)
}

data_class_in(classes) if {
	some c in input.data_classes
	c in classes
}

annotation(key) := v if {
	v := input.target.annotations[key]
	is_boolean(v)
}

tool_call if input.action == "tools/call"

# --- name patterns: "*", "prefix*", "*suffix" or an exact name ------------------------------

# One else-chain: evaluation stops at the first form that matches. Exact names come first (the
# common case, one comparison); a pattern with "*" elsewhere than at one end matches nothing.
pattern_matches(p, s) if {
	p == s
	not contains(p, "*")
} else if {
	p == "*"
} else if {
	endswith(p, "*")
	not startswith(p, "*")
	startswith(s, trim_suffix(p, "*"))
} else if {
	startswith(p, "*")
	not endswith(p, "*")
	endswith(s, trim_prefix(p, "*"))
}

any_matches(patterns, s) if {
	some p in patterns
	is_string(p)
	pattern_matches(p, s)
}

# --- data-driven rules ---------------------------------------------------------------------

# Rules govern tools, prompts, resources and models; resolving an approval has its own votes.
rule_applies(rule) if {
	not is_approval_action
	rule_field_matches(rule, "actions", input.action)
	rule_field_matches(rule, "kinds", input.target.kind)
	rule_field_matches(rule, "names", input.target.name)
	rule_server_matches(rule)
	rule_roles_match(rule)
}

rule_field_matches(rule, field, _) if not rule[field]

rule_field_matches(rule, field, value) if {
	is_string(value)
	any_matches(rule[field], value)
}

rule_server_matches(rule) if not rule.servers

rule_server_matches(rule) if {
	is_string(input.target.server)
	any_matches(rule.servers, input.target.server)
}

rule_roles_match(rule) if not rule.roles

rule_roles_match(rule) if {
	some p in rule.roles
	is_string(p)
	some r in input.principal.roles
	is_string(r)
	pattern_matches(p, r)
}

matched_rules contains i if {
	some i, rule in settings.rules
	rule_applies(rule)
}

# The effects of the matched rules, built once per evaluation for the three votes.
matched_effects contains settings.rules[i].effect if some i in matched_rules

# The first matching rule (lowest index) supplies rate-limit and timeout obligations.
first_rule := settings.rules[min(matched_rules)] if count(matched_rules) > 0

# --- the decision ----------------------------------------------------------------------------

outcome := "deny" if count(deny_codes) > 0

else := "ask_user" if count(ask_codes) > 0

else := "allow" if count(allow_codes) > 0

else := "deny"

winning_codes := deny_codes if count(deny_codes) > 0

else := ask_codes if count(ask_codes) > 0

else := allow_codes if count(allow_codes) > 0

else := {"DEFAULT_DENY"}

reasons := [{"code": c, "message": message(c)} | some c in sort(winning_codes)]

redact_classes := sort({c | some c in input.data_classes; c in settings.redact_classes})

audit_level := "full" if outcome != "allow"

else := "full" if has_data_class

else := settings.audit_level

obligations := object.union(
	{"audit_level": audit_level},
	object.union(redact_obligation, rule_obligations),
)

redact_obligation := {"redact": redact_classes} if count(redact_classes) > 0

else := {}

rule_obligations := {k: first_rule[k] | some k in {"rate_limit", "timeout_ms"}; first_rule[k]} if {
	outcome != "deny"
	first_rule
} else := {}

ask_prompt := concat("", [
	"Allow ", principal_label, " to use ", clip(input.target.name), "? ",
	concat(" ", [message(c) | some c in sort(ask_codes)]),
]) if is_string(input.target.name)

# Names are clipped so the prompt stays within the contract's 4,096 characters.
clip(s) := substring(s, 0, 128)

principal_label := clip(input.principal.id) if is_string(input.principal.id)

else := "an unidentified caller"

base_decision := {
	"v": 1,
	"decision": outcome,
	"reasons": reasons,
	"obligations": obligations,
	"cacheable": cacheable,
}

# An approval is decided once, by one approver; its decision is never reused.
cacheable := false if is_approval_action

else := true

# The single entrypoint (portcullis/gateway/decision).
decision := object.union(base_decision, {"ask": {"prompt": ask_prompt, "ttl_s": settings.ask_ttl_s}}) if {
	outcome == "ask_user"
} else := base_decision
