/** Help text: the command list, and one command's usage, options and examples. */
import { GLOBAL_OPTIONS, type Command, type CommandEntry, type OptionSpec } from "./command.js";
import { VERSION } from "../version.js";

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, o]) => [
    `${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`,
    o.description,
  ]);
  const width = Math.max(0, ...rows.map(([left]) => left!.length));
  return rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`);
}

export function globalUsage(commands: readonly CommandEntry[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    `toold ${VERSION} — keeps a coding agent's tools warm`,
    "",
    "Usage: toold <command> [options]",
    "",
    "Commands:",
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    ...optionLines({
      ...GLOBAL_OPTIONS,
      version: { type: "boolean", short: "v", description: "the version" },
    }),
    "",
    "Run `toold help COMMAND` (or `toold COMMAND --help`) for a command's options and examples.",
    "",
  ].join("\n");
}

export function commandUsage(cmd: Command): string {
  const own = Object.keys(cmd.options).length > 0;
  return [
    `Usage: toold ${cmd.usage}`,
    "",
    cmd.summary.charAt(0).toUpperCase() + cmd.summary.slice(1) + ".",
    ...(cmd.details ? ["", cmd.details.trimEnd()] : []),
    ...(own ? ["", "Options:", ...optionLines(cmd.options)] : []),
    "",
    "Global options:",
    ...optionLines(GLOBAL_OPTIONS),
    "",
    cmd.examples.length > 1 ? "Examples:" : "Example:",
    ...cmd.examples.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
