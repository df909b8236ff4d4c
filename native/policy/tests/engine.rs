//! The Rust host against the committed default bundle: decisions, fail-closed paths, bounds.

use portcullis_policy::{
    decide, read_bundle, read_bundle_bytes, single_result, PolicyEngine, PolicyError,
};
use std::path::PathBuf;

fn bundle_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../rego/build/bundle.tar.gz")
}

const INPUT: &str = r#"{"v":1,"action":"tools/call","principal":{"id":"alice","roles":["user"],"authenticated":true,"via":"api_key"},"target":{"kind":"tool","name":"docs__search","annotations":{"readOnlyHint":true}},"arguments":{"n":123456789012345678901234567890},"data_classes":[],"context":{"time":"t","request_id":"r","transport":"http"}}"#;

fn engine() -> PolicyEngine {
    let b = read_bundle(&bundle_path()).expect("bundle");
    assert_eq!(b.revision.len(), 32);
    PolicyEngine::new(&b.wasm, &b.data).expect("engine")
}

#[test]
fn allows_a_read_only_tool() {
    let mut e = engine();
    let d: serde_json::Value = serde_json::from_str(&decide(&mut e, INPUT.as_bytes())).unwrap();
    assert_eq!(d["decision"], "allow");
    assert_eq!(d["reasons"][0]["code"], "READ_ONLY_ALLOWED");
    // Repeated evaluations reuse the heap and give the same text.
    let first = e.evaluate(INPUT.as_bytes()).unwrap();
    for _ in 0..100 {
        assert_eq!(e.evaluate(INPUT.as_bytes()).unwrap(), first);
    }
}

#[test]
fn invalid_input_is_denied_not_undefined() {
    let mut e = engine();
    let d: serde_json::Value = serde_json::from_str(&decide(&mut e, b"{}")).unwrap();
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["reasons"][0]["code"], "INVALID_INPUT");
}

#[test]
fn corrupt_wasm_is_refused() {
    let b = read_bundle(&bundle_path()).unwrap();
    let err = PolicyEngine::new(&b.wasm[..1000], &b.data)
        .err()
        .expect("must fail");
    assert!(matches!(err, PolicyError::Load(_)), "{err}");
    let mut flipped = b.wasm.clone();
    let mid = flipped.len() / 2;
    for byte in &mut flipped[mid..mid + 64] {
        *byte ^= 0xff;
    }
    assert!(PolicyEngine::new(&flipped, &b.data).is_err());
}

#[test]
fn bad_data_is_refused() {
    let b = read_bundle(&bundle_path()).unwrap();
    assert!(matches!(
        PolicyEngine::new(&b.wasm, b"{nope"),
        Err(PolicyError::Data(_))
    ));
}

#[test]
fn memory_is_bounded() {
    let mut e = engine();
    let huge = format!("{{\"blob\":\"{}\"}}", "x".repeat(70 * 1024 * 1024));
    let err = e.evaluate(huge.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("memory"), "{err}");
    // The engine still works afterwards.
    assert!(e.evaluate(INPUT.as_bytes()).is_ok());
}

#[test]
fn result_sets() {
    assert_eq!(single_result("[]").unwrap(), None);
    assert_eq!(
        single_result(r#"[{"result":{"n":12345678901234567890123}}]"#)
            .unwrap()
            .as_deref(),
        Some(r#"{"n":12345678901234567890123}"#)
    );
    assert!(single_result(r#"[{"result":1},{"result":2}]"#).is_err());
    assert!(single_result("nope").is_err());
}

#[test]
fn bundle_reader_rejects_garbage() {
    assert!(matches!(
        read_bundle_bytes(b"not a gzip"),
        Err(PolicyError::Bundle(_))
    ));
    assert!(read_bundle(&PathBuf::from("/nonexistent/bundle.tar.gz")).is_err());
}

fn trap_module() -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let wasm = wat::parse_file(dir.join("trap.wat")).expect("trap.wat");
    // The committed binary is what the Node coexistence test loads: keep it in step
    // (PORTCULLIS_WRITE_FIXTURES=1 rewrites it).
    if std::env::var_os("PORTCULLIS_WRITE_FIXTURES").is_some() {
        std::fs::write(dir.join("trap.wasm"), &wasm).unwrap();
    }
    let committed = std::fs::read(dir.join("trap.wasm")).expect("trap.wasm");
    assert_eq!(
        committed, wasm,
        "tests/fixtures/trap.wasm is stale: run the test with PORTCULLIS_WRITE_FIXTURES=1"
    );
    wasm
}

#[test]
fn out_of_bounds_access_in_the_module_is_an_eval_error() {
    let mut e = PolicyEngine::new(&trap_module(), b"{}").expect("trap module loads");
    assert_eq!(e.evaluate(b"fine").unwrap(), "[]");
    // The load at 2 GiB lands in the guard region: a fault caught by wasmtime's signal handler.
    for _ in 0..3 {
        let err = e.evaluate(b"oob").unwrap_err();
        assert!(matches!(err, PolicyError::Eval(_)), "{err}");
        assert!(err.to_string().contains("out of bounds"), "{err}");
        let err = e.evaluate(b"unreachable").unwrap_err();
        assert!(matches!(err, PolicyError::Eval(_)), "{err}");
        // The instance keeps answering after each trap.
        assert_eq!(e.evaluate(b"fine").unwrap(), "[]");
    }
    let d: serde_json::Value = serde_json::from_str(&decide(&mut e, b"oob")).unwrap();
    assert_eq!(d["decision"], "deny");
    assert_eq!(d["reasons"][0]["code"], "POLICY_ERROR");
}
