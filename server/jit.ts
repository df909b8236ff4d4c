/**
 * V8 tuning for the `portcullis` process, applied by `bin/portcullis.js` before the rest of the
 * program is loaded. A gateway runs one short path (parse, decide, seal, forward) thousands of
 * times; V8 11 (Node 20) leaves a function in its slower tiers until it has run 66 KB of bytecode
 * (`--interrupt-budget`), which made the first few thousand calls pay for unoptimised code and a
 * long tail of optimising. A quarter of that budget optimises the hot path sooner. A/B of the
 * gateway with and without it, the MCP bench's calls 201–2,200 (bench/mcp.bench.ts): p50 15–22 %
 * lower over HTTP and 18 % over stdio, 95–120 µs less gateway CPU per call; after 3,000 calls
 * (steady state) the two are equal within the noise. V8 12 and later (Node 22, 24) tier up
 * through Maglev, by invocation count, and have no such flag: they keep their defaults.
 */
import { setFlagsFromString } from "node:v8";

/** The V8 flags set for a V8 version (`process.versions.v8`); empty when the defaults stay. */
export function jitFlags(v8Version: string): string[] {
  const major = Number.parseInt(v8Version, 10);
  return major === 11 ? ["--interrupt-budget=16384"] : [];
}

/** Sets `jitFlags` for this process's V8. */
export function tuneJit(): void {
  for (const flag of jitFlags(process.versions.v8)) setFlagsFromString(flag);
}
