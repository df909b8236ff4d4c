//! Runs the shared sanitizer fixtures of conformance/native/ through the Rust core.

use portcullis_core::sanitizer::{scan_text, Sanitizer};
use serde_json::Value;

/// Expands a fixture template; the TypeScript twin is conformance/native/sanitizer-fixtures.ts.
fn expand(template: &str) -> String {
    let mut state: u64 = 42;
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let spec = &rest[open + 1..open + close];
        let class_len = spec.bytes().take_while(|b| b.is_ascii_uppercase()).count();
        let (class, count) = spec.split_at(class_len);
        let charset: &str = match class {
            "" => "",
            "A" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            "H" => "0123456789abcdef",
            "U" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            "D" => "0123456789",
            "T" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
            "B" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            "L" => "abcdefghijklmnopqrstuvwxyz0123456789",
            "AGE" => "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
            "SYM" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#%&*+-.",
            other => panic!("unknown template class {other}"),
        };
        if class.is_empty() && !count.is_empty() {
            // Not a template: keep the text as it is.
            out.push_str(&rest[..=open]);
            rest = &rest[open + 1..];
            continue;
        }
        out.push_str(&rest[..open]);
        let n: usize = if count.is_empty() {
            0
        } else {
            count.parse().expect("count")
        };
        let chars: Vec<char> = charset.chars().collect();
        for _ in 0..n {
            state = state * 48271 % 2147483647;
            out.push(chars[(state % chars.len() as u64) as usize]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn table_has_forty_secret_formats_and_pii() {
    let s = Sanitizer::shared();
    assert!(s.len() >= 46);
    let table: Value = serde_json::from_str(portcullis_core::sanitizer::DETECTOR_TABLE).unwrap();
    let secrets = table["detectors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["class"] == "secret")
        .count();
    assert!(secrets >= 40, "{secrets} secret detectors");
}

#[test]
fn fixtures_positive_and_negative() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/native/sanitizer.fixtures.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut failures = Vec::new();
    for fx in doc["fixtures"].as_array().unwrap() {
        let det = fx["detector"].as_str().unwrap();
        for t in fx["positive"].as_array().unwrap() {
            let text = expand(t.as_str().unwrap());
            if !scan_text(&text).iter().any(|f| f.detector == det) {
                failures.push(format!("{det}: missed {text:?}: {:?}", scan_text(&text)));
            }
        }
        for t in fx["negative"].as_array().unwrap() {
            let text = expand(t.as_str().unwrap());
            if scan_text(&text).iter().any(|f| f.detector == det) {
                failures.push(format!("{det}: false positive on {text:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn spans_are_utf8_byte_offsets() {
    let text = "é😀 mail me: bob@example.org";
    let f = scan_text(text);
    assert_eq!(f.len(), 1);
    assert_eq!(&text[f[0].start..f[0].end], "bob@example.org");
    assert_eq!(f[0].start, "é😀 mail me: ".len());
}

/// Every fixture text, expanded.
fn fixture_texts() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/native/sanitizer.fixtures.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    for fx in doc["fixtures"].as_array().unwrap() {
        for kind in ["positive", "negative"] {
            for t in fx[kind].as_array().unwrap() {
                out.push(expand(t.as_str().unwrap()));
            }
        }
    }
    out
}

/// Lines built from the bytes the prefilter looks at (digits, separators, '@', ':', '.', upper
/// case, keyword pieces), so that near-misses of every anchor and keyword occur often.
fn generated_text(seed: u64, lines: usize) -> String {
    let pieces = [
        "0", "1", "4", "9", "25", "255", "4111", "1111", " ", "-", ".", ":", "::", "@", "a", "f",
        "G", "B", "DE", "89", "x", "_", "\"", "'", "=", "+", "(", ")", "key", "Key", "SK", "sk",
        "token", "secret", "://", "user:", "pass@", "host", "AKIA", "ghp_", "eyJ", ".org", "com",
        "é", "\t",
    ];
    let mut state = seed;
    let mut next = |n: usize| {
        state = state * 48271 % 2147483647;
        (state % n as u64) as usize
    };
    let mut out = String::new();
    for _ in 0..lines {
        let len = 1 + next(40);
        for _ in 0..len {
            out.push_str(pieces[next(pieces.len())]);
        }
        out.push('\n');
    }
    out
}

#[test]
fn prefilter_never_changes_findings() {
    let s = Sanitizer::shared();
    let mut texts = fixture_texts();
    let joined = texts.join("\n");
    texts.push(joined.clone());
    texts.push(texts[..texts.len() - 1].join(" "));
    for seed in 1..40 {
        texts.push(generated_text(seed, 200));
    }
    let mut seen = std::collections::BTreeSet::new();
    for text in &texts {
        let found = s.scan_text(text);
        assert_eq!(
            found,
            s.scan_text_exhaustive(text),
            "prefiltered and exhaustive scans differ on {text:?}"
        );
        seen.extend(found.into_iter().map(|f| f.detector));
    }
    // The corpus exercises every detector, so a prefilter that hid one would show above.
    assert_eq!(seen.len(), s.len(), "{seen:?}");
}
