/** Which policy governs a tool: `[tools.policies]` by name or alias, else `[tools] default_policy`. */
import type { Config, Policy } from "../config/schema.js";
import type { AnyToolDefinition } from "../tools/shared/types.js";

export interface PolicyDecision {
  policy: Policy;
  /** The config key that decided, for messages: `tools.policies.delete_file` or `tools.default_policy`. */
  source: string;
}

export function policyFor(config: Config, definition: AnyToolDefinition): PolicyDecision {
  const policies = config.tools.policies;
  for (const name of [definition.name, ...(definition.aliases ?? [])]) {
    const match = Object.keys(policies).find((k) => k.toLowerCase() === name.toLowerCase());
    if (match !== undefined) {
      return { policy: policies[match] as Policy, source: `tools.policies.${match}` };
    }
  }
  return { policy: config.tools.default_policy, source: "tools.default_policy" };
}
