//! Synchronous host for OPA's WebAssembly policy ABI, evaluating the same `policy.wasm` the
//! TypeScript engine runs. `decide` turns any failure into a deny decision with a registered
//! reason code, mirroring the TypeScript decision service.

mod bundle;
mod engine;
mod projection;

pub use bundle::{read_bundle, read_bundle_bytes, Bundle, MAX_ENTRIES, MAX_ENTRY_BYTES};
pub use engine::{PolicyEngine, PolicyError, DEFAULT_ENTRYPOINT, MAX_MEMORY_PAGES};
pub use projection::{Projection, MAX_DEPTH};

use serde_json::value::RawValue;

/// A deny decision carrying `code`, used whenever the policy cannot give an answer.
pub fn fail_closed(code: &str, message: &str) -> String {
    serde_json::json!({
        "v": 1,
        "decision": "deny",
        "reasons": [{ "code": code, "message": message }],
        "obligations": { "audit_level": "full" },
        "cacheable": false,
    })
    .to_string()
}

/// Extracts the single `result` from a result-set JSON text without re-reading its numbers.
/// `Ok(None)` means undefined (an empty result set).
pub fn single_result(result_set: &str) -> Result<Option<String>, PolicyError> {
    #[derive(serde::Deserialize)]
    struct Entry<'a> {
        #[serde(borrow)]
        result: &'a RawValue,
    }
    let set: Vec<Entry<'_>> = serde_json::from_str(result_set)
        .map_err(|e| PolicyError::Eval(format!("result set: {e}")))?;
    match set.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.result.get().to_string())),
        _ => Err(PolicyError::Eval("more than one result".into())),
    }
}

/// Evaluates and returns the decision JSON text; never fails (fails closed instead).
pub fn decide(engine: &mut PolicyEngine, input_json: &[u8]) -> String {
    match engine
        .evaluate(input_json)
        .and_then(|set| single_result(&set))
    {
        Ok(Some(decision)) => decision,
        Ok(None) => fail_closed(
            "POLICY_UNDEFINED",
            "The policy returned no decision (undefined).",
        ),
        Err(e) => fail_closed("POLICY_ERROR", &e.to_string()),
    }
}
