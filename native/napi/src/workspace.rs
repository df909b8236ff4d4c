//! Workspace bindings: list and read as async tasks, and a handle that runs one search on the
//! libuv thread pool and can be cancelled from JS (an AbortSignal listener calls `cancel`).
//! Requests and results cross as JSON text, except a read's range, which is one small object.

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
use portcullis_core::workspace::files::{self, ListRequest};
use portcullis_core::workspace::{self, SearchRequest};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Why a (Rust syntax) search pattern cannot be compiled, or null when it can.
#[napi]
pub fn search_pattern_error(pattern: String) -> Option<String> {
    workspace::compile_pattern(&pattern).err()
}

/// One cancellable search.
#[napi]
pub struct NativeFileSearch {
    cancel: Arc<AtomicBool>,
}

impl Default for NativeFileSearch {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl NativeFileSearch {
    #[napi(constructor)]
    pub fn new() -> Self {
        NativeFileSearch {
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Stops the search at the next directory entry.
    #[napi]
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Runs the search (request as JSON text) off the JS thread; the result as JSON text.
    #[napi]
    pub fn run(&self, request: String) -> AsyncTask<FileSearchTask> {
        AsyncTask::new(FileSearchTask {
            request,
            cancel: Arc::clone(&self.cancel),
        })
    }
}

/// What an off-thread search works on.
pub struct FileSearchTask {
    request: String,
    cancel: Arc<AtomicBool>,
}

impl Task for FileSearchTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let req: SearchRequest = serde_json::from_str(&self.request).map_err(|e| {
            napi::Error::new(
                napi::Status::InvalidArg,
                format!("invalid search request: {e}"),
            )
        })?;
        let result = workspace::search(&req, &self.cancel)
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e))?;
        serde_json::to_string(&result).map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// What an off-thread listing works on.
pub struct ListTask {
    request: String,
}

impl Task for ListTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let req: ListRequest = serde_json::from_str(&self.request).map_err(|e| {
            napi::Error::new(
                napi::Status::InvalidArg,
                format!("invalid list request: {e}"),
            )
        })?;
        let result = files::list(&req).map_err(napi::Error::from_reason)?;
        serde_json::to_string(&result).map_err(|e| napi::Error::from_reason(e.to_string()))
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

/// Lists a resolved directory (request as JSON text) on the libuv thread pool; JSON text out.
#[napi]
pub fn list_files_async(request: String) -> AsyncTask<ListTask> {
    AsyncTask::new(ListTask { request })
}

/// A byte range of a file as JS sees it (`text` null for binary files).
#[napi(object)]
pub struct FileRange {
    pub size: f64,
    pub bytes: f64,
    pub truncated: bool,
    pub binary: bool,
    pub text: Option<String>,
}

/// What an off-thread read works on.
pub struct ReadTask {
    path: String,
    offset: f64,
    want: f64,
}

/// A JS number that must be a whole number of bytes.
fn byte_count(name: &str, n: f64) -> napi::Result<u64> {
    if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0 {
        Ok(n as u64)
    } else {
        Err(napi::Error::new(
            napi::Status::InvalidArg,
            format!("{name} must be a non-negative integer"),
        ))
    }
}

impl Task for ReadTask {
    type Output = files::ReadResult;
    type JsValue = FileRange;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let offset = byte_count("offset", self.offset)?;
        let want = byte_count("want", self.want)?;
        files::read(std::path::Path::new(&self.path), offset, want)
            .map_err(napi::Error::from_reason)
    }

    fn resolve(&mut self, _env: Env, r: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(FileRange {
            size: r.size as f64,
            bytes: r.bytes as f64,
            truncated: r.truncated,
            binary: r.binary,
            text: r.text,
        })
    }
}

/// Reads `want` bytes at `offset` of a resolved regular file on the libuv thread pool.
#[napi]
pub fn read_file_async(path: String, offset: f64, want: f64) -> AsyncTask<ReadTask> {
    AsyncTask::new(ReadTask { path, offset, want })
}
