/**
 * Rewrites conformance/policy/golden.json from the committed default bundle. Run it only on
 * purpose, when a decision of the default policy is meant to change, and say why in the commit:
 * `npm run build && node dist/conformance/policy/write-golden.js`.
 */
import { writeFileSync } from "node:fs";
import { defaultBundlePath } from "../../policies/bundle.js";
import { goldenPath, goldenRecord } from "./golden.js";

const record = await goldenRecord(defaultBundlePath());
writeFileSync(goldenPath(), `${JSON.stringify(record, null, 1)}\n`);
const count = Object.values(record.cases).reduce((n, c) => n + Object.keys(c).length, 0);
console.log(`golden.json: ${count} cases, ${record.decisions.length} distinct decisions`);
