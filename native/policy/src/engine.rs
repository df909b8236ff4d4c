//! The OPA wasm ABI host on wasmtime (Cranelift, compiled ahead of the first evaluation):
//! instantiates a `policy.wasm`, loads data once, and runs whole evaluations through `opa_eval`
//! (ABI 1.2+) on one reused instance, returning the module's own JSON text so no number or key
//! order is re-interpreted on the way out. The input is written (and, when the bundle declares a
//! projection, projected) in place in linear memory. Features are minimal: no backtraces, no
//! caches, no async. Memory accesses are bounds-checked by guard pages and wasmtime's signal
//! handler, which chains to the handler installed before it (V8's, inside Node) for faults that
//! are not in wasm code it runs.

use crate::projection::Projection;
use std::fmt;
use wasmtime::{
    Caller, Config, Engine, Error as WasmError, ExternType, Instance, Linker, Memory, MemoryType,
    Module, Store, TypedFunc, Val,
};

/// The entrypoint of the default bundle; other bundles with a single entrypoint also work.
pub const DEFAULT_ENTRYPOINT: &str = "portcullis/gateway/decision";

/// Largest linear memory a policy may use, in 64 KiB pages (64 MiB). Same bound as the TS host.
pub const MAX_MEMORY_PAGES: u32 = 1024;

const PAGE: usize = 64 * 1024;

/// Why the engine could not load or evaluate; every variant fails closed upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// The module is not valid wasm or not an OPA policy of a supported ABI.
    Load(String),
    /// The policy needs host builtins that are not on the (empty) allowlist.
    Builtins(Vec<String>),
    /// The data document is not valid JSON.
    Data(String),
    /// The evaluation trapped, aborted, or ran out of memory.
    Eval(String),
    /// The bundle archive is unreadable or incomplete.
    Bundle(String),
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Load(m) => write!(f, "policy load failed: {m}"),
            PolicyError::Builtins(b) => write!(
                f,
                "policy needs host builtins not allowed: {}",
                b.join(", ")
            ),
            PolicyError::Data(m) => write!(f, "policy data rejected: {m}"),
            PolicyError::Eval(m) => write!(f, "policy evaluation failed: {m}"),
            PolicyError::Bundle(m) => write!(f, "policy bundle unreadable: {m}"),
        }
    }
}

impl std::error::Error for PolicyError {}

/// `opa_eval(reserved, entrypoint, data, input, input_len, heap_ptr, format) -> result`.
type OpaEval = TypedFunc<(i32, i32, i32, i32, i32, i32, i32), i32>;

struct Exports {
    malloc: TypedFunc<i32, i32>,
    json_parse: TypedFunc<(i32, i32), i32>,
    json_dump: TypedFunc<i32, i32>,
    heap_ptr_get: TypedFunc<(), i32>,
    heap_ptr_set: TypedFunc<i32, ()>,
    eval: OpaEval,
}

/// One instantiated policy with its data loaded. Not thread-safe: one evaluation at a time.
pub struct PolicyEngine {
    store: Store<()>,
    memory: Memory,
    fns: Exports,
    entrypoint: i32,
    base_heap_ptr: i32,
    data_addr: i32,
    data_heap_ptr: i32,
    projection: Option<Projection>,
}

// `{:#}` renders the whole cause chain: a host function's error (e.g. `opa_abort: …`) is the
// root cause of the trap wasmtime reports.
fn load_err(e: impl fmt::Display) -> PolicyError {
    PolicyError::Load(format!("{e:#}"))
}

fn eval_err(e: impl fmt::Display) -> PolicyError {
    PolicyError::Eval(format!("{e:#}"))
}

/// Reads the NUL-terminated string at `addr` from linear memory.
fn read_cstr(data: &[u8], addr: i32) -> Result<&[u8], PolicyError> {
    let start = usize::try_from(addr).map_err(|_| eval_err("negative address"))?;
    let tail = data
        .get(start..)
        .ok_or_else(|| eval_err("address out of bounds"))?;
    let len = memchr::memchr(0, tail).ok_or_else(|| eval_err("unterminated string"))?;
    Ok(&tail[..len])
}

impl PolicyEngine {
    /// Instantiates `wasm` and loads `data_json` as the policy's data document.
    pub fn new(wasm: &[u8], data_json: &[u8]) -> Result<Self, PolicyError> {
        let mut config = Config::new();
        config.wasm_backtrace_max_frames(None);
        // Out-of-bounds accesses fault into guard pages instead of being checked in the code
        // (wasmtime's default on 64-bit Unix; spelled out because the speed depends on it: 20.4
        // µs per decision with explicit checks, 17.1 µs without). The memory is reserved whole
        // (4 GiB of address space, `MAX_MEMORY_PAGES` usable) so its base never moves.
        config.signals_based_traps(true);
        let engine = Engine::new(&config).map_err(load_err)?;
        let module = Module::new(&engine, wasm).map_err(load_err)?;
        let min_pages = module
            .imports()
            .find_map(|i| match (i.module(), i.name(), i.ty()) {
                ("env", "memory", ExternType::Memory(t)) => Some(t.minimum()),
                _ => None,
            })
            .ok_or_else(|| load_err("module imports no env.memory: not an OPA policy"))?;
        let min_pages = u32::try_from(min_pages).map_err(load_err)?;
        if min_pages > MAX_MEMORY_PAGES {
            return Err(load_err("module needs more memory than allowed"));
        }
        let mut store = Store::new(&engine, ());
        let memory = Memory::new(
            &mut store,
            MemoryType::new(min_pages, Some(MAX_MEMORY_PAGES)),
        )
        .map_err(load_err)?;
        let mut linker = <Linker<()>>::new(&engine);
        linker
            .define(&store, "env", "memory", memory)
            .map_err(load_err)?;
        linker
            .func_wrap(
                "env",
                "opa_abort",
                |mut caller: Caller<'_, ()>, addr: i32| -> Result<(), WasmError> {
                    let mem = caller.get_export("memory").and_then(|e| e.into_memory());
                    let msg = mem
                        .and_then(|m| {
                            read_cstr(m.data(&caller), addr)
                                .ok()
                                .map(|b| String::from_utf8_lossy(b).into_owned())
                        })
                        .unwrap_or_default();
                    Err(WasmError::msg(format!("opa_abort: {msg}")))
                },
            )
            .map_err(load_err)?;
        fn refuse(id: i32) -> Result<i32, WasmError> {
            Err(WasmError::msg(format!("host builtin #{id} is not allowed")))
        }
        linker
            .func_wrap("env", "opa_builtin0", |id: i32, _: i32| refuse(id))
            .map_err(load_err)?;
        linker
            .func_wrap("env", "opa_builtin1", |id: i32, _: i32, _: i32| refuse(id))
            .map_err(load_err)?;
        linker
            .func_wrap("env", "opa_builtin2", |id: i32, _: i32, _: i32, _: i32| {
                refuse(id)
            })
            .map_err(load_err)?;
        linker
            .func_wrap(
                "env",
                "opa_builtin3",
                |id: i32, _: i32, _: i32, _: i32, _: i32| refuse(id),
            )
            .map_err(load_err)?;
        linker
            .func_wrap(
                "env",
                "opa_builtin4",
                |id: i32, _: i32, _: i32, _: i32, _: i32, _: i32| refuse(id),
            )
            .map_err(load_err)?;
        linker
            .func_wrap("env", "opa_println", |_: i32| -> Result<(), WasmError> {
                Ok(())
            })
            .map_err(load_err)?;
        let instance = linker.instantiate(&mut store, &module).map_err(load_err)?;

        let mut abi = |name: &str| -> Option<i32> {
            instance
                .get_global(&mut store, name)
                .and_then(|g| match g.get(&mut store) {
                    Val::I32(v) => Some(v),
                    _ => None,
                })
        };
        if abi("opa_wasm_abi_version") != Some(1)
            || abi("opa_wasm_abi_minor_version").unwrap_or(0) < 2
        {
            return Err(load_err("unsupported OPA wasm ABI (need 1.2 or later)"));
        }
        let fns = Exports {
            malloc: typed(&instance, &mut store, "opa_malloc")?,
            json_parse: typed(&instance, &mut store, "opa_json_parse")?,
            json_dump: typed(&instance, &mut store, "opa_json_dump")?,
            heap_ptr_get: typed(&instance, &mut store, "opa_heap_ptr_get")?,
            heap_ptr_set: typed(&instance, &mut store, "opa_heap_ptr_set")?,
            eval: typed(&instance, &mut store, "opa_eval")?,
        };
        let builtins_fn: TypedFunc<(), i32> = typed(&instance, &mut store, "builtins")?;
        let entrypoints_fn: TypedFunc<(), i32> = typed(&instance, &mut store, "entrypoints")?;
        let mut this = PolicyEngine {
            store,
            memory,
            fns,
            entrypoint: 0,
            base_heap_ptr: 0,
            data_addr: 0,
            data_heap_ptr: 0,
            projection: None,
        };
        let builtins = this.dump_object(builtins_fn)?;
        if !builtins.is_empty() {
            return Err(PolicyError::Builtins(
                builtins.into_iter().map(|(k, _)| k).collect(),
            ));
        }
        let entrypoints = this.dump_object(entrypoints_fn)?;
        this.entrypoint = match entrypoints.iter().find(|(k, _)| k == DEFAULT_ENTRYPOINT) {
            Some((_, id)) => *id,
            None if entrypoints.len() == 1 => entrypoints[0].1,
            None => return Err(load_err(format!("no entrypoint {DEFAULT_ENTRYPOINT}"))),
        };
        this.base_heap_ptr = this
            .fns
            .heap_ptr_get
            .call(&mut this.store, ())
            .map_err(load_err)?;
        this.set_data(data_json)?;
        Ok(this)
    }

    /// Replaces the data document (the heap above the module's own base is reused).
    pub fn set_data(&mut self, data_json: &[u8]) -> Result<(), PolicyError> {
        self.fns
            .heap_ptr_set
            .call(&mut self.store, self.base_heap_ptr)
            .map_err(eval_err)?;
        let len =
            i32::try_from(data_json.len()).map_err(|_| PolicyError::Data("too large".into()))?;
        let raw = self
            .fns
            .malloc
            .call(&mut self.store, len)
            .map_err(|e| PolicyError::Data(format!("{e:#}")))?;
        self.write(raw, data_json)?;
        let addr = self
            .fns
            .json_parse
            .call(&mut self.store, (raw, len))
            .map_err(|e| PolicyError::Data(format!("{e:#}")))?;
        if addr == 0 {
            return Err(PolicyError::Data("data is not valid JSON".into()));
        }
        self.data_addr = addr;
        self.data_heap_ptr = self
            .fns
            .heap_ptr_get
            .call(&mut self.store, ())
            .map_err(eval_err)?;
        Ok(())
    }

    /// Projects every input by `projection` before evaluating it (`None`: the whole input).
    pub fn set_projection(&mut self, projection: Option<Projection>) {
        self.projection = projection;
    }

    /// The projection in use, if any.
    pub fn projection(&self) -> Option<&Projection> {
        self.projection.as_ref()
    }

    /// Evaluates the entrypoint against `input_json` (JSON text) and returns the result set as
    /// the module's JSON text, e.g. `[{"result":{...}}]`; `[]` means undefined.
    pub fn evaluate(&mut self, input_json: &[u8]) -> Result<String, PolicyError> {
        let text = self.evaluate_bytes(input_json)?;
        String::from_utf8(text.to_vec()).map_err(eval_err)
    }

    /// As `evaluate`, returning the result-set text where the module left it (valid until the
    /// next call), so a caller can convert it once.
    pub fn evaluate_bytes(&mut self, input_json: &[u8]) -> Result<&[u8], PolicyError> {
        let slot = self.input_slot(input_json.len())?;
        slot.copy_from_slice(input_json);
        self.evaluate_slot(input_json.len())
    }

    /// The `len` bytes of linear memory where the next input goes (memory grows when needed), for
    /// a caller that writes the input text itself; then `evaluate_slot(len)`.
    pub fn input_slot(&mut self, len: usize) -> Result<&mut [u8], PolicyError> {
        let at = usize::try_from(self.data_heap_ptr).map_err(eval_err)?;
        let end = at
            .checked_add(len)
            .filter(|&e| i32::try_from(e).is_ok())
            .ok_or_else(|| eval_err("memory limit exceeded"))?;
        let have = self.memory.data_size(&self.store);
        if end > have {
            let pages = (end - have).div_ceil(PAGE) as u64;
            self.memory
                .grow(&mut self.store, pages)
                .map_err(|_| eval_err("memory limit exceeded"))?;
        }
        Ok(&mut self.memory.data_mut(&mut self.store)[at..end])
    }

    /// Evaluates the input text written into the first `len` bytes of `input_slot`.
    pub fn evaluate_slot(&mut self, len: usize) -> Result<&[u8], PolicyError> {
        let at = usize::try_from(self.data_heap_ptr).map_err(eval_err)?;
        let data = self.memory.data_mut(&mut self.store);
        let slot = data
            .get_mut(at..at.saturating_add(len))
            .ok_or_else(|| eval_err("input slot out of bounds"))?;
        let len = match &self.projection {
            Some(p) => p.project_in_place(slot)?,
            None => len,
        };
        let len = i32::try_from(len).map_err(|_| eval_err("input too large"))?;
        let input_addr = self.data_heap_ptr;
        let args = (
            0,
            self.entrypoint,
            self.data_addr,
            input_addr,
            len,
            input_addr + len,
            0,
        );
        let result = self
            .fns
            .eval
            .call(&mut self.store, args)
            .map_err(eval_err)?;
        read_cstr(self.memory.data(&self.store), result)
    }

    fn write(&mut self, addr: i32, bytes: &[u8]) -> Result<(), PolicyError> {
        let at = usize::try_from(addr).map_err(eval_err)?;
        self.memory
            .write(&mut self.store, at, bytes)
            .map_err(|_| eval_err("write out of bounds"))
    }

    /// Dumps a `{name: id}` object the module returns (builtins, entrypoints).
    fn dump_object(&mut self, f: TypedFunc<(), i32>) -> Result<Vec<(String, i32)>, PolicyError> {
        let value = f.call(&mut self.store, ()).map_err(load_err)?;
        let text_addr = self
            .fns
            .json_dump
            .call(&mut self.store, value)
            .map_err(load_err)?;
        let text = read_cstr(self.memory.data(&self.store), text_addr)?;
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(text).map_err(load_err)?;
        map.into_iter()
            .map(|(k, v)| {
                let id = v
                    .as_i64()
                    .and_then(|n| i32::try_from(n).ok())
                    .ok_or_else(|| load_err("bad id"))?;
                Ok((k, id))
            })
            .collect()
    }
}

fn typed<P: wasmtime::WasmParams, R: wasmtime::WasmResults>(
    instance: &Instance,
    store: &mut Store<()>,
    name: &str,
) -> Result<TypedFunc<P, R>, PolicyError> {
    instance
        .get_typed_func::<P, R>(store, name)
        .map_err(|e| load_err(format!("export {name}: {e}")))
}
