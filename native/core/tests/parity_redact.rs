//! Runs the shared redaction vectors of conformance/native/ through the Rust core.

use portcullis_core::redact::{redact_value, restore, RedactOptions};
use serde_json::Value;

#[test]
fn redaction_vectors_match() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/native/redact.vectors.json"
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("read vectors")).unwrap();
    let vectors = doc["vectors"].as_array().expect("vectors");
    assert!(vectors.len() >= 8);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let opts: RedactOptions = serde_json::from_value(v["options"].clone()).unwrap();
        let r = redact_value(&v["input"], &opts);
        assert_eq!(r.value, v["value"], "vector {name}");
        assert_eq!(
            r.findings.len() as u64,
            v["findings"].as_u64().unwrap(),
            "vector {name}"
        );
        match (&r.mapping, v.get("mapping")) {
            (Some(m), Some(Value::Object(want))) => {
                assert_eq!(m, want, "vector {name}");
                assert_eq!(restore(&r.value, m), v["input"], "vector {name}");
            }
            (None, None) => {}
            other => panic!("vector {name}: mapping mismatch {other:?}"),
        }
    }
}
