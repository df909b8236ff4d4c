//! The input projection: text semantics (order, numbers, escapes, whitespace, validation), the
//! in-place contract, and decision parity with and without it on the default bundle.

use portcullis_policy::{decide, read_bundle, PolicyEngine, PolicyError, Projection};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The declaration the default bundle carries (the fixture of the format; the bundle's own copy,
/// when it has one, is tested against the corpus below).
const DECLARATION: &str = r#"{ "keep": { "v": true, "action": true,
  "principal": { "id": true, "roles": true, "authenticated": true },
  "target": { "kind": true, "name": true, "server": true, "changed": true,
              "annotations": true, "model": true, "provider": { "local": true } },
  "data_classes": true, "context": { "transport": true } },
  "by_action": { "approvals/resolve": { "arguments": { "approval_id": true, "requester": true, "granted": true } } } }"#;

fn project(input: &str) -> Result<String, PolicyError> {
    let p = Projection::from_declaration(DECLARATION.as_bytes()).unwrap();
    p.project(input.as_bytes())
        .map(|b| String::from_utf8(b).unwrap())
}

#[test]
fn keeps_declared_paths_in_input_order() {
    let input = r#"{"context":{"request_id":"r","transport":"http","time":"t"},"v":1,"action":"tools/call","arguments":{"q":1},"principal":{"via":"jwt","roles":["a"],"id":"alice","authenticated":true},"target":{"provider":{"local":false,"url":"x"},"definition_hash":"h","name":"n"}}"#;
    assert_eq!(
        project(input).unwrap(),
        r#"{"context":{"transport":"http"},"v":1,"action":"tools/call","principal":{"roles":["a"],"id":"alice","authenticated":true},"target":{"provider":{"local":false},"name":"n"}}"#
    );
}

#[test]
fn by_action_adds_paths_even_when_action_comes_last() {
    let input = r#"{"arguments":{"granted":true,"note":"x","approval_id":"a-1"},"action":"approvals/resolve"}"#;
    assert_eq!(
        project(input).unwrap(),
        r#"{"arguments":{"granted":true,"approval_id":"a-1"},"action":"approvals/resolve"}"#
    );
    // An escaped spelling of the same action selects the same tree; other actions drop arguments.
    let escaped = r#"{"arguments":{"requester":"b"},"\u0061ction":"approvals\/resolve"}"#;
    assert_eq!(
        project(escaped).unwrap(),
        r#"{"arguments":{"requester":"b"},"\u0061ction":"approvals\/resolve"}"#
    );
    assert_eq!(
        project(r#"{"action":"tools/call","arguments":{"granted":true}}"#).unwrap(),
        r#"{"action":"tools/call"}"#
    );
    assert_eq!(
        project(r#"{"action":7,"arguments":{"granted":true}}"#).unwrap(),
        r#"{"action":7}"#
    );
    // Two actions would make the tree ambiguous: refused (fails closed).
    assert!(
        project(r#"{"action":"tools/call","arguments":{},"action":"approvals/resolve"}"#).is_err()
    );
    assert!(project(r#"{"action":"a","\u0061ction":"b"}"#).is_err());
}

#[test]
fn values_of_other_types_and_numbers_stay_exactly_as_written() {
    assert_eq!(
        project(r#"{"principal":["x"],"target":"t","v":1.0e0,"data_classes":[123456789012345678901234567890,-0.5E-3]}"#).unwrap(),
        r#"{"principal":["x"],"target":"t","v":1.0e0,"data_classes":[123456789012345678901234567890,-0.5E-3]}"#
    );
    for scalar in ["null", "42", "\"s\"", "[1,{\"a\":2}]", "true"] {
        assert_eq!(project(scalar).unwrap(), scalar);
    }
    assert_eq!(project("{}").unwrap(), "{}");
    assert_eq!(project(r#"{"x":1}"#).unwrap(), "{}");
}

#[test]
fn whitespace_is_dropped_strings_are_not_touched() {
    let input = " {\n \"v\" : 1 ,\t\"principal\" : { \"id\" : \"a b\\n\\u00e9\" , \"x\" : [ 1 , 2 ] } , \"arguments\" : { \"deep\" : [ [ [ ] ] ] } } \n";
    assert_eq!(
        project(input).unwrap(),
        r#"{"v":1,"principal":{"id":"a b\n\u00e9"}}"#
    );
    assert_eq!(
        project(r#"{"data_classes": [ "é", "😀" , {"a" : [ ] } ]}"#).unwrap(),
        r#"{"data_classes":["é","😀",{"a":[]}]}"#
    );
}

#[test]
fn invalid_text_is_an_error_even_where_dropped() {
    for bad in [
        "",
        "{",
        r#"{"arguments":{"a":01}}"#,
        r#"{"arguments":[1,]}"#,
        r#"{"arguments":"\x"}"#,
        r#"{"arguments":tru}"#,
        r#"{"v":1} x"#,
        r#"{"v":1,}"#,
        "{\"arguments\":\"a\u{1}\"}",
        r#"{"arguments":{"a" 1}}"#,
        r#"{"arguments":[}"#,
        r#"{"arguments":"\u12"}"#,
    ] {
        assert!(
            matches!(project(bad), Err(PolicyError::Eval(_))),
            "accepted {bad:?}"
        );
    }
    let deep = format!(
        "{{\"arguments\":{}{}}}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    assert!(project(&deep).is_err());
    let ok = format!(
        "{{\"arguments\":{}{}}}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    assert_eq!(project(&ok).unwrap(), "{}");
}

#[test]
fn declarations_are_checked() {
    for bad in [
        "[]",
        "{}",
        r#"{"keep":false}"#,
        r#"{"keep":{"a":1}}"#,
        r#"{"keep":true,"by_action":[]}"#,
        r#"{"keep":true,"other":1}"#,
    ] {
        assert!(
            matches!(
                Projection::from_declaration(bad.as_bytes()),
                Err(PolicyError::Load(_))
            ),
            "accepted {bad}"
        );
    }
    let all = Projection::from_declaration(br#"{"keep":true}"#).unwrap();
    assert_eq!(all.project(b" {\"a\" : 1 } ").unwrap(), br#"{"a":1}"#);
    let manifest: serde_json::Value = serde_json::from_str(
        r#"{"revision":"r","metadata":{"portcullis":{"input_projection":{"keep":{"v":true}}}}}"#,
    )
    .unwrap();
    assert!(Projection::from_manifest(&manifest).unwrap().is_some());
    assert!(
        Projection::from_manifest(&serde_json::json!({"revision": "r"}))
            .unwrap()
            .is_none()
    );
}

/// Inputs for the parity check: the example inputs of conformance/policy/examples plus variants
/// that touch every kept and dropped path.
fn parity_inputs() -> Vec<(String, String)> {
    let dir = repo().join("conformance/policy/examples");
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples")
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let input = v.get("input").cloned().unwrap_or(v);
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name.clone(), input.to_string()));
        let variants: [(&str, serde_json::Value); 8] = [
            ("/principal/authenticated", false.into()),
            ("/principal/roles", serde_json::json!(["admin"])),
            ("/target/changed", true.into()),
            (
                "/target/annotations",
                serde_json::json!({"destructiveHint": true}),
            ),
            ("/data_classes", serde_json::json!(["secret"])),
            ("/context/transport", "stdio".into()),
            ("/action", "approvals/resolve".into()),
            (
                "/arguments",
                serde_json::json!({"approval_id": "a", "requester": "alice", "granted": true, "n": 1}),
            ),
        ];
        for (ptr, val) in variants {
            let mut copy = input.clone();
            if let Some(slot) = copy.pointer_mut(ptr) {
                *slot = val;
                out.push((format!("{name} {ptr}"), copy.to_string()));
            }
        }
    }
    out
}

#[test]
fn decisions_are_the_same_with_and_without_the_projection() {
    let b = read_bundle(&repo().join("rego/build/bundle.tar.gz")).unwrap();
    let projection = match &b.projection {
        Some(p) => p.clone(),
        None => Projection::from_declaration(DECLARATION.as_bytes()).unwrap(),
    };
    let mut whole = PolicyEngine::new(&b.wasm, &b.data).unwrap();
    let mut cut = PolicyEngine::new(&b.wasm, &b.data).unwrap();
    cut.set_projection(Some(projection));
    let inputs = parity_inputs();
    assert!(inputs.len() > 30, "{} inputs", inputs.len());
    let mut decisions = std::collections::BTreeSet::new();
    for (name, text) in &inputs {
        let a = decide(&mut whole, text.as_bytes());
        let c = decide(&mut cut, text.as_bytes());
        assert_eq!(a, c, "{name}: {text}");
        decisions.insert(a);
    }
    // The variants reach more than one outcome, so equality is not vacuous.
    assert!(decisions.len() >= 4, "{decisions:?}");
}

#[test]
fn engine_projects_in_place_and_reports_bad_input() {
    let b = read_bundle(&repo().join("rego/build/bundle.tar.gz")).unwrap();
    let mut e = PolicyEngine::new(&b.wasm, &b.data).unwrap();
    e.set_projection(Some(
        Projection::from_declaration(DECLARATION.as_bytes()).unwrap(),
    ));
    let err = e.evaluate(br#"{"v":1,"arguments":[1,]}"#).unwrap_err();
    assert!(matches!(err, PolicyError::Eval(_)), "{err}");
    let d: serde_json::Value =
        serde_json::from_str(&decide(&mut e, br#"{"v":1,"arguments":[1,]}"#)).unwrap();
    assert_eq!(d["reasons"][0]["code"], "POLICY_ERROR");
    // A caller writing into the slot itself gets the same result as evaluate().
    let input = br#"{"v":1,"action":"tools/call","principal":{"id":"a","roles":["user"],"authenticated":true},"target":{"kind":"tool","name":"x__y","annotations":{"readOnlyHint":true}},"arguments":{"z":"q"},"data_classes":[],"context":{"transport":"http"}}"#;
    let expected = e.evaluate(input).unwrap();
    e.input_slot(input.len()).unwrap().copy_from_slice(input);
    assert_eq!(e.evaluate_slot(input.len()).unwrap(), expected.as_bytes());
}
