# Unit tests of the policy's helper functions (input shape, action kinds, rule matching, obligation
# shapes); the decisions themselves are tested in gateway_test.rego, in the same package.
package portcullis.gateway_test

import data.portcullis.gateway

test_action_kinds if {
	gateway.action_kind({"action": "tools/call"}) == "tool_call"
	gateway.action_kind({"action": "prompts/get"}) == "call"
	gateway.action_kind({"action": "resources/read"}) == "call"
	gateway.action_kind({"action": "tools/list"}) == "list"
	gateway.action_kind({"action": "prompts/list"}) == "list"
	gateway.action_kind({"action": "resources/list"}) == "list"
	gateway.action_kind({"action": "model/call"}) == "model_call"
	gateway.action_kind({"action": "model/list"}) == "model_list"
	gateway.action_kind({"action": "approvals/resolve"}) == "approval"
	gateway.action_kind({"action": "tools/delete"}) == "unknown"
	gateway.action_kind({"action": 1}) == "unknown"
	gateway.action_kind({}) == "unknown"
	gateway.action_kind(null) == "unknown"
}

test_input_valid if {
	gateway.input_valid(base, "tool_call") == true
	gateway.input_valid(put(base, {"v": 2}), "tool_call") == false
	gateway.input_valid(base, "unknown") == false
	gateway.input_valid(put(base, {"context": {"transport": "ws"}}), "tool_call") == false
	gateway.input_valid(put(base, {"principal": {"id": "a", "authenticated": "yes"}}), "tool_call") == false
	gateway.input_valid(put(base, {"target": {"kind": "tool"}}), "tool_call") == false
	gateway.input_valid([1], "unknown") == false

	# Only approvals/resolve requires its three arguments.
	gateway.input_valid(put(base, {"arguments": []}), "tool_call") == true
	gateway.input_valid(base, "approval") == false
}

test_matched_rules_in_order if {
	rules := [
		{"id": "a", "effect": "allow", "names": ["db__*"]},
		{"id": "b", "effect": "deny", "kinds": ["prompt"]},
		{"id": "c", "effect": "ask", "servers": ["db"], "actions": false},
		{"id": "d", "effect": "ask", "roles": ["ops*"]},
	]
	target := {"kind": "tool", "name": "db__q", "server": "db"}
	gateway.matched_rules("tool_call", "tools/call", target, {"roles": ["ops-x"]}, {"rules": rules}) == [0, 2, 3]
	gateway.matched_rules("tool_call", "tools/call", target, {"roles": "ops"}, {"rules": rules}) == [0, 2]

	# A target without a kind matches no rule; approvals are not governed by rules.
	gateway.matched_rules("tool_call", "tools/call", {"name": "db__q"}, {}, {"rules": [{"id": "all", "effect": "allow"}]}) == []
	gateway.matched_rules("approval", "approvals/resolve", target, {}, {"rules": rules}) == []
}

test_obligation_shapes if {
	gateway.obligations("full", [], {}) == {"audit_level": "full"}
	gateway.obligations("standard", ["pii"], {}) == {"audit_level": "standard", "redact": ["pii"]}
	gateway.obligations("full", [], {"timeout_ms": 5}) == {"audit_level": "full", "timeout_ms": 5}
	gateway.obligations("full", ["pii"], {"timeout_ms": 5}) == {"audit_level": "full", "redact": ["pii"], "timeout_ms": 5}
}
