//! Pure Rust core of Portcullis. No napi types live here: the `portcullis-napi` crate converts
//! arguments, calls into this crate and converts results back.

pub mod canonical;
pub mod redact;
pub mod sanitizer;
pub mod stringified;
pub mod vector;
pub mod workspace;

pub mod contracts;

/// Version of the native core, reported by the loader so a stale addon is easy to spot.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_is_set() {
        assert!(!super::version().is_empty());
    }
}
