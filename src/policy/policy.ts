/** Which policy governs a tool: `[tools.policies]` by name or alias, else `[tools] default_policy`. */
import type { Config, Policy } from "../config/schema.js";
import { errorResult, type AnyToolDefinition, type ToolResult } from "../tools/shared/types.js";
import { evaluateCommand } from "./commands.js";

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

/**
 * The `[commands]` rules, for a tool that declares the command it runs (`commandOf`): a denial
 * result, or undefined when the rules let the command run (the tool's policy still applies).
 */
export function commandRulesVerdict(
  config: Config,
  definition: AnyToolDefinition,
  args: Record<string, unknown>,
): ToolResult | undefined {
  if (!definition.commandOf) return undefined;
  const verdict = evaluateCommand(config.commands, definition.commandOf(args));
  if (verdict.allowed) return undefined;
  return errorResult(
    `${definition.name} refused: ${verdict.reason} (${verdict.rule} in vtcode.toml [commands]); nothing was run. Change [commands] and run \`toold config reload\` if it should run.`,
    { denied: true, rule: verdict.rule },
  );
}
