//! Synchronous host for OPA's WebAssembly policy ABI, evaluating the same `policy.wasm` the
//! TypeScript engine runs.
