/**
 * Reads vtcode.toml once, validates every key toold knows with one message per bad key (file,
 * line, key, what was expected), and returns a deep-frozen Config. A reload builds a new object;
 * on any error the caller keeps the old one.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { parse as parseToml, TomlError } from "smol-toml";
import { CONFIG_SECTIONS, type Config, type KeySpec } from "./schema.js";
import { compileRegex } from "../support/regex.js";

export const CONFIG_FILE_NAME = "vtcode.toml";

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid ${file}:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

export interface LoadedConfig {
  readonly config: Config;
  /** Absolute path of the file read, or undefined when there is none (defaults). */
  readonly file: string | undefined;
  /** Unknown keys in known sections, one line each. */
  readonly warnings: readonly string[];
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

function buildConfig(values: Map<string, Record<string, unknown>>): Config {
  const section = (name: keyof typeof CONFIG_SECTIONS) => ({
    ...sectionDefaults(CONFIG_SECTIONS[name]),
    ...values.get(name),
  });
  return deepFreeze({
    optimization: {
      tool_registry: section("optimization.tool_registry"),
      memory_pool: section("optimization.memory_pool"),
    },
    tools: {
      ...section("tools"),
      // Per-tool entries add to the defaults rather than replacing the whole table.
      policies: {
        ...(CONFIG_SECTIONS.tools.policies.default as object),
        ...(values.get("tools")?.policies ?? {}),
      },
    },
    commands: section("commands"),
    cache: section("cache"),
    journal: section("journal"),
    feed: section("feed"),
    daemon: section("daemon"),
  }) as unknown as Config;
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

/** Parses and validates TOML text. Throws ConfigError listing every problem. */
export function parseConfig(text: string, file: string): LoadedConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof TomlError) {
      const first = err.message.split("\n")[0];
      throw new ConfigError(file, [`${file}:${err.line}:${err.column}: TOML syntax error: ${first}`]);
    }
    throw err;
  }
  const problems: string[] = [];
  const warnings: string[] = [];
  const values = new Map<string, Record<string, unknown>>();
  for (const [sectionName, keys] of Object.entries(CONFIG_SECTIONS) as [string, Record<string, KeySpec>][]) {
    const raw = lookup(doc, sectionName);
    if (raw === undefined) continue;
    const where = (k: string) => {
      const line = findKeyLine(text, sectionName, k);
      return line === undefined ? file : `${file}:${line}`;
    };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      problems.push(`${where(sectionName)}: [${sectionName}] must be a table (got ${describe(raw)})`);
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
            `${where(k)}: unknown key ${sectionName}.${k} ignored (known: ${Object.keys(keys).join(", ")})`,
          );
        }
        continue;
      }
      const entrySchema = recordValueSchema(spec);
      if (entrySchema && v && typeof v === "object" && !Array.isArray(v) && !Value.Check(spec.schema, v)) {
        // A table of entries ([tools.policies]): name the bad entry and its own line.
        for (const [entry, ev] of Object.entries(v)) {
          if (Value.Check(entrySchema, ev)) continue;
          const line = findKeyLine(text, `${sectionName}.${k}`, entry);
          problems.push(
            `${line === undefined ? where(k) : `${file}:${line}`}: ${sectionName}.${k}.${entry} must be ${entryExpect(spec)} (got ${describe(ev)})`,
          );
        }
        continue;
      }
      if (!Value.Check(spec.schema, v)) {
        problems.push(`${where(k)}: ${sectionName}.${k} must be ${spec.expect} (got ${describe(v)})`);
        continue;
      }
      accepted[k] = v;
    }
    if (sectionName === "commands") {
      // A regex that does not compile would otherwise fail every run_terminal_cmd call later.
      for (const key of ["allow_regex", "deny_regex"] as const) {
        ((accepted[key] as string[] | undefined) ?? []).forEach((source, index) => {
          try {
            compileRegex(source);
          } catch (err) {
            problems.push(
              `${where(key)}: commands.${key}[${index}] ${describe(source)} is not a valid regex (RE2 syntax): ${(err as Error).message}`,
            );
          }
        });
      }
    }
    values.set(sectionName, accepted);
  }
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { config: buildConfig(values), file, warnings };
}

/** Reads `<root>/vtcode.toml`; a missing file gives the defaults. */
export async function loadConfig(workspaceRoot: string): Promise<LoadedConfig> {
  const file = path.join(workspaceRoot, CONFIG_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      // A link whose target is gone is a broken config, not an absent one: never fall back to defaults.
      const dangling = await lstat(file).then(
        (st) => st.isSymbolicLink(),
        () => false,
      );
      if (dangling) {
        throw new ConfigError(file, [
          `${file}: is a symlink whose target does not exist; fix or remove the link`,
        ]);
      }
      return { config: defaultConfig(), file: undefined, warnings: [] };
    }
    throw new ConfigError(file, [`${file}: cannot be read: ${(err as Error).message}`]);
  }
  return parseConfig(text, file);
}
