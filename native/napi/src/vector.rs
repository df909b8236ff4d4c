//! Vector index binding: a class holding the core index behind a lock, so queries can also run
//! on the libuv thread pool. Hits cross as JSON text.

use napi::bindgen_prelude::{AsyncTask, Buffer, Env, Float32Array, Task};
use napi_derive::napi;
use portcullis_core::vector::{Metric, VectorIndex};
use std::sync::{Arc, RwLock};

fn range(message: String) -> napi::Error {
    napi::Error::new(napi::Status::InvalidArg, message)
}

fn poisoned() -> napi::Error {
    napi::Error::from_reason("vector index lock poisoned")
}

fn hits_json(index: &VectorIndex, vector: &[f32], embedding: &str, k: u32) -> napi::Result<String> {
    let hits = index.query(vector, embedding, k as usize).map_err(range)?;
    serde_json::to_string(&hits).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// The core vector index, shared with off-thread queries.
#[napi]
pub struct NativeVectorIndex {
    inner: Arc<RwLock<VectorIndex>>,
}

#[napi]
impl NativeVectorIndex {
    #[napi(constructor)]
    pub fn new(dims: u32, metric: String, embedding: String) -> napi::Result<Self> {
        let metric = Metric::parse(&metric).map_err(range)?;
        let index = VectorIndex::new(dims as usize, metric, &embedding).map_err(range)?;
        Ok(NativeVectorIndex {
            inner: Arc::new(RwLock::new(index)),
        })
    }

    /// Parses a PCVX v1 file's bytes.
    #[napi(factory)]
    pub fn from_buffer(buf: Buffer) -> napi::Result<Self> {
        let index = VectorIndex::from_bytes(&buf).map_err(range)?;
        Ok(NativeVectorIndex {
            inner: Arc::new(RwLock::new(index)),
        })
    }

    /// `[dims, metric, embedding, size]`.
    #[napi]
    pub fn info(&self) -> napi::Result<(u32, String, String, u32)> {
        let ix = self.inner.read().map_err(|_| poisoned())?;
        Ok((
            ix.dims() as u32,
            ix.metric().as_str().to_string(),
            ix.embedding().to_string(),
            ix.len() as u32,
        ))
    }

    #[napi]
    pub fn upsert(
        &self,
        id: String,
        vector: Float32Array,
        embedding: String,
        meta: Option<String>,
    ) -> napi::Result<()> {
        let mut ix = self.inner.write().map_err(|_| poisoned())?;
        ix.upsert(&id, &vector, &embedding, meta).map_err(range)
    }

    #[napi]
    pub fn delete(&self, id: String) -> napi::Result<bool> {
        Ok(self.inner.write().map_err(|_| poisoned())?.delete(&id))
    }

    #[napi]
    pub fn meta(&self, id: String) -> napi::Result<Option<String>> {
        let ix = self.inner.read().map_err(|_| poisoned())?;
        Ok(ix.meta(&id).map(str::to_string))
    }

    /// Top-k hits as JSON text `[{id, score, meta?}]`.
    #[napi]
    pub fn query(&self, vector: Float32Array, embedding: String, k: u32) -> napi::Result<String> {
        let ix = self.inner.read().map_err(|_| poisoned())?;
        hits_json(&ix, &vector, &embedding, k)
    }

    /// `query` on the libuv thread pool.
    #[napi]
    pub fn query_async(
        &self,
        vector: Float32Array,
        embedding: String,
        k: u32,
    ) -> AsyncTask<VectorQueryTask> {
        AsyncTask::new(VectorQueryTask {
            index: Arc::clone(&self.inner),
            vector: vector.to_vec(),
            embedding,
            k,
        })
    }

    #[napi]
    pub fn to_buffer(&self) -> napi::Result<Buffer> {
        Ok(self.inner.read().map_err(|_| poisoned())?.to_bytes().into())
    }
}

/// What an off-thread query works on.
pub struct VectorQueryTask {
    index: Arc<RwLock<VectorIndex>>,
    vector: Vec<f32>,
    embedding: String,
    k: u32,
}

impl Task for VectorQueryTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let ix = self.index.read().map_err(|_| poisoned())?;
        hits_json(&ix, &self.vector, &self.embedding, self.k)
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}
