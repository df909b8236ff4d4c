//! Reads an OPA bundle (`.tar.gz` with `.manifest`, `policy.wasm`, `data.json`) into memory, with
//! bounds on entry count and size so a hostile archive cannot exhaust memory.

use crate::engine::PolicyError;
use crate::projection::Projection;
use std::io::Read;
use std::path::Path;

/// Most entries and bytes per entry accepted from a bundle archive.
pub const MAX_ENTRIES: usize = 1024;
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// The parts of a bundle the engines use.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub wasm: Vec<u8>,
    /// The data document as JSON text (`{}` when the bundle has none).
    pub data: Vec<u8>,
    pub revision: String,
    /// The input projection the manifest declares (`metadata.portcullis.input_projection`).
    pub projection: Option<Projection>,
}

fn bundle_err(e: impl std::fmt::Display) -> PolicyError {
    PolicyError::Bundle(e.to_string())
}

/// Parses a gzipped bundle archive held in memory.
pub fn read_bundle_bytes(bytes: &[u8]) -> Result<Bundle, PolicyError> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let (mut wasm, mut data, mut manifest) = (None, None, None);
    for (n, entry) in archive.entries().map_err(bundle_err)?.enumerate() {
        if n >= MAX_ENTRIES {
            return Err(bundle_err("too many entries"));
        }
        let mut entry = entry.map_err(bundle_err)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        if entry.size() > MAX_ENTRY_BYTES {
            return Err(bundle_err("entry too large"));
        }
        let name = entry
            .path()
            .map_err(bundle_err)?
            .to_string_lossy()
            .trim_start_matches('/')
            .to_string();
        let slot = match name.as_str() {
            "policy.wasm" => &mut wasm,
            "data.json" => &mut data,
            ".manifest" => &mut manifest,
            _ => continue,
        };
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).map_err(bundle_err)?;
        *slot = Some(buf);
    }
    let wasm = wasm.ok_or_else(|| bundle_err("no policy.wasm"))?;
    let (revision, projection) = match manifest {
        Some(m) => {
            let v: serde_json::Value = serde_json::from_slice(&m).map_err(bundle_err)?;
            let revision = v
                .get("revision")
                .and_then(|r| r.as_str())
                .unwrap_or_default();
            (revision.to_string(), Projection::from_manifest(&v)?)
        }
        None => (String::new(), None),
    };
    Ok(Bundle {
        wasm,
        data: data.unwrap_or_else(|| b"{}".to_vec()),
        revision,
        projection,
    })
}

/// Reads a bundle archive from disk.
pub fn read_bundle(path: &Path) -> Result<Bundle, PolicyError> {
    let bytes = std::fs::read(path).map_err(|e| bundle_err(format!("{}: {e}", path.display())))?;
    read_bundle_bytes(&bytes)
}
