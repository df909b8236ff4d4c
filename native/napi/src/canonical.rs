//! Canonical JSON and sha256 bindings.

use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;
use portcullis_core::canonical;

fn to_napi(e: canonical::CanonicalError) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, e.0)
}

/// RFC 8785 canonical text of a JSON document given as text.
#[napi]
pub fn canonicalize_json(text: String) -> napi::Result<String> {
    canonical::canonicalize_str(&text).map_err(to_napi)
}

/// sha256 hex of the canonical text of a JSON document given as text.
#[napi]
pub fn digest_json(text: String) -> napi::Result<String> {
    canonical::digest_str(&text).map_err(to_napi)
}

/// Canonical text of `JSON.stringify` output (tokens copied, members sorted; no value tree).
#[napi]
pub fn canonicalize_stringified(text: String) -> napi::Result<String> {
    portcullis_core::stringified::canonicalize_stringified(&text).map_err(to_napi)
}

/// sha256 hex of the canonical text of `JSON.stringify` output.
#[napi]
pub fn digest_stringified(text: String) -> napi::Result<String> {
    portcullis_core::stringified::digest_stringified(&text).map_err(to_napi)
}

/// Lower-case hex sha256 of a string (UTF-8) or bytes.
#[napi]
pub fn sha256_hex(data: Either<String, Buffer>) -> String {
    match data {
        Either::A(s) => canonical::sha256_hex(s.as_bytes()),
        Either::B(b) => canonical::sha256_hex(&b),
    }
}
