//! Redaction binding: value, options and result cross as JSON text.

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
use portcullis_core::redact::{self, RedactOptions};
use serde_json::Value;

fn invalid(what: &str, e: impl std::fmt::Display) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, format!("{what}: {e}"))
}

fn redact_json(json_text: &str, options: &str) -> napi::Result<String> {
    let value: Value = serde_json::from_str(json_text).map_err(|e| invalid("invalid JSON", e))?;
    let opts: RedactOptions =
        serde_json::from_str(options).map_err(|e| invalid("invalid redaction options", e))?;
    let r = redact::redact_owned(
        portcullis_core::sanitizer::Sanitizer::shared(),
        value,
        &opts,
    );
    let fail = |e: serde_json::Error| napi::Error::from_reason(e.to_string());
    let mut out = String::with_capacity(json_text.len() + 64);
    out.push_str("{\"value\":");
    out.push_str(&serde_json::to_string(&r.value).map_err(fail)?);
    out.push_str(",\"findings\":");
    out.push_str(&serde_json::to_string(&r.findings).map_err(fail)?);
    if let Some(mapping) = r.mapping {
        out.push_str(",\"mapping\":");
        out.push_str(&serde_json::to_string(&mapping).map_err(fail)?);
    }
    out.push('}');
    Ok(out)
}

/// Redacts a JSON document (text) per options (JSON text `{action, classes?, key?}`); returns
/// `{value, findings, mapping?}` as JSON text.
#[napi]
pub fn redact_value_json(json: String, options: String) -> napi::Result<String> {
    redact_json(&json, &options)
}

/// What an off-thread redaction works on.
pub struct RedactTask {
    json: String,
    options: String,
}

impl Task for RedactTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        redact_json(&self.json, &self.options)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// `redactValueJson` on the libuv thread pool, for large values.
#[napi]
pub fn redact_value_json_async(json: String, options: String) -> AsyncTask<RedactTask> {
    AsyncTask::new(RedactTask { json, options })
}
