/**
 * The BundleActivator turns bundle bytes from any source (watched file, HTTP bundle service,
 * admin push, the persisted copy) into the decision service's active policy, or refuses them.
 * Order: hardened archive read → signature (required whenever keys are configured) → load in
 * every engine available (TypeScript always, Rust when the addon is present) → a probe and the
 * bundle's own smoke cases in each → persist as a candidate → the service's atomic swap (which
 * starts a fresh decision cache) → the candidate becomes the last good bundle. Any failure leaves
 * the serving bundle untouched and is recorded in the status. One activation runs at a time.
 */
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PolicyInput } from "../../contracts/index.js";
import { errorMessage, PortcullisError } from "../../gateway/errors.js";
import { defaultBundlePath, type PolicyBundle, parseBundle } from "../bundle.js";
import type { EngineName } from "../engine.js";
import { nativePolicyBinding } from "../native-engine.js";
import { InputProjector } from "../projection.js";
import {
  createDecisionService,
  type DecisionService,
  type DecisionServiceOptions,
  evaluateDecision,
  instantiate,
} from "../service.js";
import {
  type ArchiveLimits,
  DEFAULT_ARCHIVE_LIMITS,
  readBundleArchive,
  writeBundleArchive,
} from "./archive.js";
import { type SignatureCheck, type VerificationKey, verifyBundleSignature } from "./signing.js";
import { readSmokeCases, runSmokeCases } from "./smoke.js";
import { type BundleStatus, BundleStatusTracker, type Clock } from "./status.js";

export interface BundleActivatorOptions {
  /** Status key and persistence folder name. Default `portcullis`. */
  name?: string;
  /** Local state folder (`config.dataDir`); the last good bundle lives under `bundles/<name>/`. */
  dataDir: string;
  /** Verification keys by id; when any is configured, unsigned bundles are refused. */
  keys?: ReadonlyMap<string, VerificationKey>;
  /** Scope every bundle must be signed for (overrides the keys' scopes). */
  scope?: string;
  /** Key id to use when a signature names none. */
  keyId?: string;
  limits?: ArchiveLimits;
  /** Engines to load each bundle in; default: ts, plus rust when the addon is available. */
  engines?: EngineName[];
  clock?: Clock;
}

export interface ActivationResult {
  revision: string;
  policyHash: string;
  source: string;
  engines: EngineName[];
  signature?: SignatureCheck;
  smokeCases: number;
  durationMs: number;
}

export interface ActivationSource {
  /** `file`, `http`, `push` or `persisted`. */
  kind: string;
  etag?: string;
}

/** What the service must answer sensibly before a bundle may serve (a listing probe). */
const PROBE = {
  v: 1,
  action: "tools/list",
  principal: { id: "bundle-probe", roles: [], authenticated: false, via: "anonymous" },
  target: { kind: "tool", name: "probe__probe" },
  arguments: {},
  data_classes: [],
  context: { time: "1970-01-01T00:00:00Z", request_id: "bundle-probe", transport: "http" },
} as PolicyInput;

function rejection(e: unknown): { code: string; message: string } {
  const reason = e instanceof PortcullisError ? e.details?.reason : undefined;
  return { code: typeof reason === "string" ? reason : "activation_failed", message: errorMessage(e) };
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "w", 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class BundleActivator {
  readonly name: string;
  readonly service: DecisionService;
  readonly #opts: BundleActivatorOptions;
  readonly #status: BundleStatusTracker;
  readonly #dir: string;
  readonly #data: unknown;
  #queue: Promise<unknown> = Promise.resolve();
  #etag: string | undefined;

  private constructor(service: DecisionService, opts: BundleActivatorOptions, data: unknown) {
    this.name = opts.name ?? "portcullis";
    this.service = service;
    this.#opts = opts;
    this.#data = data;
    this.#status = new BundleStatusTracker(this.name, opts.clock);
    this.#dir = join(opts.dataDir, "bundles", this.name);
  }

  /**
   * Starts the policy plane: the decision service begins on the persisted last good bundle when
   * it still verifies; otherwise on `service.bundlePath` (or the embedded default) — unless keys
   * are configured, in which case an unverifiable start serves no bundle and denies everything
   * (POLICY_NO_BUNDLE) until a signed bundle arrives.
   */
  static async open(
    opts: BundleActivatorOptions & {
      service?: Omit<DecisionServiceOptions, "bundlePath"> & { bundlePath?: string };
    },
  ): Promise<BundleActivator> {
    const dir = join(opts.dataDir, "bundles", opts.name ?? "portcullis");
    const lastGood = join(dir, "last-good.tar.gz");
    const signed = (opts.keys?.size ?? 0) > 0;
    let startPath = signed
      ? join(dir, "no-verified-bundle.tar.gz")
      : (opts.service?.bundlePath ?? defaultBundlePath());
    let restored: string | undefined;
    let restoreError: { code: string; message: string } | undefined;
    // The service starts from a canonical re-serialisation of what was verified (see #verifyLoadSwap).
    const verifies = async (path: string): Promise<void> => {
      const files = readBundleArchive(await readFile(path), opts.limits ?? DEFAULT_ARCHIVE_LIMITS);
      if (signed) verifyBundleSignature(files, opts.keys ?? new Map(), BundleActivator.#verifyOpts(opts));
      await mkdir(dir, { recursive: true });
      startPath = join(dir, "start.tar.gz");
      await writeDurably(startPath, writeBundleArchive(files));
    };
    try {
      await verifies(lastGood);
      restored = lastGood;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") restoreError = rejection(e);
      // With keys, a configured local bundle may still start the service if it verifies.
      const configured = opts.service?.bundlePath;
      if (signed && configured) {
        try {
          await verifies(configured);
          restoreError = undefined;
        } catch (e2) {
          restoreError = rejection(e2);
        }
      }
    }
    const service = await createDecisionService({ ...opts.service, bundlePath: startPath });
    const activator = new BundleActivator(service, opts, opts.service?.data);
    if (restored && service.revision !== "none") {
      activator.#status.activated(service.revision, service.policyHash, "persisted", 0);
      activator.#etag = await readFile(join(dir, "last-good.json"), "utf8")
        .then((t) => (JSON.parse(t) as { etag?: string }).etag)
        .catch(() => undefined);
    } else if (signed && service.revision === "none" && !restoreError) {
      activator.#status.failed({
        code: "no_verified_bundle",
        message: "keys are configured and no verified bundle is active yet: every decision is denied",
      });
    } else if (restoreError) {
      activator.#status.failed({
        code: restoreError.code,
        message: `start-up bundle refused: ${restoreError.message}`,
      });
    }
    return activator;
  }

  static #verifyOpts(opts: BundleActivatorOptions): { scope?: string; keyId?: string } {
    return {
      ...(opts.scope === undefined ? {} : { scope: opts.scope }),
      ...(opts.keyId === undefined ? {} : { keyId: opts.keyId }),
    };
  }

  /** ETag of the active bundle as its HTTP source reported it (sent back as If-None-Match). */
  get etag(): string | undefined {
    return this.#etag;
  }

  /** Status tracker the sources report requests and downloads to. */
  get tracker(): BundleStatusTracker {
    return this.#status;
  }

  status(): BundleStatus {
    return this.#status.snapshot();
  }

  engines(): EngineName[] {
    if (this.#opts.engines) return this.#opts.engines;
    return nativePolicyBinding().binding ? ["ts", "rust"] : ["ts"];
  }

  /** Verifies and activates `bytes`; rejects (status updated, old bundle serving) on any failure. */
  activate(bytes: Uint8Array, source: ActivationSource): Promise<ActivationResult> {
    const run = this.#queue.then(() => this.#activateNow(bytes, source));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #activateNow(bytes: Uint8Array, source: ActivationSource): Promise<ActivationResult> {
    const t0 = performance.now();
    try {
      const result = await this.#verifyLoadSwap(bytes, source);
      const durationMs = performance.now() - t0;
      this.#etag = source.etag;
      this.#status.activated(result.revision, result.policyHash, source.kind, durationMs);
      return { ...result, durationMs };
    } catch (e) {
      const r = rejection(e);
      this.#status.failed(r);
      throw e instanceof PortcullisError
        ? e
        : new PortcullisError("GW_ERR_BUNDLE", r.message, { cause: e, details: { reason: r.code } });
    }
  }

  async #verifyLoadSwap(
    bytes: Uint8Array,
    source: ActivationSource,
  ): Promise<Omit<ActivationResult, "durationMs">> {
    const files = readBundleArchive(bytes, this.#opts.limits ?? DEFAULT_ARCHIVE_LIMITS);
    const keys = this.#opts.keys ?? new Map<string, VerificationKey>();
    let signature: SignatureCheck | undefined;
    if (keys.size > 0) {
      signature = verifyBundleSignature(files, keys, BundleActivator.#verifyOpts(this.#opts));
    }
    if (!files.has("policy.wasm"))
      throw new PortcullisError("GW_ERR_BUNDLE", "bundle holds no policy.wasm (build it with -t wasm)", {
        details: { reason: "no_wasm" },
      });
    // From here on only a canonical re-serialisation of the verified files is used, so no other
    // tar reader (the service's own) can interpret the original bytes differently.
    const canonical = writeBundleArchive(files, { fast: true });
    const bundle: PolicyBundle = parseBundle(canonical, this.#dataBytes());
    const cases = readSmokeCases(files);
    const projector = bundle.projection ? new InputProjector(bundle.projection) : undefined;
    const engines = this.engines();
    for (const engine of engines) {
      let evaluator: Awaited<ReturnType<typeof instantiate>>;
      try {
        evaluator = await instantiate(engine, bundle);
      } catch (e) {
        throw new PortcullisError(
          "GW_ERR_BUNDLE",
          `the ${engine} engine cannot load the bundle: ${errorMessage(e)}`,
          {
            details: { reason: "engine_load_failed" },
          },
        );
      }
      const probe = evaluateDecision(evaluator, projector ? projector.text(PROBE) : JSON.stringify(PROBE));
      const code = probe.reasons[0]?.code ?? "";
      if (code.startsWith("POLICY_"))
        throw new PortcullisError("GW_ERR_BUNDLE", `the ${engine} engine's probe decision failed: ${code}`, {
          details: { reason: "probe_failed" },
        });
      runSmokeCases(evaluator, cases, projector);
    }
    await mkdir(this.#dir, { recursive: true });
    const candidate = join(this.#dir, "candidate.tar.gz");
    await writeDurably(candidate, canonical);
    try {
      await this.service.activate({
        bundlePath: candidate,
        ...(this.#data === undefined ? {} : { data: this.#data }),
      });
    } catch (e) {
      await rm(candidate, { force: true });
      throw e;
    }
    // Serving already; persistence failures past this point must not undo the swap.
    await rename(candidate, join(this.#dir, "last-good.tar.gz"));
    await writeFile(
      join(this.#dir, "last-good.json"),
      JSON.stringify({
        revision: bundle.revision,
        policy_hash: bundle.policyHash,
        source: source.kind,
        etag: source.etag,
      }),
    );
    return {
      revision: this.service.revision,
      policyHash: this.service.policyHash,
      source: source.kind,
      engines,
      ...(signature ? { signature } : {}),
      smokeCases: cases.length,
    };
  }

  #dataBytes(): Uint8Array | undefined {
    const d = this.#data;
    if (d === undefined) return undefined;
    if (d instanceof Uint8Array) return d;
    return new TextEncoder().encode(typeof d === "string" ? d : JSON.stringify(d));
  }

  /** Waits for a running activation, then closes the decision service. */
  async close(): Promise<void> {
    await this.#queue;
    await this.service.close();
  }
}
