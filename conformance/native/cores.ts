/**
 * Both native cores, built explicitly (not through PORTCULLIS_NATIVE) so the parity suite can
 * compare them in one run. The addon must be built (`npm run setup`); without it the suite fails
 * rather than silently comparing the fallback with itself.
 */
import { createAddonCore } from "../../native/addon.js";
import type { NativeCore } from "../../native/core-api.js";
import { fallbackCore } from "../../native/fallback/index.js";
import { loadAddon } from "../../native/loader.js";

/** The addon-backed core; throws with the loader's reasons when the addon is missing. */
export function addonCore(): NativeCore {
  const { binding, status } = loadAddon();
  if (!binding) throw new Error(`native addon not loadable (run npm run setup): ${status.reason}`);
  return createAddonCore(binding);
}

export { fallbackCore };
