//! Sanitizer bindings. Findings cross the boundary as JSON text (one `JSON.parse` on the JS side
//! is cheaper than building objects through napi one property at a time).

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
use portcullis_core::sanitizer;

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
