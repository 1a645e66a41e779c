/**
 * What every `toold` command module shares: its declaration (options, help text, examples), the
 * global options, exit codes, and the small helpers that open a client. A command module only
 * declares and exports; src/cli/command-line.ts parses the command line and runs it.
 */
import type { ConfigWarnings, ConnectOptions, ToolDClient } from "../client/index.js";
import { VERSION } from "../version.js";

export const EXIT = { ok: 0, toolError: 1, usage: 2, unreachable: 3 } as const;

/** A mistake on the command line: printed on one line, exit 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: "boolean" | "string";
  short?: string;
  /** Shown in help after the option: `--interval SECS`. */
  value?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** A row of the command table (src/cli/commands/index.ts); modules load on demand. */
export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<Command>;
}

export interface CommandContext {
  /** The whole command table, for help and completion. */
  commands: readonly CommandEntry[];
  /** Parsed options (the command's own and the global ones). */
  values: OptionValues;
  /** Positional arguments after the command name. */
  args: string[];
  globals: Globals;
}

export interface Command {
  name: string;
  /** `call TOOL [ARGS]`: what follows `toold`. */
  usage: string;
  summary: string;
  /** Paragraphs after the usage line. */
  details?: string;
  options: Record<string, OptionSpec>;
  examples: string[];
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  workspace: {
    type: "string",
    value: "DIR",
    description: "workspace root (default: nearest ancestor with vtcode.toml or .git)",
  },
  socket: {
    type: "string",
    value: "PATH",
    description:
      "socket path (default: the running daemon's, else $TOOLD_SOCKET, else the per-user runtime folder)",
  },
  "no-start": { type: "boolean", description: "do not start the daemon when none answers" },
  help: { type: "boolean", short: "h", description: "this command's help" },
};

export interface Globals {
  workspace?: string | undefined;
  socket?: string | undefined;
  noStart: boolean;
}

export function globalsOf(values: OptionValues): Globals {
  return {
    workspace: typeof values.workspace === "string" ? values.workspace : undefined,
    socket: typeof values.socket === "string" ? values.socket : undefined,
    noStart: values["no-start"] === true,
  };
}

export function connectOptions(g: Globals, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    ...(g.workspace ? { workspace: g.workspace } : {}),
    ...(g.socket ? { socket: g.socket } : {}),
    autoStart: !g.noStart,
    clientInfo: { name: "toold-cli", version: VERSION },
    ...extra,
  };
}

export async function withClient<T>(
  g: Globals,
  autoStart: boolean,
  fn: (c: ToolDClient) => Promise<T>,
  extra: Partial<ConnectOptions> = {},
): Promise<T> {
  // Loaded here: the quick `toold call` path (quick-call.ts) uses this module without the client library.
  const { ToolDClient } = await import("../client/index.js");
  const client = await ToolDClient.connect({
    ...connectOptions(g, extra),
    autoStart: autoStart && !g.noStart,
  });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One line on stderr, prefixed `toold:`; returns the exit code. */
export function fail(message: string, code: number): number {
  // A config error is a heading and one indented line per problem: keep its lines.
  process.stderr.write(`toold: ${message.replace(/\n+$/, "")}\n`);
  return code;
}

export function positiveNumber(raw: unknown, option: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isFinite(n) || n <= 0)
    throw new UsageError(`${option} must be a positive number, got "${String(raw)}"`);
  return n;
}

/** Runs `fn` with a signal that Ctrl-C aborts. */
export async function untilInterrupted<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once("SIGINT", onSigint);
  try {
    return await fn(stop.signal);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** vtcode.toml's warnings on stderr: the path once, then one line each. */
export function printConfigWarnings(report: ConfigWarnings | undefined): void {
  if (!report || report.warnings.length === 0) return;
  process.stderr.write(`toold: warnings in ${report.file}:\n  ${report.warnings.join("\n  ")}\n`);
}
