//! `contract-check`: validates contract documents with the Rust mirror, one per stdin line, so the
//! TypeScript conformance test and the benchmark can run hundreds of documents in one process.
//!
//! Input lines: `{"type": "<DocType>", "text": "<JSON text>", "repeat"?: n}` (the text is parsed
//! here, so duplicate members, huge numbers and escapes reach serde_json unchanged) or
//! `{"type": "<DocType>", "doc": <value>}`. Output, one line each:
//! `{"valid": bool, "error"?: string, "ns": <validation time summed over repeat runs>}`.
//! A malformed request line is a protocol error: a message on stderr and exit code 2.

use std::io::{self, BufRead, BufWriter, Write};
use std::time::Instant;

use portcullis_core::contracts::DocumentType;
use serde_json::{json, Value};

fn fail(line_no: usize, message: &str) -> ! {
    eprintln!("contract-check: line {line_no}: {message}");
    std::process::exit(2);
}

fn main() {
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    for (index, line) in stdin.lock().lines().enumerate() {
        let line_no = index + 1;
        let line = line.unwrap_or_else(|e| fail(line_no, &format!("cannot read stdin: {e}")));
        if line.trim().is_empty() {
            continue;
        }
        let request: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| fail(line_no, &format!("not JSON: {e}")));
        let type_name = request["type"]
            .as_str()
            .unwrap_or_else(|| fail(line_no, "missing \"type\""));
        let doc_type = DocumentType::from_name(type_name)
            .unwrap_or_else(|| fail(line_no, &format!("unknown document type {type_name:?}")));
        let repeat = match request.get("repeat") {
            None => 1,
            Some(n) => n
                .as_u64()
                .filter(|n| *n >= 1)
                .unwrap_or_else(|| fail(line_no, "bad \"repeat\"")),
        };
        let (result, elapsed) = if let Some(text) = request.get("text") {
            let text = text
                .as_str()
                .unwrap_or_else(|| fail(line_no, "\"text\" must be a string"));
            let started = Instant::now();
            let mut result = doc_type.validate_json(text);
            for _ in 1..repeat {
                result = doc_type.validate_json(text);
            }
            (result, started.elapsed())
        } else if let Some(doc) = request.get("doc") {
            if repeat != 1 {
                fail(line_no, "\"repeat\" needs \"text\"");
            }
            let doc = doc.clone();
            let started = Instant::now();
            let result = doc_type.validate_value(doc);
            (result, started.elapsed())
        } else {
            fail(line_no, "expected \"text\" or \"doc\"")
        };
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let response = match result {
            Ok(()) => json!({"valid": true, "ns": ns}),
            Err(error) => json!({"valid": false, "error": error, "ns": ns}),
        };
        writeln!(out, "{response}")
            .and_then(|()| out.flush())
            .unwrap_or_else(|e| {
                eprintln!("contract-check: cannot write stdout: {e}");
                std::process::exit(2);
            });
    }
}
