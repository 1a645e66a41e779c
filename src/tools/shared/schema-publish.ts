/**
 * What the registry publishes for a tool (`tools/list`) and what it says when arguments are wrong.
 *
 * Hosts that validate arguments against the published schema (`additionalProperties: false`)
 * must accept every alias the daemon accepts, so each alias is published as a property of its
 * own, and a required argument that has aliases is required in its description rather than in
 * `required` (a JSON Schema `anyOf` of `required` lists would say it exactly, but several model
 * APIs refuse `anyOf` at the top of a tool schema). Unions of literals are published as `enum`,
 * so a host (and a model) sees every value.
 */
import type { TSchema } from "@sinclair/typebox";
import type { ValueError } from "@sinclair/typebox/value";
import { editDistance } from "../../support/nearest.js";
import type { AnyToolDefinition } from "./types.js";

type JsonSchema = Record<string, unknown>;

/** `anyOf: [{const: "a"}, {const: "b"}]` → `{type: "string", enum: ["a", "b"]}`, recursively. */
function enumsOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(enumsOf);
  if (typeof schema !== "object" || schema === null) return schema;
  const s = schema as JsonSchema;
  const literals = literalValues(s);
  if (literals) {
    const { anyOf: _drop, ...rest } = s;
    const type = literals.every((v) => typeof v === "string") ? "string" : undefined;
    return { ...(type ? { type } : {}), ...rest, enum: literals };
  }
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) out[k] = enumsOf(v);
  return out;
}

/** The values of a union of literals, or undefined for any other schema. */
export function literalValues(schema: unknown): unknown[] | undefined {
  const anyOf = (schema as { anyOf?: unknown } | undefined)?.anyOf;
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined;
  if (!anyOf.every((b) => typeof b === "object" && b !== null && "const" in b)) return undefined;
  return anyOf.map((b) => (b as { const: unknown }).const);
}

/** The JSON Schema `tools/list` shows for a tool: aliases as properties, enums spelled out. */
export function publishedSchema(def: AnyToolDefinition): JsonSchema {
  const schema = enumsOf(JSON.parse(JSON.stringify(def.inputSchema))) as JsonSchema;
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const aliases = Object.entries(def.argumentAliases ?? {});
  if (aliases.length > 0) {
    const required = new Set((schema.required ?? []) as string[]);
    for (const [alias, canonical] of aliases) {
      const target = props[canonical];
      if (!target) continue;
      props[alias] = { ...target, description: `Alias of \`${canonical}\` (give one of them).` };
      if (required.delete(canonical)) {
        const names = aliases.filter(([, c]) => c === canonical).map(([a]) => `\`${a}\``);
        props[canonical] = {
          ...target,
          description:
            `${String(target.description ?? "")} Required (or its alias ${names.join(" or ")}).`.trim(),
        };
      }
    }
    schema.properties = props;
    if (required.size > 0) schema.required = [...required];
    else delete schema.required;
  }
  if (def.example) schema.examples = [def.example];
  return schema;
}

/** Every argument name a tool accepts: its own, then its aliases. */
export function acceptedNames(def: AnyToolDefinition): string[] {
  const props = Object.keys((def.inputSchema as { properties?: JsonSchema }).properties ?? {});
  return [...props, ...Object.keys(def.argumentAliases ?? {})];
}

/**
 * The accepted name closest to `given` (case, `_`, `-` ignored; then edit distance), if close. Its
 * thresholds are looser than support/nearest.ts's nearestName (any prefix counts as 1 edit, up to
 * max(2, length/3) edits) and were kept as they were; the distance is the shared one.
 */
export function nearestName(given: string, names: readonly string[]): string | undefined {
  const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const g = fold(given);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const name of names) {
    const n = fold(name);
    const score = n === g ? 0 : n.startsWith(g) || g.startsWith(n) ? 1 : editDistance(g, n);
    if (score < bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return bestScore <= Math.max(2, Math.floor(g.length / 3)) ? best : undefined;
}

/** An example call built from the schema when the tool gives none: its required arguments. */
export function exampleArguments(def: AnyToolDefinition): Record<string, unknown> {
  if (def.example) return def.example;
  const schema = def.inputSchema as { properties?: Record<string, JsonSchema>; required?: string[] };
  const example: Record<string, unknown> = {};
  for (const name of schema.required ?? []) {
    const p = schema.properties?.[name] ?? {};
    const literals = literalValues(p);
    example[name] = literals
      ? literals[0]
      : p.type === "integer" || p.type === "number"
        ? 1
        : p.type === "boolean"
          ? true
          : p.type === "array"
            ? []
            : p.type === "object"
              ? {}
              : "…";
  }
  return example;
}

/** One bad argument: its name (dotted for nested ones) and what is wrong with it. */
export interface ArgumentProblem {
  argument: string;
  problem: string;
  /** For an unknown argument: the accepted name it most likely meant. */
  suggestion?: string;
}

/** The `data` of a -32602 answer: each bad argument, every accepted name, an example call. */
export interface InvalidArgumentsData {
  tool: string;
  errors: ArgumentProblem[];
  accepted: string[];
  example: Record<string, unknown>;
}

const MAX_PROBLEMS = 5;
const MAX_SHOWN_CHARS = 80;

/** A value as an error message shows it: short, so a 10,000-item array does not fill the message. */
function shown(value: unknown): string {
  if (Array.isArray(value) && value.length > 3) return `an array of ${value.length} items`;
  const json = JSON.stringify(value) ?? "undefined";
  return json.length > MAX_SHOWN_CHARS ? `${json.slice(0, MAX_SHOWN_CHARS)}…` : json;
}

/** Turns TypeBox's errors into one problem per bad argument. */
export function argumentProblems(def: AnyToolDefinition, errors: Iterable<ValueError>): ArgumentProblem[] {
  const accepted = acceptedNames(def);
  const problems: ArgumentProblem[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const where = error.path === "" ? "arguments" : error.path.slice(1).replace(/\//g, ".");
    if (seen.has(where)) continue;
    seen.add(where);
    if (error.message.startsWith("Unexpected property")) {
      // A nested object (an item of `reads`, `edits`) lists its own names.
      const nested = where.includes(".");
      const names = nested
        ? Object.keys((error.schema as { properties?: JsonSchema }).properties ?? {})
        : accepted;
      const last = where.split(".").pop()!;
      const suggestion = nearestName(last, names);
      problems.push({
        argument: where,
        problem: `unknown argument "${where}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}${nested ? ` (accepted there: ${names.join(", ")})` : ""}`,
        ...(suggestion ? { suggestion } : {}),
      });
    } else if (error.message.startsWith("Expected required property")) {
      problems.push({ argument: where, problem: `missing required argument "${where}"` });
    } else {
      const literals = literalValues(error.schema as TSchema);
      const message = literals
        ? `expected one of ${literals.map((v) => JSON.stringify(v)).join(", ")}`
        : error.message.charAt(0).toLowerCase() + error.message.slice(1);
      problems.push({
        argument: where,
        problem: `${where}: ${message} (got ${shown(error.value)})`,
      });
    }
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return problems;
}

/** The message of a -32602 answer: every problem, the accepted names, an example call. */
export function invalidArgumentsMessage(data: InvalidArgumentsData): string {
  const unknown = data.errors.some(
    (e) => e.problem.startsWith("unknown argument") && !e.argument.includes("."),
  );
  return (
    `invalid arguments for ${data.tool}: ${data.errors.map((e) => e.problem).join("; ")}.` +
    (unknown ? ` Accepted: ${data.accepted.join(", ")}.` : "") +
    ` Example: ${JSON.stringify(data.example)}. See \`toold tools --json\` for its input schema.`
  );
}
