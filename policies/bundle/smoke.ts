/**
 * A bundle's own smoke inputs: `portcullis.smoke.json` at the bundle root (signed like every other
 * file, ignored by OPA, which loads only data files and policies) lists inputs with the decision
 * and reason codes the policy author expects. The activator runs them in every engine it loads
 * the bundle into; one miss and the bundle is not activated. With an input projection each case
 * is decided on the projected input (what the service evaluates) and on the whole input, and the
 * two must agree: a declaration that drops something a case depends on fails activation. The file
 * is validated strictly so a malformed one fails activation instead of silently checking nothing.
 */
import { z } from "zod";
import { PolicyInput } from "../../contracts/index.js";
import { PortcullisError } from "../../gateway/errors.js";
import type { PolicyEvaluator } from "../engine.js";
import type { InputProjector } from "../projection.js";
import { evaluateDecision } from "../service.js";

export const SMOKE_FILE = "portcullis.smoke.json";

export const SmokeCase = z
  .object({
    name: z.string().min(1).max(200),
    input: PolicyInput,
    expect: z
      .object({
        decision: z.enum(["allow", "deny", "ask_user"]),
        reasons: z.array(z.string().regex(/^[A-Z][A-Z0-9_]*$/)).optional(),
      })
      .strict(),
  })
  .strict();

export const SmokeFile = z.object({ cases: z.array(SmokeCase).max(1000) }).strict();
export type SmokeCase = z.infer<typeof SmokeCase>;

/** The smoke cases of a bundle (none when it has no smoke file); throws on a malformed file. */
export function readSmokeCases(files: Map<string, Uint8Array>): SmokeCase[] {
  const raw = files.get(SMOKE_FILE);
  if (!raw) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(raw).toString("utf8"));
  } catch {
    throw smokeError(`${SMOKE_FILE} is not JSON`);
  }
  const parsed = SmokeFile.safeParse(doc);
  if (!parsed.success)
    throw smokeError(`${SMOKE_FILE} is malformed: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data.cases;
}

function smokeError(message: string): PortcullisError {
  return new PortcullisError("GW_ERR_BUNDLE", message, { details: { reason: "smoke_failed" } });
}

/** Runs every case on one evaluator; throws naming the first case whose decision differs. */
export function runSmokeCases(
  evaluator: PolicyEvaluator,
  cases: SmokeCase[],
  projector?: InputProjector,
): void {
  for (const c of cases) {
    const whole = evaluateDecision(evaluator, JSON.stringify(c.input));
    const d = projector ? evaluateDecision(evaluator, projector.text(c.input)) : whole;
    const codes = d.reasons.map((r) => r.code);
    const wholeCodes = whole.reasons.map((r) => r.code);
    if (d.decision !== whole.decision || codes.join() !== wholeCodes.join())
      throw smokeError(
        `smoke case '${c.name}': the bundle's input projection changes the decision on the ${evaluator.engine} ` +
          `engine: ${d.decision} [${codes.join(", ")}] projected, ${whole.decision} [${wholeCodes.join(", ")}] whole`,
      );
    const reasonsOk =
      c.expect.reasons === undefined || c.expect.reasons.every((code) => codes.includes(code));
    if (d.decision !== c.expect.decision || !reasonsOk)
      throw smokeError(
        `smoke case '${c.name}' failed on the ${evaluator.engine} engine: expected ${c.expect.decision}` +
          `${c.expect.reasons ? ` [${c.expect.reasons.join(", ")}]` : ""}, got ${d.decision} [${codes.join(", ")}]`,
      );
  }
}
