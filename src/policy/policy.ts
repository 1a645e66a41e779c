/**
 * The gate: whether a call runs, is refused, or needs a human's approval. A tool's policy comes
 * from `[tools.policies]` (your entries, by the tool's name or any alias in any case, before the
 * built-in ones), else `[tools] default_policy`; a tool that runs a command (`commandOf`) is
 * also checked against `[commands]`, which can refuse it, or ask when the command cannot be known.
 */
import type { Config, Policy } from "../config/schema.js";
import { userSetPolicies } from "../config/load.js";
import { errorResult, type AnyToolDefinition, type ToolResult } from "../tools/shared/types.js";
import { evaluateCommand } from "./commands.js";

export interface PolicyDecision {
  readonly policy: Policy;
  /** The config key that decided, for messages: `tools.policies.delete_file` or `tools.default_policy`. */
  readonly source: string;
}

const STRICTNESS: Record<Policy, number> = { allow: 0, prompt: 1, deny: 2 };

/**
 * Decisions per frozen `[tools]` section and tool: a reload builds a new section, so its identity
 * is a safe key, and a call does not redo the lookup below (~1 % of a cached read_file's CPU).
 */
const decided = new WeakMap<Config["tools"], WeakMap<AnyToolDefinition, PolicyDecision>>();

export function policyFor(config: Config, definition: AnyToolDefinition): PolicyDecision {
  if (!Object.isFrozen(config.tools)) return lookUpPolicy(config, definition);
  let byTool = decided.get(config.tools);
  if (!byTool) {
    byTool = new WeakMap();
    decided.set(config.tools, byTool);
  }
  let decision = byTool.get(definition);
  if (!decision) {
    decision = Object.freeze(lookUpPolicy(config, definition));
    byTool.set(definition, decision);
  }
  return decision;
}

function lookUpPolicy(config: Config, definition: AnyToolDefinition): PolicyDecision {
  const names = new Set([definition.name, ...(definition.aliases ?? [])].map((n) => n.toLowerCase()));
  const matching = Object.entries(config.tools.policies).filter(([k]) => names.has(k.toLowerCase()));
  // Keys are canonicalised at load, so one tool has one entry; more than one match happens only
  // when the config's tool vocabulary and the registry disagree (a tool being split out of
  // another's aliases). Then the user's entries come before the built-in ones, and the strictest wins.
  const yours = userSetPolicies(config);
  const mine = matching.filter(([k]) => yours.has(k));
  const candidates = mine.length > 0 ? mine : matching;
  let decided: [string, Policy] | undefined;
  for (const [key, policy] of candidates) {
    if (!decided || STRICTNESS[policy] > STRICTNESS[decided[1]]) decided = [key, policy];
  }
  if (decided) return { policy: decided[1], source: `tools.policies.${decided[0]}` };
  return { policy: config.tools.default_policy, source: "tools.default_policy" };
}

/** What the gate says about one call. */
export type CallDecision =
  | { action: "allow" }
  | { action: "deny"; result: ToolResult }
  | {
      action: "prompt";
      /** Why a human is asked, for the approval's header. */
      reason: string;
      /** The answer when the client cannot answer approvals. */
      cannotAsk: ToolResult;
      /** The answer when the human said no (or never answered). */
      refused: ToolResult;
    };

function fixHint(def: AnyToolDefinition, source: string): string {
  return source === "tools.default_policy" ? "[tools] default_policy" : `[tools.policies] ${def.name}`;
}

/** Decides a call: `[commands]` first (a command refused by a rule is never prompted), then the tool's policy. */
export function decideCall(
  config: Config,
  def: AnyToolDefinition,
  args: Record<string, unknown>,
): CallDecision {
  const command = def.commandOf ? evaluateCommand(config.commands, def.commandOf(args)) : undefined;
  if (command?.verdict === "deny") {
    return {
      action: "deny",
      result: errorResult(
        `${def.name} refused: ${command.reason} (${command.rule} in vtcode.toml [commands]); nothing was run. Change [commands] and run \`toold config reload\` if it should run.`,
        { denied: true, rule: command.rule },
      ),
    };
  }
  const { policy, source } = policyFor(config, def);
  if (policy === "deny") {
    return {
      action: "deny",
      result: errorResult(
        `${def.name} is denied by policy (${source} = "deny"). To allow it, set ${fixHint(def, source)} = "allow" or "prompt" in vtcode.toml and run \`toold config reload\`.`,
        { denied: true, policy, source },
      ),
    };
  }
  const asks: string[] = [];
  if (policy === "prompt") asks.push(`${source} = "prompt"`);
  if (command?.verdict === "prompt") asks.push(`${command.reason} (${command.rule})`);
  if (asks.length === 0) return { action: "allow" };
  const reason = asks.join("; ");
  // What to change so it runs without asking: the tool's policy, or the [commands] rule.
  const howToAllow =
    policy === "prompt"
      ? `set ${fixHint(def, source)} = "allow" in vtcode.toml`
      : "write the command so that every program it runs is named literally";
  const structured = { denied: true, policy: command?.verdict === "prompt" ? "prompt" : policy, source };
  return {
    action: "prompt",
    reason,
    cannotAsk: errorResult(
      `${def.name} needs approval (${reason}) but this client cannot answer approval requests. Call it from a client that declares capabilities.approvals (the CLI on a terminal, or with --yes), or ${howToAllow}.`,
      structured,
    ),
    refused: errorResult(
      `${def.name} was not approved by the client (${reason}); nothing was done. To run it, approve it when asked (the CLI asks on a terminal, or pass --yes), or ${howToAllow}.`,
      structured,
    ),
  };
}
