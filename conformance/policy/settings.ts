/**
 * Builds policy data documents for tests: the default policy's settings with a test's own rules
 * and overrides, in the `{portcullis: {settings}}` shape the decision service's `data` option takes.
 * Keeps each test down to the rules it is about instead of a copy of every setting.
 */

export interface PolicyRule {
  id: string;
  effect: "allow" | "deny" | "ask";
  names?: string[];
  actions?: string[];
  roles?: string[];
}

export interface PolicySettings {
  audit_level: "minimal" | "standard" | "full";
  ask_ttl_s: number;
  ask: { destructive: boolean; open_world: boolean };
  secrets: { classes: string[]; action: "allow" | "deny" | "ask" };
  redact_classes: string[];
  listing: { visible_by_default: boolean };
  models: { allowed: string[]; roles?: Record<string, string[]>; local_only_classes: string[] };
  approvals: { approver_roles: string[] };
  rules: PolicyRule[];
}

const BASE: Omit<PolicySettings, "rules"> = {
  audit_level: "standard",
  ask_ttl_s: 300,
  ask: { destructive: true, open_world: true },
  secrets: { classes: ["secret"], action: "deny" },
  redact_classes: [],
  listing: { visible_by_default: true },
  models: { allowed: [], local_only_classes: [] },
  approvals: { approver_roles: ["admin", "approver"] },
};

/** A data document with `rules` and any settings overridden; everything else as in BASE. */
export function policyData(
  rules: PolicyRule[],
  overrides: Partial<Omit<PolicySettings, "rules">> = {},
): { portcullis: { settings: PolicySettings } } {
  return { portcullis: { settings: { ...BASE, ...overrides, rules } } };
}
