# Default Portcullis policy. One entrypoint, `decision`, returns a full PolicyDecision for every
# input, defined or not: deny > ask_user > allow, and nothing matched means deny. Behaviour is
# driven by `data.portcullis.settings` (data.json) so most deployments edit data, not Rego.
# Only builtins compiled into the wasm module are used; time, ids and randomness never enter.
#
# Written for the compiled plan (see README, Performance): the verdict is reached along one path
# of functions that take what they read as arguments. A rule without arguments is memoised by the
# wasm module (a table insert and lookup per use, dearer than the comparison most of them made),
# a constant set or object is built afresh on every evaluation, and every `a.b` is a hashed lookup,
# so the hot path has no 0-arity helper rules, no set literals, and binds each input part once.
package portcullis.gateway

# The single entrypoint (portcullis/gateway/decision).
decision := d if {
	kind := action_kind(input)
	d := decision_for(input_valid(input, kind), kind, input, data.portcullis.settings)
}

# --- input shape --------------------------------------------------------------------------

# What the action is: "tool_call", "call", "list", "model_call", "model_list", "approval" or
# "unknown".
action_kind(i) := kind_of(action) if {
	action := i.action
} else := "unknown"

# One else-chain, so the lookup stops at the first match; the most frequent actions come first.
kind_of(a) := "tool_call" if {
	a == "tools/call"
} else := "list" if {
	a == "tools/list"
} else := "call" if {
	a == "prompts/get"
} else := "call" if {
	a == "resources/read"
} else := "list" if {
	a == "prompts/list"
} else := "list" if {
	a == "resources/list"
} else := "model_call" if {
	a == "model/call"
} else := "model_list" if {
	a == "model/list"
} else := "approval" if {
	a == "approvals/resolve"
} else := "unknown"

input_valid(i, kind) if {
	i.v == 1
	kind != "unknown"
	principal := i.principal
	is_object(principal)
	is_string(principal.id)
	is_boolean(principal.authenticated)
	target := i.target
	is_object(target)
	is_string(target.name)
	context := i.context
	is_object(context)
	known_transport(context.transport)
	arguments_valid(kind, i)
} else := false

known_transport(t) if {
	t == "stdio"
} else if {
	t == "http"
}

# approvals/resolve names who asked and what the approver decides; other actions' arguments are
# whatever the tool or model takes.
arguments_valid(kind, i) if {
	kind != "approval"
} else if {
	args := i.arguments
	is_string(args.approval_id)
	is_string(args.requester)
	is_boolean(args.granted)
}

# Local stdio callers are trusted as the user who launched the gateway; others must have
# authenticated.
unauthenticated(i, principal) if {
	i.context.transport != "stdio"
	principal.authenticated != true
}

# An approval is decided once, by one approver; its decision is never reused.
cacheable(kind) := false if {
	kind == "approval"
} else := true

# The data classes the sanitizer found, or null (iterates as nothing) when the input has none.
data_classes(i) := classes if {
	classes := i.data_classes
} else := null

# Existential checks over input arrays instead of building sets: each set built per evaluation
# costs more than the checks themselves (measured).
has_string_class(classes) if {
	some c in classes
	is_string(c)
}

data_class_in(classes, listed) if {
	some c in classes
	c in listed
}

changed(target) if {
	target.kind == "tool"
	target.changed == true
}

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

# The indices of the rules that apply, in order. Rules govern tools, prompts, resources and
# models; resolving an approval has its own votes. A target without a kind matches no rule.
matched_rules(kind, action, target, principal, s) := [] if {
	kind == "approval"
} else := [k |
	target_kind := target.kind
	name := target.name
	some k, rule in s.rules
	rule_field_matches(rule, "names", name)
	rule_roles_match(rule, principal)
	rule_server_matches(rule, target)
	rule_field_matches(rule, "actions", action)
	rule_field_matches(rule, "kinds", target_kind)
]

# An absent (or false) filter matches everything.
rule_field_matches(rule, field, value) if {
	not rule[field]
} else if {
	is_string(value)
	any_matches(rule[field], value)
}

rule_server_matches(rule, target) if {
	not rule.servers
} else if {
	server := target.server
	is_string(server)
	any_matches(rule.servers, server)
}

rule_roles_match(rule, principal) if {
	not rule.roles
} else if {
	some p in rule.roles
	is_string(p)
	some r in principal.roles
	is_string(r)
	pattern_matches(p, r)
}

# Whether a matched rule has this effect.
rule_effect(matched, effect, s) if {
	some k in matched
	s.rules[k].effect == effect
}

# --- the decision ----------------------------------------------------------------------------

decision_for(false, kind, i, s) := {
	"v": 1,
	"decision": "deny",
	"reasons": [reason("INVALID_INPUT")],
	"obligations": obligations("full", redact_classes(data_classes(i), s), {}),
	"cacheable": cacheable(kind),
}

decision_for(true, kind, i, s) := d if {
	target := i.target
	principal := i.principal
	classes := data_classes(i)
	matched := matched_rules(kind, i.action, target, principal, s)
	verdict := verdict_of(kind, i, target, principal, classes, matched, s)
	outcome := verdict[0]
	codes := verdict[1]
	level := audit_level(outcome, classes, s)
	extra := rule_obligations(outcome, matched, s)
	o := obligations(level, redact_classes(classes, s), extra)
	d := finish(outcome, codes, o, cacheable(kind), i, s)
}

finish(outcome, codes, o, cache, i, s) := {
	"v": 1,
	"decision": outcome,
	"reasons": [reason(c) | some c in codes],
	"obligations": o,
	"cacheable": cache,
	"ask": {"prompt": ask_prompt(i, codes), "ttl_s": s.ask_ttl_s},
} if {
	outcome == "ask_user"
} else := {
	"v": 1,
	"decision": outcome,
	"reasons": [reason(c) | some c in codes],
	"obligations": o,
	"cacheable": cache,
}

reason(c) := {"code": c, "message": message(c)}

# Sorted and without duplicates; a single class needs neither set nor sort.
redact_classes(classes, s) := redact_of(classes, s.redact_classes) if {
	is_array(classes)
} else := sort({c | some c in classes; c in s.redact_classes})

redact_of(classes, listed) := [] if {
	count(classes) == 0
} else := [c] if {
	count(classes) == 1
	c := classes[0]
	c in listed
} else := [] if {
	count(classes) == 1
} else := sort({c | some c in classes; c in listed})

audit_level(outcome, classes, s) := "full" if {
	outcome != "allow"
} else := "full" if {
	has_string_class(classes)
} else := s.audit_level

# The first matching rule (lowest index) supplies rate-limit and timeout obligations.
rule_obligations(outcome, matched, s) := {k: first[k] | some k in {"rate_limit", "timeout_ms"}; first[k]} if {
	outcome != "deny"
	count(matched) > 0
	first := s.rules[min(matched)]
	first
} else := {}

# The common shapes are one literal each; the rest merges as {audit_level} + {redact} + rule's.
obligations(level, redact, extra) := {"audit_level": level} if {
	count(redact) == 0
	count(extra) == 0
} else := {"audit_level": level, "redact": redact} if {
	count(extra) == 0
} else := object.union({"audit_level": level}, object.union(redact_obligation(redact), extra))

redact_obligation(redact) := {} if {
	count(redact) == 0
} else := {"redact": redact}

# Names are clipped so the prompt stays within the contract's 4,096 characters.
ask_prompt(i, codes) := concat("", [
	"Allow ", clip(i.principal.id), " to use ", clip(i.target.name), "? ",
	concat(" ", [message(c) | some c in codes]),
])

clip(s) := substring(s, 0, 128)
