//! Workspace search binding: a handle that runs one search on the libuv thread pool and can be
//! cancelled from JS (an AbortSignal listener calls `cancel`). Request and result cross as JSON.

use napi::bindgen_prelude::{AsyncTask, Env, Task};
use napi_derive::napi;
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
