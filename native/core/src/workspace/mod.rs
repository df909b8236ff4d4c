//! Workspace file search, step for step the same as `native/fallback/search.ts` (list and read
//! are in `files`): walk the start directory in byte order of names, skip `.git`, symlinks and
//! what the .gitignore files from the root down exclude, scan regular files up to the size
//! limit that are not binary (a NUL in the first 8 KiB), and report the first match of each line
//! with a UTF-16 column. Path checks (roots, `..`, symlinks, look-alikes) happen before, in
//! `Workspace.resolvePath`; requests carry canonical paths only. The pattern arrives in Rust
//! syntax, translated from the ECMAScript source by `native/search-pattern.ts`.

pub mod files;
pub mod gitignore;

use gitignore::IgnoreRules;
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

const BINARY_SNIFF: usize = 8192;
const MAX_LINE_TEXT: usize = 500;

/// A resolved search request.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    pub root: PathBuf,
    pub start: PathBuf,
    pub prefix_root: bool,
    /// Rust regex syntax.
    pub pattern: String,
    pub max_results: usize,
    pub max_files: usize,
    pub max_file_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchMatch {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResult {
    pub matches: Vec<SearchMatch>,
    pub files_scanned: usize,
    pub truncated: bool,
    pub cancelled: bool,
}

/// Compiles a search pattern (Rust syntax); the error says why it cannot run here.
pub fn compile_pattern(pattern: &str) -> Result<Regex, String> {
    RegexBuilder::new(pattern)
        .size_limit(32 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// The line cut at 500 UTF-16 units, never inside a surrogate pair.
fn line_text(line: &str) -> String {
    let mut units = 0;
    for (at, c) in line.char_indices() {
        units += c.len_utf16();
        if units > MAX_LINE_TEXT {
            return line[..at].to_string();
        }
    }
    line.to_string()
}

fn rel_slash(base: &Path, full: &Path) -> String {
    let rel = full.strip_prefix(base).unwrap_or(full);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// How a path is shown: relative to its root with '/', `.` for the root itself, or prefixed
/// with the root when the workspace has several.
fn display_path(root: &Path, prefix_root: bool, full: &Path) -> String {
    let rel = rel_slash(root, full);
    if prefix_root {
        let root = root.to_string_lossy();
        if rel.is_empty() {
            root.into_owned()
        } else {
            format!("{root}/{rel}")
        }
    } else if rel.is_empty() {
        ".".to_string()
    } else {
        rel
    }
}

fn read_rules(dir: &Path) -> Option<IgnoreRules> {
    let bytes = std::fs::read(dir.join(".gitignore")).ok()?;
    Some(IgnoreRules::parse(&String::from_utf8_lossy(&bytes)))
}

struct Search<'a> {
    req: &'a SearchRequest,
    re: Regex,
    cancel: &'a AtomicBool,
    stack: Vec<(PathBuf, IgnoreRules)>,
    out: SearchResult,
}

impl Search<'_> {
    fn display(&self, full: &Path) -> String {
        display_path(&self.req.root, self.req.prefix_root, full)
    }

    fn ignored(&self, full: &Path, is_dir: bool) -> bool {
        let mut verdict = false;
        for (dir, rules) in &self.stack {
            if let Some(m) = rules.matches(&rel_slash(dir, full), is_dir) {
                verdict = m;
            }
        }
        verdict
    }

    fn scan_file(&mut self, full: &Path, size: u64) {
        self.out.files_scanned += 1;
        if size > self.req.max_file_bytes {
            return;
        }
        let Ok(buf) = std::fs::read(full) else {
            return;
        };
        if memchr::memchr(0, &buf[..buf.len().min(BINARY_SNIFF)]).is_some() {
            return;
        }
        let text = String::from_utf8_lossy(&buf);
        let mut display = None;
        for (i, line) in text.split('\n').enumerate() {
            if self.out.matches.len() >= self.req.max_results {
                break;
            }
            if let Some(m) = self.re.find(line) {
                let path = display.get_or_insert_with(|| self.display(full)).clone();
                self.out.matches.push(SearchMatch {
                    path,
                    line: i + 1,
                    column: line[..m.start()].encode_utf16().count() + 1,
                    text: line_text(line),
                });
            }
        }
        if self.out.matches.len() >= self.req.max_results {
            self.out.truncated = true;
        }
    }

    fn walk(&mut self, dir: &Path) {
        let pushed = match read_rules(dir) {
            Some(rules) => {
                self.stack.push((dir.to_path_buf(), rules));
                true
            }
            None => false,
        };
        let mut names: Vec<std::ffi::OsString> = match std::fs::read_dir(dir) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect(),
            Err(_) => Vec::new(),
        };
        names.sort_unstable_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
        for name in names {
            if self.out.truncated {
                break;
            }
            if self.cancel.load(Ordering::Relaxed) {
                self.out.cancelled = true;
                break;
            }
            if name == ".git" {
                continue;
            }
            let full = dir.join(&name);
            let Ok(meta) = std::fs::symlink_metadata(&full) else {
                continue;
            };
            let ft = meta.file_type();
            if ft.is_dir() {
                if !self.ignored(&full, true) {
                    self.walk(&full);
                }
            } else if ft.is_file() && !self.ignored(&full, false) {
                if self.out.files_scanned >= self.req.max_files {
                    self.out.truncated = true;
                    break;
                }
                self.scan_file(&full, meta.len());
            }
            if self.out.cancelled {
                break;
            }
        }
        if pushed {
            self.stack.pop();
        }
    }
}

/// Runs a search; `cancel` is polled between directory entries.
pub fn search(req: &SearchRequest, cancel: &AtomicBool) -> Result<SearchResult, String> {
    let mut s = Search {
        req,
        re: compile_pattern(&req.pattern)?,
        cancel,
        stack: Vec::new(),
        out: SearchResult {
            matches: Vec::new(),
            files_scanned: 0,
            truncated: false,
            cancelled: false,
        },
    };
    match std::fs::symlink_metadata(&req.start) {
        Ok(meta) if meta.is_dir() => {
            // The .gitignore files of the directories above the start apply too.
            let mut dir = req.root.clone();
            if let Ok(rel) = req.start.strip_prefix(&req.root) {
                for part in rel.components() {
                    if let Some(rules) = read_rules(&dir) {
                        s.stack.push((dir.clone(), rules));
                    }
                    dir.push(part);
                }
            }
            s.walk(&req.start);
        }
        Ok(meta) if meta.is_file() => s.scan_file(&req.start, meta.len()),
        _ => {}
    }
    Ok(s.out)
}

#[cfg(test)]
mod tests {
    use super::line_text;

    #[test]
    fn line_text_never_splits_a_pair() {
        let s = format!("{}😀x", "a".repeat(499));
        assert_eq!(line_text(&s), "a".repeat(499));
        let t = "b".repeat(600);
        assert_eq!(line_text(&t).len(), 500);
    }
}
