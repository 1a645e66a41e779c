/**
 * Reads vtcode.toml once, validates every key toold knows with one message per bad key (file,
 * line, key, what was expected), and returns a deep-frozen Config. A reload builds a new object;
 * on any error the caller keeps the old one.
 */
import { lstatSync, readFileSync } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse as parseToml, TomlError } from "smol-toml";
import { CONFIG_SECTIONS, type Config, type KeySpec, type Policy } from "./schema.js";
import { allToolNames, canonicalToolName } from "./tool-names.js";
import { compileRegex } from "../support/regex.js";
import { nearestName } from "../support/nearest.js";

export const CONFIG_FILE_NAME = "vtcode.toml";

/** A file's problems, its path said once: `<heading> <file>:` then one indented line each. */
export function formatFileReport(heading: string, file: string, lines: readonly string[]): string {
  return `${heading} ${file}:\n  ${lines.join("\n  ")}`;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    /** One line each, `line N: key …` where the line is known; the path is not repeated. */
    readonly problems: readonly string[],
    /** The warnings found beside the problems, same form. */
    readonly warnings: readonly string[] = [],
  ) {
    super(formatFileReport("invalid", file, problems));
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the file read, or undefined when there is none (defaults). */
  readonly file: string | undefined;
  /** Unknown keys in known sections and near-misses, one line each (`line N: …`, no path). */
  readonly warnings: readonly string[];
}

/**
 * The `[tools.policies]` keys the user wrote (canonicalised), by config object: the policy layer
 * lets them win over built-in entries that match the same tool. Kept beside the frozen config
 * rather than in it, so `config/get` shows the plain merged table.
 */
const userPolicyKeys = new WeakMap<object, ReadonlySet<string>>();

/** The `[tools.policies]` keys that came from the file rather than the built-in defaults. */
export function userSetPolicies(config: Config): ReadonlySet<string> {
  return userPolicyKeys.get(config.tools.policies) ?? new Set();
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function sectionDefaults(keys: Record<string, KeySpec>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(keys).map(([k, spec]) => [k, structuredClone(spec.default)]));
}

/** The defaults, as a frozen Config. */
export function defaultConfig(): Config {
  return buildConfig(new Map());
}

function buildConfig(
  values: Map<string, Record<string, unknown>>,
  userPolicies: Record<string, Policy> = {},
): Config {
  const section = (name: keyof typeof CONFIG_SECTIONS) => ({
    ...sectionDefaults(CONFIG_SECTIONS[name]),
    ...values.get(name),
  });
  const config = deepFreeze({
    optimization: {
      tool_registry: section("optimization.tool_registry"),
      memory_pool: section("optimization.memory_pool"),
    },
    tools: {
      ...section("tools"),
      // Per-tool entries add to the built-in ones rather than replacing the whole table.
      policies: { ...CONFIG_SECTIONS.tools.policies.default, ...userPolicies },
    },
    commands: section("commands"),
    cache: section("cache"),
    exec: section("exec"),
    journal: section("journal"),
    feed: section("feed"),
    daemon: section("daemon"),
  }) as unknown as Config;
  userPolicyKeys.set(config.tools.policies, new Set(Object.keys(userPolicies)));
  return config;
}

function lookup(doc: Record<string, unknown>, dotted: string): unknown {
  let node: unknown = doc;
  for (const part of dotted.split(".")) {
    if (!node || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Best-effort 1-based line of `key` inside `[section]`, for error messages. */
export function findKeyLine(text: string, section: string, keyName: string): number | undefined {
  const lines = text.split(/\r?\n/);
  let current = "";
  const keyPattern = new RegExp(`^\\s*["']?${keyName.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}["']?\\s*=`);
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[+\s*([^\]]+?)\s*\]+/.exec(lines[i] ?? "");
    if (header) {
      current = (header[1] ?? "").replace(/\s+/g, "");
      if (current === `${section}.${keyName}`) return i + 1;
      continue;
    }
    if (current === section && keyPattern.test(lines[i] ?? "")) return i + 1;
  }
  return undefined;
}

function describe(value: unknown): string {
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/** The schema of each entry when `spec` is a TypeBox Record (a table of name = value), else undefined. */
function recordValueSchema(spec: KeySpec): TSchema | undefined {
  const patterns = (spec.schema as { patternProperties?: Record<string, TSchema> }).patternProperties;
  return patterns ? Object.values(patterns)[0] : undefined;
}

/** "a table of x = A | B" → "A | B": what one entry must be. */
function entryExpect(spec: KeySpec): string {
  const m = / = (.*)$/.exec(spec.expect);
  return m?.[1] ?? spec.expect;
}

/** `line N: ` where the line is known, else nothing: the path is said once, by the caller. */
function at(line: number | undefined): string {
  return line === undefined ? "" : `line ${line}: `;
}

/** The N of a `line N: …` message; messages without one sort last. */
function lineNumber(message: string): number {
  const m = /^line (\d+)/.exec(message);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

/** "; did you mean x?" when a known name is close, else the list of known names. */
function suggestion(given: string, known: readonly string[]): string {
  const near = nearestName(given, known);
  return near !== undefined ? `; did you mean ${near}?` : ` (known: ${known.join(", ")})`;
}

/** Top-level tables VT Code itself reads: never taken for a misspelt toold section. */
const VT_CODE_SECTIONS = new Set([
  "agent",
  "security",
  "ui",
  "pty",
  "mcp",
  "acp",
  "context",
  "telemetry",
  "syntax_highlighting",
  "automation",
  "prompt_cache",
  "model",
  "router",
  "lsp",
  "hooks",
  "timeouts",
  "output_style",
  "permissions",
  "skills",
  "sandbox",
  "providers",
  "debug",
]);

/**
 * Tables toold does not read whose name is one typo from one it does (`[command]`, `[demon]`,
 * `[optimization.toolregistry]`): almost surely meant for toold, so say so rather than ignore
 * them silently. Other unknown tables are VT Code's and stay quiet.
 */
function misspeltSections(doc: Record<string, unknown>, text: string): string[] {
  const known = Object.keys(CONFIG_SECTIONS);
  const warnings: string[] = [];
  const visit = (table: Record<string, unknown>, prefix: string) => {
    const siblings = known
      .filter((k) => k.startsWith(prefix) && !k.slice(prefix.length).includes("."))
      .map((k) => k.slice(prefix.length));
    const parents = new Set(
      known.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length).split(".")[0] as string),
    );
    for (const [name, value] of Object.entries(table)) {
      if (!value || typeof value !== "object" || Array.isArray(value)) continue;
      if (parents.has(name)) {
        // A parent of known sections that is not one itself ([optimization]): look inside.
        if (!siblings.includes(name)) visit(value as Record<string, unknown>, `${prefix}${name}.`);
        continue;
      }
      if (prefix === "" && VT_CODE_SECTIONS.has(name)) continue;
      const near = nearestName(name, [...parents]);
      if (near === undefined) continue;
      const full = `${prefix}${name}`;
      warnings.push(
        `${at(findSectionLine(text, full))}unknown section [${full}] ignored; did you mean [${prefix}${near}]?`,
      );
    }
  };
  visit(doc, "");
  return warnings;
}

/** 1-based line of the `[section]` header, for messages. */
function findSectionLine(text: string, section: string): number | undefined {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[+\s*([^\]]+?)\s*\]+/.exec(lines[i] ?? "");
    if (header && (header[1] ?? "").replace(/\s+/g, "") === section) return i + 1;
  }
  return undefined;
}

const STRICTNESS: Record<Policy, number> = { allow: 0, prompt: 1, deny: 2 };

/**
 * `[tools.policies]` keys to canonical tool names (name or alias, any case). Two keys for one
 * tool that disagree are an error naming both; a key that names no tool is kept as written, with
 * a warning and the nearest name.
 */
function canonicalPolicies(
  raw: Record<string, Policy>,
  lineOf: (key: string) => number | undefined,
  problems: string[],
  warnings: string[],
): Record<string, Policy> {
  const result: Record<string, Policy> = {};
  const writtenAs = new Map<string, string>();
  for (const [key, policy] of Object.entries(raw)) {
    const canonical = canonicalToolName(key);
    if (canonical === undefined) {
      warnings.push(
        `${at(lineOf(key))}tools.policies.${key} names no toold tool, so it only applies to a tool of that exact name${suggestion(key, allToolNames())}`,
      );
    }
    const name = canonical ?? key;
    const earlier = writtenAs.get(name);
    if (earlier !== undefined && result[name] !== policy) {
      const where = (k: string) => {
        const line = lineOf(k);
        return line === undefined ? "" : ` (line ${line})`;
      };
      problems.push(
        `${at(lineOf(key))}tools.policies.${earlier} = "${result[name]}"${where(earlier)} and tools.policies.${key} = "${policy}"${where(key)} name the same tool (${name}) but disagree; keep one of them`,
      );
      // Whatever happens next, never let the weaker of the two stand.
      if (STRICTNESS[policy] > STRICTNESS[result[name] as Policy]) result[name] = policy;
      continue;
    }
    writtenAs.set(name, key);
    result[name] = policy;
  }
  return result;
}

/** Parses and validates TOML text. Throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): LoadedConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0];
      throw new ConfigError(file, [`line ${err.line}, column ${err.column}: TOML syntax error: ${first}`]);
    }
    throw err;
  }
  const problems: string[] = [];
  const warnings: string[] = misspeltSections(doc, text);
  const values = new Map<string, Record<string, unknown>>();
  let userPolicies: Record<string, Policy> = {};
  for (const [sectionName, keys] of Object.entries(CONFIG_SECTIONS) as [string, Record<string, KeySpec>][]) {
    const raw = lookup(doc, sectionName);
    if (raw === undefined) continue;
    const where = (k: string) => at(findKeyLine(text, sectionName, k));
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${where(sectionName)}[${sectionName}] must be a table (got ${describe(raw)})`);
      continue;
    }
    const accepted: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      const spec = keys[k];
      if (!spec) {
        // A nested table of a known parent (e.g. [tools.policies]) is its own key, not unknown.
        const isSubSection = Object.keys(CONFIG_SECTIONS).includes(`${sectionName}.${k}`);
        if (!isSubSection) {
          warnings.push(
            `${where(k)}unknown key ${sectionName}.${k} ignored${suggestion(k, Object.keys(keys))}`,
          );
        }
        continue;
      }
      const entrySchema = recordValueSchema(spec);
      if (entrySchema && v && typeof v === "object" && !Array.isArray(v) && !Value.Check(spec.schema, v)) {
        // A table of entries ([tools.policies]): name the bad entry and its own line.
        for (const [entry, ev] of Object.entries(v)) {
          if (Value.Check(entrySchema, ev)) continue;
          const line = findKeyLine(text, `${sectionName}.${k}`, entry) ?? findKeyLine(text, sectionName, k);
          problems.push(
            `${at(line)}${sectionName}.${k}.${entry} must be ${entryExpect(spec)} (got ${describe(ev)})`,
          );
        }
        continue;
      }
      if (!Value.Check(spec.schema, v)) {
        problems.push(`${where(k)}${sectionName}.${k} must be ${spec.expect} (got ${describe(v)})`);
        continue;
      }
      accepted[k] = v;
    }
    if (sectionName === "tools" && accepted.policies !== undefined) {
      userPolicies = canonicalPolicies(
        accepted.policies as Record<string, Policy>,
        (key) => findKeyLine(text, "tools.policies", key) ?? findKeyLine(text, "tools", "policies"),
        problems,
        warnings,
      );
      delete accepted.policies;
    }
    if (sectionName === "commands") {
      // A regex that does not compile would otherwise fail every run_terminal_cmd call later.
      for (const key of ["allow_regex", "deny_regex"] as const) {
        ((accepted[key] as string[] | undefined) ?? []).forEach((source, index) => {
          try {
            compileRegex(source);
          } catch (err) {
            problems.push(
              `${where(key)}commands.${key}[${index}] ${describe(source)} is not a valid regex (RE2 syntax): ${(err as Error).message}`,
            );
          }
        });
      }
    }
    values.set(sectionName, accepted);
  }
  // In the file's order, so a reader can walk down it.
  const byLine = (a: string, b: string) => lineNumber(a) - lineNumber(b);
  problems.sort(byLine);
  warnings.sort(byLine);
  if (problems.length > 0) throw new ConfigError(file, problems, warnings);
  return { config: buildConfig(values, userPolicies), file, warnings };
}

/**
 * Why `vtcode.toml` could not be read, as a ConfigError; or undefined when it is simply absent
 * (then the defaults apply). A link whose target is gone is a broken config, not an absent one:
 * never fall back to defaults for it.
 */
function readError(file: string, err: unknown, isLink: boolean): ConfigError | undefined {
  if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
    return new ConfigError(file, [`cannot be read: ${(err as Error).message}`]);
  }
  return isLink
    ? new ConfigError(file, ["is a symlink whose target does not exist; fix or remove the link"])
    : undefined;
}

/** Reads `<root>/vtcode.toml`; a missing file gives the defaults. */
export async function loadConfig(workspaceRoot: string): Promise<LoadedConfig> {
  const file = path.join(workspaceRoot, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const isLink = await lstat(file).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    const error = readError(file, err, isLink);
    if (error) throw error;
    return { config: defaultConfig(), file: undefined, warnings: [] };
  }
  return parseConfig(text, file);
}

/**
 * `toold config check`: validates `<root>/vtcode.toml` without a daemon. `errors` and
 * `warnings` are one line each (`line N: …`), the path is in `file`; no file is no error.
 */
export function checkConfigFile(root: string): { file: string; errors: string[]; warnings: string[] } {
  const file = path.join(root, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    let isLink = false;
    try {
      isLink = lstatSync(file).isSymbolicLink();
    } catch {
      // absent: not a link
    }
    const error = readError(file, err, isLink);
    return { file, errors: error ? [...error.problems] : [], warnings: [] };
  }
  try {
    return { file, errors: [], warnings: [...parseConfig(text, file).warnings] };
  } catch (err) {
    if (err instanceof ConfigError) return { file, errors: [...err.problems], warnings: [...err.warnings] };
    throw err;
  }
}
