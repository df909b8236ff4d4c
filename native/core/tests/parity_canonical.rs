//! Runs the shared canonical-JSON vectors of conformance/native/ through the Rust core.

use portcullis_core::canonical::{canonicalize_str, digest_str, sha256_hex};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/native/canonical.vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read canonical vectors");
    let doc: Value = serde_json::from_str(&text).expect("parse canonical vectors");
    doc["vectors"].as_array().expect("vectors array").clone()
}

#[test]
fn canonical_vectors_match() {
    let vectors = vectors();
    assert!(vectors.len() >= 10);
    for v in vectors {
        let name = v["name"].as_str().unwrap();
        let input = v["input"].as_str().unwrap();
        let want = v["canonical"].as_str().unwrap();
        assert_eq!(canonicalize_str(input).unwrap(), want, "vector {name}");
        assert_eq!(
            digest_str(input).unwrap(),
            sha256_hex(want.as_bytes()),
            "vector {name}"
        );
    }
}
