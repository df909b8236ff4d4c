/**
 * TypeScript policy engine on `@open-policy-agent/opa-wasm`. The library instantiates the
 * module (bounded memory, data loaded from JSON text); evaluation then calls the ABI's one-shot
 * `opa_eval` directly so the input is encoded straight into wasm memory and the result comes back
 * as the module's own JSON text, with no JSON.parse/stringify round trip in between.
 */
import { type LoadedPolicy, loadPolicy } from "@open-policy-agent/opa-wasm";
import { PortcullisError } from "../gateway/errors.js";
import {
  DEFAULT_ENTRYPOINT,
  HOST_BUILTIN_ALLOWLIST,
  MAX_MEMORY_PAGES,
  type PolicyEvaluator,
} from "./engine.js";

interface OpaExports {
  opa_eval(
    reserved: number,
    ep: number,
    data: number,
    input: number,
    len: number,
    heap: number,
    fmt: number,
  ): number;
  opa_json_dump(addr: number): number;
  builtins(): number;
}

/** The part of WebAssembly.Memory used here (the DOM lib with its WebAssembly types is not loaded). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function cString(mem: WasmMemory, addr: number): string {
  const bytes = new Uint8Array(mem.buffer);
  const end = bytes.indexOf(0, addr);
  if (end < 0) throw new Error("unterminated string in policy memory");
  return decoder.decode(bytes.subarray(addr, end));
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function loadFailure(message: string, cause?: unknown): PortcullisError {
  return new PortcullisError("GW_ERR_POLICY", message, cause === undefined ? undefined : { cause });
}

/** Instantiates `wasm` with `data` (JSON text) in a bounded memory. Throws on an unusable module. */
export async function createTsEvaluator(wasm: Uint8Array, data: Uint8Array): Promise<PolicyEvaluator> {
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(toArrayBuffer(wasm), { initial: 5, maximum: MAX_MEMORY_PAGES });
  } catch (e) {
    throw loadFailure(`policy.wasm does not load: ${String(e instanceof Error ? e.message : e)}`, e);
  }
  if (!(policy.minorVersion >= 2)) throw loadFailure("unsupported OPA wasm ABI (need 1.2 or later)");
  const exports = (policy.wasmInstance as unknown as { exports: OpaExports }).exports;
  const mem = policy.mem as unknown as WasmMemory;
  const builtins = JSON.parse(cString(mem, exports.opa_json_dump(exports.builtins()))) as Record<
    string,
    number
  >;
  const refused = Object.keys(builtins).filter((b) => !HOST_BUILTIN_ALLOWLIST.includes(b));
  if (refused.length > 0) throw loadFailure(`policy needs host builtins not allowed: ${refused.join(", ")}`);
  const entrypoints = policy.entrypoints as Record<string, number>;
  const names = Object.keys(entrypoints);
  const entrypoint =
    entrypoints[DEFAULT_ENTRYPOINT] ?? (names.length === 1 ? entrypoints[names[0] as string] : undefined);
  if (entrypoint === undefined) throw loadFailure(`policy has no entrypoint ${DEFAULT_ENTRYPOINT}`);
  try {
    policy.setData(toArrayBuffer(data));
  } catch (e) {
    throw loadFailure("policy data is not valid JSON", e);
  }
  const dataAddr = policy.dataAddr;
  const inputAddr = policy.dataHeapPtr as number;

  const ensure = (end: number) => {
    const have = mem.buffer.byteLength;
    if (end <= have) return;
    try {
      mem.grow(Math.ceil((end - have) / PAGE));
    } catch {
      throw new Error("policy memory limit exceeded");
    }
  };

  // Views of the memory made once and again only after it grew (growing replaces the buffer):
  // two typed-array allocations per evaluation less.
  let buffer = mem.buffer;
  let whole = new Uint8Array(buffer);
  let inputView = new Uint8Array(buffer, inputAddr);
  const views = () => {
    if (mem.buffer !== buffer) {
      buffer = mem.buffer;
      whole = new Uint8Array(buffer);
      inputView = new Uint8Array(buffer, inputAddr);
    }
  };

  return {
    engine: "ts",
    evaluate(inputJson: string | Uint8Array): string {
      let len: number;
      if (typeof inputJson === "string") {
        // encodeInto writes UTF-8 straight into wasm memory: at most 3 bytes per UTF-16 unit.
        ensure(inputAddr + inputJson.length * 3);
        views();
        const r = encoder.encodeInto(inputJson, inputView);
        if (r.read !== inputJson.length) throw new Error("input did not fit in policy memory");
        len = r.written;
      } else {
        ensure(inputAddr + inputJson.byteLength);
        views();
        whole.set(inputJson, inputAddr);
        len = inputJson.byteLength;
      }
      const result = exports.opa_eval(0, entrypoint, dataAddr, inputAddr, len, inputAddr + len, 0);
      views(); // the evaluation may have grown the memory
      const end = whole.indexOf(0, result);
      if (end < 0) throw new Error("unterminated string in policy memory");
      return decoder.decode(whole.subarray(result, end));
    },
  };
}
