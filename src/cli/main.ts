#!/usr/bin/env node
/**
 * The `toold` command: finds the command name, parses that command's own options (and the global
 * ones; anything else is refused), and runs its module from src/cli/commands/. Kept lean: a one-off
 * `toold call` loads only the client (node builtins and the NDJSON peer) and the call module,
 * never the daemon, pino or the schema library. Importing this module runs nothing; only running
 * it as the program does.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  ConnectionClosedError,
  DaemonStartError,
  DaemonUnreachableError,
  ErrorCodes,
  RpcError,
} from "../client/index.js";
import { VERSION } from "../version.js";
import { unsupportedPlatform, WorkspaceError } from "../workspace/locate.js";
import {
  EXIT,
  fail,
  GLOBAL_OPTIONS,
  globalsOf,
  UsageError,
  type Command,
  type OptionSpec,
  type OptionValues,
} from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { didYouMean } from "./suggest.js";

export { EXIT };

/** Global options that take a value: their value is not the command name. */
const GLOBAL_VALUED = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === "string")
    .map(([name]) => `--${name}`),
);

/** Splits off the command name: the first argument that is neither an option nor a global option's value. */
function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") break;
    if (GLOBAL_VALUED.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith("-")) continue;
    return { name: arg, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

function parseOptions(cmd: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
  const options: Record<string, { type: "boolean" | "string"; short?: string }> = {};
  for (const [name, o] of Object.entries({ ...GLOBAL_OPTIONS, ...cmd.options })) {
    options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  }
  const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  return { values: values as OptionValues, positionals };
}

/** `--prometheus` given to `call`: say whose option it is and where the help is. */
async function unknownOption(cmd: Command, err: Error): Promise<never> {
  const match = /Unknown option '(-{1,2})([^']+)'/.exec(err.message);
  if (!match) throw new UsageError(`${cmd.name}: ${err.message}`);
  const [, dashes, name] = match;
  const owners: string[] = [];
  const known: string[] = [...Object.keys(GLOBAL_OPTIONS), ...Object.keys(cmd.options)];
  for (const entry of COMMANDS) {
    if (entry.name === cmd.name) continue;
    const other = await entry.load();
    const owns = Object.entries(other.options).some(([long, o]) =>
      dashes === "--" ? long === name : o.short === name,
    );
    if (owns) owners.push(`toold ${entry.name}`);
  }
  const whose = owners.length > 0 ? ` (it is an option of ${owners.join(", ")})` : "";
  const near = dashes === "--" ? didYouMean(name!, known).replace(/"([^"]+)"/g, '"--$1"') : "";
  throw new UsageError(
    `${cmd.name} does not take ${dashes}${name}${whose}${near}; see \`toold help ${cmd.name}\``,
  );
}

async function run(argv: string[]): Promise<number> {
  const unsupported = unsupportedPlatform();
  if (unsupported) return fail(unsupported, EXIT.toolError);
  const { name, rest } = splitCommand(argv);
  if (name === undefined) {
    if (rest.includes("-v") || rest.includes("--version")) {
      process.stdout.write(`${VERSION}\n`);
      return EXIT.ok;
    }
    const { globalUsage } = await import("./help.js");
    const asked = rest.includes("-h") || rest.includes("--help");
    (asked ? process.stdout : process.stderr).write(globalUsage(COMMANDS));
    return asked ? EXIT.ok : EXIT.usage;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    throw new UsageError(
      `unknown command "${name}"${didYouMean(
        name,
        COMMANDS.map((c) => c.name),
      )}; run \`toold help\` for the list`,
    );
  }
  const cmd = await entry.load();
  let parsed;
  try {
    parsed = parseOptions(cmd, rest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
      return unknownOption(cmd, err as Error);
    if ((err as NodeJS.ErrnoException).code?.startsWith?.("ERR_PARSE_ARGS"))
      throw new UsageError(`${cmd.name}: ${(err as Error).message}; see \`toold help ${cmd.name}\``);
    throw err;
  }
  if (parsed.values.help === true) {
    const { commandUsage } = await import("./help.js");
    process.stdout.write(commandUsage(cmd));
    return EXIT.ok;
  }
  return cmd.run({
    commands: COMMANDS,
    values: parsed.values,
    args: parsed.positionals,
    globals: globalsOf(parsed.values),
  });
}

/** Runs the command line and returns the exit code; errors become one line on stderr. */
export async function cli(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError || err instanceof WorkspaceError) return fail(err.message, EXIT.usage);
    if (err instanceof DaemonUnreachableError) return fail(err.message, EXIT.unreachable);
    if (err instanceof DaemonStartError)
      return fail(`could not start the daemon: ${err.message}`, EXIT.unreachable);
    if (err instanceof ConnectionClosedError) return fail(err.message, EXIT.unreachable);
    if (err instanceof RpcError) {
      const usage = err.code === ErrorCodes.InvalidParams || err.code === ErrorCodes.MethodNotFound;
      return fail(err.message, usage ? EXIT.usage : EXIT.toolError);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "ECONNREFUSED" || code === "ENOENT") {
      return fail(`cannot reach the daemon: ${(err as Error).message}`, EXIT.unreachable);
    }
    return fail(`error: ${(err as Error).message}`, EXIT.toolError);
  }
}

/** True when this module is the program (`toold`, `node dist/cli/main.js`), through any symlink. */
function isProgram(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const exitCode = await cli(process.argv.slice(2));
  // Let stdout drain before exiting (a pipe may be slow).
  process.stdout.write("", () => process.exit(exitCode));
}

export type { OptionSpec };
