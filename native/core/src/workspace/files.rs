//! Workspace list and read, step for step the same as `native/fallback/files.ts`. Paths arrive
//! canonical and checked (`Workspace.resolvePath` in TypeScript decides what may be touched);
//! here a directory is listed in byte order of names, depth first, without following symlinks
//! and without descending into `.git`, and a file is read as a byte range with binary
//! detection (a NUL in the first 8 KiB) and lossy UTF-8 decoding.

use super::{display_path, BINARY_SNIFF};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// A resolved list request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRequest {
    /// Canonical root the start lies in.
    pub root: PathBuf,
    /// Canonical directory to list.
    pub start: PathBuf,
    /// Show paths as `<root>/<rel>` (several roots) rather than `<rel>`.
    pub prefix_root: bool,
    /// 1 lists the directory itself; each level more descends one level of subdirectories.
    pub depth: u32,
    /// Most entries returned; more set `truncated`.
    pub limit: usize,
}

/// One entry of a listing (`size` for regular files only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListEntry {
    pub path: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListResult {
    pub entries: Vec<ListEntry>,
    pub truncated: bool,
}

struct Lister<'a> {
    req: &'a ListRequest,
    out: ListResult,
}

impl Lister<'_> {
    fn walk(&mut self, dir: &Path, level: u32) -> std::io::Result<()> {
        let mut names = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<std::io::Result<Vec<_>>>()?;
        names.sort_unstable_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for name in names {
            if self.out.entries.len() >= self.req.limit {
                self.out.truncated = true;
                return Ok(());
            }
            let full = dir.join(&name);
            let meta = std::fs::symlink_metadata(&full)?;
            let ft = meta.file_type();
            let kind = if ft.is_symlink() {
                "symlink"
            } else if ft.is_dir() {
                "dir"
            } else if ft.is_file() {
                "file"
            } else {
                "other"
            };
            self.out.entries.push(ListEntry {
                path: display_path(&self.req.root, self.req.prefix_root, &full),
                kind,
                size: ft.is_file().then_some(meta.len()),
            });
            if kind == "dir" && level < self.req.depth && name != ".git" {
                self.walk(&full, level + 1)?;
                if self.out.truncated {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

/// Lists a directory; any I/O error (permissions, a racing delete) is returned as text.
pub fn list(req: &ListRequest) -> Result<ListResult, String> {
    let mut lister = Lister {
        req,
        out: ListResult {
            entries: Vec::new(),
            truncated: false,
        },
    };
    lister
        .walk(&req.start, 1)
        .map_err(|e| format!("cannot list {}: {e}", req.start.display()))?;
    Ok(lister.out)
}

/// What a read returns; `text` is absent for binary files.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadResult {
    pub size: u64,
    pub bytes: u64,
    pub truncated: bool,
    pub binary: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// Reads up to `want` bytes at `offset` of a regular file (canonical path). The caller caps
/// `want` at the configured maximum.
pub fn read(path: &Path, offset: u64, want: u64) -> Result<ReadResult, String> {
    let fail = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut file = File::open(path).map_err(fail)?;
    let size = file.metadata().map_err(fail)?.len();
    let bytes = want.min(size.saturating_sub(offset));
    let mut sniff = vec![0u8; size.min(BINARY_SNIFF as u64) as usize];
    file.read_exact(&mut sniff).map_err(fail)?;
    let binary = memchr::memchr(0, &sniff).is_some();
    let text = if binary {
        None
    } else if offset == 0 && bytes <= sniff.len() as u64 {
        Some(String::from_utf8_lossy(&sniff[..bytes as usize]).into_owned())
    } else {
        let mut buf = vec![0u8; bytes as usize];
        file.seek(SeekFrom::Start(offset)).map_err(fail)?;
        file.read_exact(&mut buf).map_err(fail)?;
        Some(match String::from_utf8(buf) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    };
    Ok(ReadResult {
        size,
        bytes,
        truncated: offset + bytes < size,
        binary,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("portcullis-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b/.git")).unwrap();
        std::fs::create_dir_all(dir.join("b/c")).unwrap();
        std::fs::write(dir.join("a.txt"), "héllo\n").unwrap();
        std::fs::write(dir.join("b/c/d.bin"), b"x\0y").unwrap();
        std::fs::write(dir.join("b/.git/HEAD"), "ref").unwrap();
        dir
    }

    #[test]
    fn lists_depth_first_in_byte_order_within_limits() {
        let dir = scratch("list");
        let req = |depth, limit| ListRequest {
            root: dir.clone(),
            start: dir.clone(),
            prefix_root: false,
            depth,
            limit,
        };
        let paths = |r: ListResult| r.entries.into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(paths(list(&req(1, 10)).unwrap()), ["a.txt", "b"]);
        assert_eq!(
            paths(list(&req(3, 10)).unwrap()),
            ["a.txt", "b", "b/.git", "b/c", "b/c/d.bin"]
        );
        let cut = list(&req(3, 3)).unwrap();
        assert!(cut.truncated);
        assert_eq!(cut.entries.len(), 3);
        assert_eq!(list(&req(1, 10)).unwrap().entries[0].size, Some(7));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reads_ranges_and_detects_binary() {
        let dir = scratch("read");
        let all = read(&dir.join("a.txt"), 0, 100).unwrap();
        assert_eq!(all.text.as_deref(), Some("héllo\n"));
        assert!(!all.truncated);
        // Starting inside the two-byte 'é' gives a replacement character, as in TypeScript.
        let mid = read(&dir.join("a.txt"), 2, 3).unwrap();
        assert_eq!(mid.text.as_deref(), Some("\u{fffd}ll"));
        assert!(mid.truncated);
        let past = read(&dir.join("a.txt"), 50, 10).unwrap();
        assert_eq!((past.bytes, past.text.as_deref()), (0, Some("")));
        let bin = read(&dir.join("b/c/d.bin"), 0, 10).unwrap();
        assert!(bin.binary && bin.text.is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
