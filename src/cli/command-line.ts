/**
 * The full `toold` command line: finds the command name, parses that command's own options (and
 * the global ones; anything else is refused), and runs its module from src/cli/commands/. The
 * program (main.ts) comes here for everything the quick `toold call` path (quick-call.ts) does not take.
 */
import { parseArgs } from "node:util";
import { unsupportedPlatform } from "../workspace/locate.js";
import { VERSION } from "../version.js";
import {
  EXIT,
  fail,
  GLOBAL_OPTIONS,
  globalsOf,
  UsageError,
  type Command,
  type OptionValues,
} from "./command.js";
import { COMMANDS } from "./commands/index.js";
import { failWith } from "./failure.js";
import { didYouMean } from "./suggest.js";

/** Global options that take a value: their value is not the command name. */
const GLOBAL_VALUED = new Set(
  Object.entries(GLOBAL_OPTIONS)
    .filter(([, o]) => o.type === "string")
    .map(([name]) => `--${name}`),
);

/** Splits off the command name: the first argument that is neither an option nor a global option's value. */
export function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
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

export function parseOptions(cmd: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
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
export async function runCommandLine(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    return failWith(err);
  }
}
