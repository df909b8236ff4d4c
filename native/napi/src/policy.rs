//! napi binding of the Rust policy engine: a `PolicyEngine` class over portcullis-policy.
//! Evaluation is synchronous and short (microseconds), so it runs on the JS thread.

use napi::bindgen_prelude::{Buffer, Either};
use napi::{Error, Result};
use napi_derive::napi;

fn to_napi(e: portcullis_policy::PolicyError) -> Error {
    Error::from_reason(e.to_string())
}

fn bytes(v: &Either<String, Buffer>) -> &[u8] {
    match v {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

/// One instantiated `policy.wasm` with its data document loaded.
#[napi(js_name = "PolicyEngine")]
pub struct JsPolicyEngine {
    inner: portcullis_policy::PolicyEngine,
}

#[napi]
impl JsPolicyEngine {
    /// Loads `wasm` and `data_json`; throws when the module is not a usable OPA policy.
    #[napi(constructor)]
    pub fn new(wasm: Buffer, data_json: Either<String, Buffer>) -> Result<Self> {
        let inner =
            portcullis_policy::PolicyEngine::new(&wasm, bytes(&data_json)).map_err(to_napi)?;
        Ok(Self { inner })
    }

    /// Evaluates the input JSON text; returns the result-set JSON text (`[]` = undefined).
    #[napi]
    pub fn evaluate(&mut self, input_json: Either<String, Buffer>) -> Result<String> {
        self.inner.evaluate(bytes(&input_json)).map_err(to_napi)
    }

    /// Replaces the data document.
    #[napi]
    pub fn set_data(&mut self, data_json: Either<String, Buffer>) -> Result<()> {
        self.inner.set_data(bytes(&data_json)).map_err(to_napi)
    }
}
