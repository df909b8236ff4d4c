/** Types of scripts/toolchain.mjs for the TypeScript code that locates built artefacts. */
export const OPA_VERSION: string;
export const repoRoot: string;
export function cacheDir(): string;
export function cargoTargetDir(): string;
export function cargoEnv(): NodeJS.ProcessEnv;
export function opaPath(): string;
export function hasCommand(cmd: string, args?: string[]): boolean;
export function opaInstalled(): boolean;
