//! napi-rs binding: converts arguments, calls the pure core, converts results. No logic here.
#![deny(clippy::all)]

use napi_derive::napi;

pub mod canonical;
pub mod policy;
pub mod redact;
pub mod sanitizer;
pub mod vector;
pub mod workspace;

/// Version of the native core this addon was built from.
#[napi]
pub fn core_version() -> String {
    portcullis_core::version().to_string()
}
