# The reason codes each situation raises, grouped by the outcome they vote for. Every code used
# here has a message in reasons.rego and an entry in contracts/reason-codes.json (tested).
package portcullis.gateway

import data.portcullis.settings

# --- deny -------------------------------------------------------------------------------------

deny_codes contains "INVALID_INPUT" if not valid_input

deny_codes contains "UNAUTHENTICATED" if {
	valid_input
	not trusted
}

# Resolving an approval needs a principal that authenticated, whatever the transport.
deny_codes contains "UNAUTHENTICATED" if {
	valid_input
	is_approval_action
	input.principal.authenticated != true
}

deny_codes contains "SELF_APPROVAL_FORBIDDEN" if {
	valid_input
	is_approval_action
	input.arguments.requester == input.principal.id
}

deny_codes contains "APPROVER_NOT_PERMITTED" if {
	valid_input
	is_approval_action
	not approver_role
}

deny_codes contains "TOOL_DEFINITION_CHANGED" if {
	valid_input
	input.target.kind == "tool"
	input.target.changed == true
}

deny_codes contains "DENIED_BY_RULE" if {
	valid_input
	matched_effects.deny
}

# Model calls are governed by the provider rule below (models.local_only_classes), not this one.
deny_codes contains "SECRET_IN_ARGUMENTS" if {
	valid_input
	is_call_action
	not is_model_action
	secret_found
	settings.secrets.action == "deny"
}

deny_codes contains "MODEL_NOT_ALLOWED" if {
	valid_input
	is_model_action
	not model_allowed
}

deny_codes contains "DATA_CLASS_NOT_ALLOWED_FOR_PROVIDER" if {
	valid_input
	input.action == "model/call"
	data_class_in(settings.models.local_only_classes)
	not provider_local
}

# --- ask_user -----------------------------------------------------------------------------------

ask_codes contains "DESTRUCTIVE_TOOL" if {
	tool_call
	annotation("destructiveHint") == true
	settings.ask.destructive == true
}

ask_codes contains "OPEN_WORLD_TOOL" if {
	tool_call
	annotation("openWorldHint") == true
	not read_only
	settings.ask.open_world == true
}

ask_codes contains "SECRET_REQUIRES_APPROVAL" if {
	is_call_action
	not is_model_action
	secret_found
	settings.secrets.action == "ask"
}

ask_codes contains "REQUIRES_APPROVAL" if matched_effects.ask

# --- allow --------------------------------------------------------------------------------------

allow_codes contains "READ_ONLY_ALLOWED" if {
	valid_input
	trusted
	tool_call
	read_only
}

allow_codes contains "ALLOWED_BY_RULE" if {
	valid_input
	trusted
	not is_model_action
	matched_effects.allow
}

allow_codes contains "LISTING_VISIBLE" if {
	valid_input
	trusted
	is_list_action
	not is_model_action
	settings.listing.visible_by_default == true
}

allow_codes contains "APPROVER_PERMITTED" if {
	valid_input
	is_approval_action
	input.principal.authenticated == true
	approver_role
}

allow_codes contains "MODEL_ALLOWED" if {
	valid_input
	trusted
	is_model_action
	model_allowed
}

# --- helpers for the votes above ------------------------------------------------------------------

secret_found if data_class_in(settings.secrets.classes)

model_name := input.target.model if is_string(input.target.model)

else := input.target.name

model_allowed if {
	input.target.kind == "model"
	is_string(model_name)
	any_matches(settings.models.allowed, model_name)
}

# Per-role allowlists: settings.models.roles maps a role to more model patterns.
model_allowed if {
	input.target.kind == "model"
	is_string(model_name)
	some r in input.principal.roles
	is_string(r)
	any_matches(settings.models.roles[r], model_name)
}

approver_role if {
	some r in input.principal.roles
	is_string(r)
	any_matches(settings.approvals.approver_roles, r)
}

provider_local if input.target.provider.local == true

read_only if annotation("readOnlyHint") == true
