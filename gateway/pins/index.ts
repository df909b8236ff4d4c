/**
 * Tool definition pinning (`portcullis.lock`): `PinStore` pins each tool's definition hash on
 * first sight and reports later changes until they are approved; see store.ts.
 */
export { type LockDocument, PinEntry, readLock, renderLock } from "./lockfile.js";
export { type SharedPin, SharedPins } from "./shared.js";
export {
  LOCK_FILE_NAME,
  lockPathFor,
  type PinCheck,
  PinStore,
  type ToolDefinition,
  toolDefinitionHash,
} from "./store.js";
