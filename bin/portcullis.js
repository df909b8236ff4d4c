#!/usr/bin/env node
// V8 tuning first (see server/jit.ts), so that the program's functions are made under it.
import { tuneJit } from "../dist/server/jit.js";

tuneJit();
const { main } = await import("../dist/cli.js");

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
