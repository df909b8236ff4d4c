# The verdict for a valid input: which reason codes vote deny, ask_user or allow, by kind of
# action, as [outcome, codes]. An else-chain first asks whether any deny (then ask) vote is cast,
# so the common outcome checks each vote once and lists only its own codes; each list of
# candidate codes is in sorted order, so the reasons need no sorting. Every code used here has a
# message in reasons.rego and an entry in contracts/reason-codes.json (tested).
package portcullis.gateway

# deny > ask_user > allow, and nothing matched means deny.
verdict_of(kind, i, target, principal, classes, matched, s) := approval_verdict(i, principal, s) if {
	kind == "approval"
} else := model_verdict(kind, i, target, principal, classes, matched, s) if {
	kind == "model_call"
} else := model_verdict(kind, i, target, principal, classes, matched, s) if {
	kind == "model_list"
} else := tool_verdict(kind, i, target, annotations(target), secret_vote(kind, classes, s), principal, matched, s)

# --- tools, prompts and resources -------------------------------------------------------------

# `secret` is what secrets.action makes of the data classes found ("deny", "ask" or "none").
tool_verdict(kind, i, target, ann, secret, principal, matched, s) := ["deny", codes] if {
	tool_denied(i, target, secret, principal, matched, s)
	codes := [c |
		some c in ["DENIED_BY_RULE", "SECRET_IN_ARGUMENTS", "TOOL_DEFINITION_CHANGED", "UNAUTHENTICATED"]
		tool_denies(c, i, target, secret, principal, matched, s)
	]
} else := ["ask_user", codes] if {
	tool_asked(kind, ann, secret, matched, s)
	codes := [c |
		some c in ["DESTRUCTIVE_TOOL", "OPEN_WORLD_TOOL", "REQUIRES_APPROVAL", "SECRET_REQUIRES_APPROVAL"]
		tool_asks(c, kind, ann, secret, matched, s)
	]
} else := ["allow", codes] if {
	codes := tool_allow_codes(kind, ann, matched, s)
} else := ["deny", ["DEFAULT_DENY"]]

# Whether any deny (ask) vote is cast: an else-chain that stops at the first, so the common
# outcome builds no list of codes for the votes it did not get.
tool_denied(i, target, secret, principal, matched, s) if {
	rule_effect(matched, "deny", s)
} else if {
	secret == "deny"
} else if {
	changed(target)
} else if {
	unauthenticated(i, principal)
}

tool_asked(kind, ann, secret, matched, s) if {
	destructive_voted(kind, ann, s)
} else if {
	open_world_voted(kind, ann, s)
} else if {
	rule_effect(matched, "ask", s)
} else if {
	secret == "ask"
}

tool_denies("DENIED_BY_RULE", _, _, _, _, matched, s) if rule_effect(matched, "deny", s)

# Model calls are governed by the provider rule (models.local_only_classes), not this one.
tool_denies("SECRET_IN_ARGUMENTS", _, _, "deny", _, _, _)

tool_denies("TOOL_DEFINITION_CHANGED", _, target, _, _, _, _) if changed(target)

tool_denies("UNAUTHENTICATED", i, _, _, principal, _, _) if unauthenticated(i, principal)

tool_asks("DESTRUCTIVE_TOOL", kind, ann, _, _, s) if destructive_voted(kind, ann, s)

tool_asks("OPEN_WORLD_TOOL", kind, ann, _, _, s) if open_world_voted(kind, ann, s)

tool_asks("REQUIRES_APPROVAL", _, _, _, matched, s) if rule_effect(matched, "ask", s)

tool_asks("SECRET_REQUIRES_APPROVAL", _, _, "ask", _, _)

# Without a deny vote the caller is trusted (UNAUTHENTICATED did not vote). At most two codes:
# a rule's, then the one of the action's kind; undefined when neither votes.
tool_allow_codes(kind, ann, matched, s) := rule_allow_codes(kind, ann, s) if {
	rule_effect(matched, "allow", s)
} else := [code] if {
	code := kind_allow(kind, ann, s)
}

rule_allow_codes(kind, ann, s) := ["ALLOWED_BY_RULE", code] if {
	code := kind_allow(kind, ann, s)
} else := ["ALLOWED_BY_RULE"]

kind_allow("list", _, s) := "LISTING_VISIBLE" if s.listing.visible_by_default == true

kind_allow("tool_call", ann, _) := "READ_ONLY_ALLOWED" if ann.readOnlyHint == true

# The tool's annotations, or null (no member) when it has none.
annotations(target) := ann if {
	ann := target.annotations
} else := null

# secrets.action applies to the data classes in a tool call's arguments (not to listings).
secret_vote(kind, classes, s) := action if {
	kind != "list"
	secrets := s.secrets
	data_class_in(classes, secrets.classes)
	action := secrets.action
} else := "none"

destructive_voted("tool_call", ann, s) if {
	ann.destructiveHint == true
	s.ask.destructive == true
}

open_world_voted("tool_call", ann, s) if {
	ann.openWorldHint == true
	not ann.readOnlyHint == true
	s.ask.open_world == true
}

# --- models ----------------------------------------------------------------------------------

# Without a deny vote the caller is trusted and the model allowed: MODEL_ALLOWED.
model_verdict(kind, i, target, principal, classes, matched, s) := ["deny", codes] if {
	model_denied(kind, i, target, principal, classes, matched, s)
	codes := [c |
		some c in [
			"DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER", "DENIED_BY_RULE", "MODEL_NOT_ALLOWED",
			"TOOL_DEFINITION_CHANGED", "UNAUTHENTICATED",
		]
		model_denies(c, kind, i, target, principal, classes, matched, s)
	]
} else := ["ask_user", ["REQUIRES_APPROVAL"]] if {
	rule_effect(matched, "ask", s)
} else := ["allow", ["MODEL_ALLOWED"]]

# Whether any deny vote is cast, stopping at the first (as tool_denied).
model_denied(kind, i, target, principal, classes, matched, s) if {
	not model_allowed(target, principal, s)
} else if {
	unauthenticated(i, principal)
} else if {
	provider_refused(kind, target, classes, s)
} else if {
	rule_effect(matched, "deny", s)
} else if {
	changed(target)
}

model_denies("DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER", kind, _, target, _, classes, _, s) if {
	provider_refused(kind, target, classes, s)
}

model_denies("DENIED_BY_RULE", _, _, _, _, _, matched, s) if rule_effect(matched, "deny", s)

model_denies("MODEL_NOT_ALLOWED", _, _, target, principal, _, _, s) if not model_allowed(target, principal, s)

# Data classes in models.local_only_classes only go to providers marked local.
provider_refused("model_call", target, classes, s) if {
	data_class_in(classes, s.models.local_only_classes)
	not target.provider.local == true
}

model_denies("TOOL_DEFINITION_CHANGED", _, _, target, _, _, _, _) if changed(target)

model_denies("UNAUTHENTICATED", _, i, _, principal, _, _, _) if unauthenticated(i, principal)

model_name(target) := target.model if {
	is_string(target.model)
} else := target.name

model_allowed(target, principal, s) if {
	target.kind == "model"
	name := model_name(target)
	is_string(name)
	model_listed(name, principal, s)
}

# settings.models.allowed, or per-role allowlists: settings.models.roles maps a role to patterns.
model_listed(name, principal, s) if {
	any_matches(s.models.allowed, name)
} else if {
	some r in principal.roles
	is_string(r)
	any_matches(s.models.roles[r], name)
}

# --- approvals/resolve ----------------------------------------------------------------------------

# Without a deny vote the approver authenticated and holds a role: APPROVER_PERMITTED.
approval_verdict(i, principal, s) := ["deny", codes] if {
	codes := [c |
		some c in ["APPROVER_NOT_PERMITTED", "SELF_APPROVAL_FORBIDDEN", "TOOL_DEFINITION_CHANGED", "UNAUTHENTICATED"]
		approval_denies(c, i, principal, s)
	]
	count(codes) > 0
} else := ["allow", ["APPROVER_PERMITTED"]]

approval_denies("APPROVER_NOT_PERMITTED", _, principal, s) if not approver_role(principal, s)

approval_denies("SELF_APPROVAL_FORBIDDEN", i, principal, _) if i.arguments.requester == principal.id

approval_denies("TOOL_DEFINITION_CHANGED", i, _, _) if changed(i.target)

# Resolving an approval needs a principal that authenticated, whatever the transport.
approval_denies("UNAUTHENTICATED", _, principal, _) if principal.authenticated != true

approver_role(principal, s) if {
	some r in principal.roles
	is_string(r)
	any_matches(s.approvals.approver_roles, r)
}
