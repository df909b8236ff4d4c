//! napi binding of the Rust policy engine: a `PolicyEngine` class over portcullis-policy, and
//! `policyProject` (the bundle's input projection applied to JSON text). Evaluation is
//! synchronous and short (microseconds), so it runs on the JS thread; the input string is
//! encoded by V8 straight into the module's linear memory and the result string is made from the
//! bytes the module left there, so neither side makes an intermediate Rust copy.

use napi::bindgen_prelude::{Buffer, Either, FromNapiValue, ToNapiValue};
use napi::{sys, Error, Result, Status};
use napi_derive::napi;
use portcullis_policy::{PolicyEngine, Projection};
use std::ptr;

fn to_napi(e: portcullis_policy::PolicyError) -> Error {
    Error::from_reason(e.to_string())
}

fn bytes(v: &Either<String, Buffer>) -> &[u8] {
    match v {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), what.to_string()))
    }
}

/// An argument kept as its JS handle (a string or a Uint8Array), read during the call.
pub struct InputText {
    env: sys::napi_env,
    value: sys::napi_value,
}

impl FromNapiValue for InputText {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(InputText { env, value })
    }
}

/// A JS value made during the call, returned as it is.
pub struct JsValue(sys::napi_value);

impl ToNapiValue for JsValue {
    unsafe fn to_napi_value(_env: sys::napi_env, v: Self) -> Result<sys::napi_value> {
        Ok(v.0)
    }
}

impl InputText {
    /// Writes the text into the engine's input slot; returns its length in bytes.
    fn write_into(&self, engine: &mut PolicyEngine) -> Result<usize> {
        let (env, value) = (self.env, self.value);
        let mut ty = 0;
        // SAFETY: env and value are the live handles of this call's argument.
        check(unsafe { sys::napi_typeof(env, value, &mut ty) }, "typeof")?;
        if ty == sys::ValueType::napi_string {
            // UTF-16 length is O(1); UTF-8 needs at most 3 bytes per unit (+1 for the NUL napi
            // writes). Only when that bound does not fit is the exact length computed.
            let mut units = 0;
            // SAFETY: a null buffer asks for the length only.
            check(
                unsafe {
                    sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut units)
                },
                "string length",
            )?;
            let want = units.saturating_mul(3).saturating_add(1);
            let slot = match engine.input_slot(want) {
                Ok(slot) => slot,
                Err(_) => {
                    let mut exact = 0;
                    // SAFETY: as above, length only.
                    check(
                        unsafe {
                            sys::napi_get_value_string_utf8(
                                env,
                                value,
                                ptr::null_mut(),
                                0,
                                &mut exact,
                            )
                        },
                        "string length",
                    )?;
                    engine.input_slot(exact + 1).map_err(to_napi)?
                }
            };
            let mut written = 0;
            // SAFETY: the slot is `slot.len()` writable bytes of linear memory; napi writes at
            // most that many (text plus NUL) and reports the text's length.
            check(
                unsafe {
                    sys::napi_get_value_string_utf8(
                        env,
                        value,
                        slot.as_mut_ptr().cast(),
                        slot.len(),
                        &mut written,
                    )
                },
                "string contents",
            )?;
            return Ok(written);
        }
        let mut is_typed = false;
        // SAFETY: live handles, out-parameter on the stack.
        check(
            unsafe { sys::napi_is_typedarray(env, value, &mut is_typed) },
            "is typed array",
        )?;
        if is_typed {
            let (mut kind, mut len, mut data) = (0, 0, ptr::null_mut());
            let (mut buffer, mut offset) = (ptr::null_mut(), 0);
            // SAFETY: live typed array handle; out-parameters on the stack.
            check(
                unsafe {
                    sys::napi_get_typedarray_info(
                        env,
                        value,
                        &mut kind,
                        &mut len,
                        &mut data,
                        &mut buffer,
                        &mut offset,
                    )
                },
                "typed array",
            )?;
            if kind == sys::TypedarrayType::uint8_array {
                let src: &[u8] = if len == 0 {
                    &[]
                } else {
                    // SAFETY: napi reports `len` bytes at `data` (already offset), alive for the call.
                    unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }
                };
                engine
                    .input_slot(len)
                    .map_err(to_napi)?
                    .copy_from_slice(src);
                return Ok(len);
            }
        }
        Err(Error::new(
            Status::InvalidArg,
            "input must be a string or a Uint8Array of JSON text".to_string(),
        ))
    }
}

/// One instantiated `policy.wasm` with its data document loaded.
#[napi(js_name = "PolicyEngine")]
pub struct JsPolicyEngine {
    inner: PolicyEngine,
}

#[napi]
impl JsPolicyEngine {
    /// Loads `wasm` and `data_json`; throws when the module is not a usable OPA policy.
    #[napi(constructor)]
    pub fn new(wasm: Buffer, data_json: Either<String, Buffer>) -> Result<Self> {
        let inner = PolicyEngine::new(&wasm, bytes(&data_json)).map_err(to_napi)?;
        Ok(Self { inner })
    }

    /// Evaluates the input JSON text (string or UTF-8 bytes); returns the result-set JSON text
    /// (`[]` = undefined). The input is projected first when a projection is set.
    #[napi(ts_return_type = "string")]
    pub fn evaluate(&mut self, input_json: InputText) -> Result<JsValue> {
        let len = input_json.write_into(&mut self.inner)?;
        let env = input_json.env;
        let text = self.inner.evaluate_slot(len).map_err(to_napi)?;
        let mut out = ptr::null_mut();
        // SAFETY: `text` is valid for the call (it lives in linear memory until the next
        // evaluation); napi copies it into a new JS string.
        check(
            unsafe {
                sys::napi_create_string_utf8(
                    env,
                    text.as_ptr().cast(),
                    text.len() as isize,
                    &mut out,
                )
            },
            "result string",
        )?;
        Ok(JsValue(out))
    }

    /// Replaces the data document.
    #[napi]
    pub fn set_data(&mut self, data_json: Either<String, Buffer>) -> Result<()> {
        self.inner.set_data(bytes(&data_json)).map_err(to_napi)
    }

    /// Projects every later input by the declaration (`{keep, by_action}` JSON text, as in a
    /// bundle's `metadata.portcullis.input_projection`); null or undefined: the whole input.
    #[napi]
    pub fn set_projection(&mut self, declaration_json: Option<String>) -> Result<()> {
        let projection = declaration_json
            .map(|d| Projection::from_declaration(d.as_bytes()))
            .transpose()
            .map_err(to_napi)?;
        self.inner.set_projection(projection);
        Ok(())
    }
}

/// The input JSON text projected by a declaration (`{keep, by_action}` JSON text): the Rust
/// twin of the TypeScript projection, for parity tests. Throws on a bad declaration or input.
#[napi]
pub fn policy_project(declaration_json: String, input_json: String) -> Result<String> {
    let projection = Projection::from_declaration(declaration_json.as_bytes()).map_err(to_napi)?;
    let out = projection.project(input_json.as_bytes()).map_err(to_napi)?;
    String::from_utf8(out).map_err(|e| Error::from_reason(e.to_string()))
}
