//! Unit tests of the Rust mirror's JavaScript-compatible edge cases.

use super::*;
use serde_json::json;

fn request() -> Value {
    json!({
        "v": 1,
        "id": "c1",
        "tool": "workspace__read",
        "arguments": {"path": "README.md"},
        "principal": {"id": "alice", "roles": ["user"], "authenticated": true, "via": "api_key"}
    })
}

fn with(mut doc: Value, pointer: &str, value: Value) -> Value {
    *doc.pointer_mut(pointer).expect("pointer exists") = value;
    doc
}

fn ok(t: DocumentType, doc: Value) -> bool {
    t.validate_value(doc).is_ok()
}

#[test]
fn accepts_a_request_and_round_trips_it() {
    let doc: ToolCallRequest = from_value(request()).unwrap();
    assert_eq!(doc.tool.as_str(), "workspace__read");
    assert_eq!(serde_json::to_value(&doc).unwrap(), request());
}

#[test]
fn version_accepts_integral_one_only() {
    let t = DocumentType::ToolCallRequest;
    assert!(t
        .validate_json(&request().to_string().replace("\"v\":1", "\"v\":1.0"))
        .is_ok());
    assert!(t
        .validate_json(&request().to_string().replace("\"v\":1", "\"v\":1e0"))
        .is_ok());
    assert!(!ok(t, with(request(), "/v", json!(2))));
    assert!(!ok(t, with(request(), "/v", json!("1"))));
    assert!(!ok(t, with(request(), "/v", json!(-0.0))));
}

#[test]
fn refuses_unknown_members_null_optionals_and_empty_ids() {
    let t = DocumentType::ToolCallRequest;
    let mut extra = request();
    extra["extra"] = json!(1);
    assert!(!ok(t, extra));
    let mut null_session = request();
    null_session["session"] = Value::Null;
    assert!(!ok(t, null_session));
    assert!(!ok(t, with(request(), "/id", json!(""))));
    assert!(!ok(t, with(request(), "/principal/via", json!("token"))));
}

#[test]
fn duplicate_members_last_wins_like_json_parse() {
    let t = DocumentType::ToolCallRequest;
    let text = request()
        .to_string()
        .replacen("\"v\":1", "\"v\":2,\"v\":1", 1);
    assert!(t.validate_json(&text).is_ok(), "{text}");
    let text = request()
        .to_string()
        .replacen("\"v\":1", "\"v\":1,\"v\":2", 1);
    assert!(t.validate_json(&text).is_err());
}

fn decision() -> Value {
    json!({"v": 1, "decision": "deny", "reasons": [{"code": "DEFAULT_DENY", "message": ""}],
           "obligations": {"rate_limit": {"limit": 5, "window_s": 60}}})
}

#[test]
fn integers_follow_javascript_safe_integers() {
    let t = DocumentType::PolicyDecision;
    assert!(ok(
        t,
        with(decision(), "/obligations/rate_limit/limit", json!(5.0))
    ));
    assert!(!ok(
        t,
        with(decision(), "/obligations/rate_limit/limit", json!(5.5))
    ));
    assert!(!ok(
        t,
        with(decision(), "/obligations/rate_limit/limit", json!(0))
    ));
    assert!(!ok(
        t,
        with(
            decision(),
            "/obligations/rate_limit/window_s",
            json!(86_401)
        )
    ));
    let audit_seq = |n: &str| {
        format!(
            r#"{{"v":1,"seq":{n},"id":"a","ts":"2026-01-31T12:00:00Z","prev_hash":"{z}","hash":"{z}","kind":"admin","principal":{{"id":"p","roles":[],"authenticated":false,"via":"anonymous"}},"target":{{"kind":"bundle","name":"default"}},"args_digest":"{z}"}}"#,
            z = "0".repeat(64)
        )
    };
    let t = DocumentType::AuditEnvelope;
    assert!(t.validate_json(&audit_seq("9007199254740991")).is_ok());
    assert!(t.validate_json(&audit_seq("9007199254740992")).is_err());
    assert!(t.validate_json(&audit_seq("1e300")).is_err());
    assert!(t.validate_json(&audit_seq("1e400")).is_err());
    assert!(t.validate_json(&audit_seq("-0")).is_ok());
    assert!(t.validate_json(&audit_seq("-1")).is_err());
}

#[test]
fn ask_user_needs_ask() {
    let t = DocumentType::PolicyDecision;
    let d = with(decision(), "/decision", json!("ask_user"));
    assert!(!ok(t, d.clone()));
    let mut d = d;
    d["ask"] = json!({"prompt": "Run it?", "ttl_s": 300});
    assert!(ok(t, d));
}

#[test]
fn lengths_are_utf16_units_and_patterns_are_ascii() {
    assert_eq!(common::utf16_len("a😀"), 3);
    let t = DocumentType::ToolCallRequest;
    assert!(ok(t, with(request(), "/id", json!("😀".repeat(128)))));
    assert!(!ok(
        t,
        with(request(), "/id", json!(format!("a{}", "😀".repeat(128))))
    ));
    assert!(!ok(t, with(request(), "/tool", json!("wörkspace"))));
    assert!(!ok(t, with(request(), "/tool", json!("read\n"))));
    assert!(t.validate_json(r#"{"v":1,"id":"\ud800"}"#).is_err());
}

#[test]
fn nesting_is_bounded() {
    let nest = |levels: usize| {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!([v]);
        }
        with(request(), "/arguments/path", v)
    };
    // The document is depth 1 and its arguments depth 2, so 62 more arrays reach depth 64.
    assert!(ok(DocumentType::ToolCallRequest, nest(62)));
    assert!(!ok(DocumentType::ToolCallRequest, nest(63)));
}

#[test]
fn content_blocks_and_event_data_pass_extra_members_through() {
    let result = json!({"v": 1, "id": "c1", "status": "ok",
        "content": [{"type": "text", "text": "hi", "annotations": {"audience": ["user"]}},
                    {"type": "resource", "resource": {"uri": "file:///a", "text": "x"}}],
        "timings": {"total_ms": 1.5}});
    let parsed: ToolCallResult = from_value(result.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), result);
    assert!(!ok(
        DocumentType::ToolCallResult,
        with(result.clone(), "/content/0/type", json!("video"))
    ));
    assert!(!ok(
        DocumentType::ToolCallResult,
        with(result, "/timings/total_ms", json!(-1))
    ));

    let event = json!({"v": 1, "session": "s", "seq": 3, "ts": "2026-01-31T12:00:00.5+01:00",
        "kind": "file.write", "data": {"path": "a.txt", "bytes": 3, "sha": "x"}});
    let parsed: SessionEvent = from_value(event.clone()).unwrap();
    assert!(matches!(
        parsed.typed_data(),
        Ok(workspace_session::SessionEventData::FileWrite(_))
    ));
    assert!(!ok(
        DocumentType::SessionEvent,
        with(event.clone(), "/data/bytes", json!(-3))
    ));
    assert!(!ok(
        DocumentType::SessionEvent,
        with(event, "/kind", json!("browser.navigate"))
    ));
}

#[test]
fn model_routing_rules() {
    let provider = json!({"v": 1, "id": "openai", "kind": "openai", "base_url": "https://api.example.test/v1",
        "credential": "env:OPENAI_API_KEY", "models": ["gpt-x"], "local": false});
    assert!(ok(DocumentType::ProviderConfig, provider.clone()));
    assert!(!ok(
        DocumentType::ProviderConfig,
        with(provider.clone(), "/credential", json!("sk-live-123"))
    ));
    assert!(!ok(
        DocumentType::ProviderConfig,
        with(provider.clone(), "/models", json!([]))
    ));
    assert!(!ok(
        DocumentType::ProviderConfig,
        with(provider, "/base_url", json!("ftp://x"))
    ));
    let policy = json!({"v": 1, "id": "r", "detectors": ["secret.aws"], "action": "mask",
        "allowed_providers": {"pii": ["local-llm"]}});
    assert!(ok(DocumentType::RedactionPolicy, policy.clone()));
    assert!(!ok(
        DocumentType::RedactionPolicy,
        with(policy, "/allowed_providers", json!({"PII": []}))
    ));
}

#[test]
fn names_round_trip() {
    for t in DocumentType::ALL {
        assert_eq!(DocumentType::from_name(t.name()), Some(t));
    }
    assert_eq!(DocumentType::from_name("Nope"), None);
}

#[test]
fn targets_share_their_members_and_differ_in_kinds() {
    let input: Value = serde_json::from_str(include_str!(
        "../../../../conformance/contracts/PolicyInput/valid/tool-call.json"
    ))
    .unwrap();
    let audit: Value = serde_json::from_str(include_str!(
        "../../../../conformance/contracts/AuditEnvelope/valid/decision-record.json"
    ))
    .unwrap();
    let (pi, ae) = (DocumentType::PolicyInput, DocumentType::AuditEnvelope);
    let parsed: PolicyInput = from_value(input.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), input);
    let parsed: AuditEnvelope = from_value(audit.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), audit);

    // Only the audit target names administrative objects.
    assert!(!ok(
        pi,
        with(input.clone(), "/target/kind", json!("config"))
    ));
    assert!(ok(ae, with(audit.clone(), "/target/kind", json!("config"))));
    assert!(!ok(
        ae,
        with(audit.clone(), "/target/kind", json!("server"))
    ));
    // Optional members refuse null, also inside the annotations; unknown members are refused.
    for (t, doc) in [(pi, input), (ae, audit)] {
        assert!(!ok(t, with(doc.clone(), "/target/server", Value::Null)));
        assert!(!ok(
            t,
            with(doc.clone(), "/target/annotations/readOnlyHint", Value::Null)
        ));
        let mut changed_null = doc.clone();
        changed_null["target"]["changed"] = Value::Null;
        assert!(!ok(t, changed_null));
        let mut unknown = doc;
        unknown["target"]["owner"] = json!("x");
        assert!(!ok(t, unknown));
    }

    let event = json!({"v": 1, "session": "s", "seq": 3, "ts": "2026-01-31T12:00:00Z",
        "kind": "file.search", "data": {"query": "q", "matches": 2}});
    assert!(ok(DocumentType::SessionEvent, event.clone()));
    assert!(!ok(
        DocumentType::SessionEvent,
        with(event, "/data/matches", Value::Null)
    ));
}
