//! Sanitizer bindings. Findings cross the boundary as JSON text (one `JSON.parse` on the JS side
//! is cheaper than building objects through napi one property at a time).

use napi::bindgen_prelude::{AsyncTask, Env, Task, Uint32Array};
use napi_derive::napi;
use portcullis_core::sanitizer;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Findings as `[detector index, start, end]` triples: the JS side builds the objects from the
/// detector table, which is cheaper than JSON text for large texts with many findings.
fn findings_packed(findings: &[sanitizer::Finding]) -> Vec<u32> {
    static INDEX: OnceLock<HashMap<&'static str, u32>> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let ids = sanitizer::Sanitizer::shared().detector_ids();
        ids.into_iter().zip(0u32..).collect()
    });
    let mut out = Vec::with_capacity(findings.len() * 3);
    for f in findings {
        out.extend([index[f.detector.as_str()], f.start as u32, f.end as u32]);
    }
    out
}

/// Findings in a text as packed `[detector index, start, end]` triples (UTF-8 byte offsets).
#[napi]
pub fn scan_text_packed(text: String) -> Uint32Array {
    Uint32Array::new(findings_packed(&sanitizer::scan_text(&text)))
}

/// `scanTextPacked` on the libuv thread pool.
#[napi]
pub fn scan_text_packed_async(text: String) -> AsyncTask<PackedScanTask> {
    AsyncTask::new(PackedScanTask { text })
}

/// What an off-thread packed scan works on.
pub struct PackedScanTask {
    text: String,
}

impl Task for PackedScanTask {
    type Output = Vec<u32>;
    type JsValue = Uint32Array;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        Ok(findings_packed(&sanitizer::scan_text(&self.text)))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(Uint32Array::new(output))
    }
}

fn findings_json(findings: &[sanitizer::Finding]) -> napi::Result<String> {
    serde_json::to_string(findings).map_err(|e| napi::Error::from_reason(e.to_string()))
}

fn scan_value_text(json: &str) -> napi::Result<String> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| napi::Error::new(napi::Status::InvalidArg, format!("invalid JSON: {e}")))?;
    findings_json(&sanitizer::scan_value(&value))
}

/// Findings in a text, as a JSON array.
#[napi]
pub fn scan_text(text: String) -> napi::Result<String> {
    findings_json(&sanitizer::scan_text(&text))
}

/// Findings in every string of a JSON document given as text, as a JSON array.
#[napi]
pub fn scan_value_json(json: String) -> napi::Result<String> {
    scan_value_text(&json)
}

/// What an off-thread scan works on.
pub struct ScanTask {
    input: String,
    is_json: bool,
}

impl Task for ScanTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        if self.is_json {
            scan_value_text(&self.input)
        } else {
            findings_json(&sanitizer::scan_text(&self.input))
        }
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// `scanText` on the libuv thread pool, for large inputs.
#[napi]
pub fn scan_text_async(text: String) -> AsyncTask<ScanTask> {
    AsyncTask::new(ScanTask {
        input: text,
        is_json: false,
    })
}

/// `scanValueJson` on the libuv thread pool, for large inputs.
#[napi]
pub fn scan_value_json_async(json: String) -> AsyncTask<ScanTask> {
    AsyncTask::new(ScanTask {
        input: json,
        is_json: true,
    })
}
