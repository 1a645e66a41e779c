/** `toold config get [--json]`, `toold config reload`. */
import { ErrorCodes, resolveTarget, RpcError } from "../../client/index.js";
import {
  connectOptions,
  EXIT,
  fail,
  printConfigWarnings,
  printJson,
  UsageError,
  withClient,
  type Command,
} from "../command.js";
import { didYouMean } from "../suggest.js";

const SUBCOMMANDS = ["get", "reload", "check"];

/** `config check`: validates vtcode.toml here, with no daemon; exit 1 when it is invalid. */
async function check(workspace: string, json: boolean): Promise<number> {
  // Loaded only here: the schema library is the daemon's, not every command's.
  const { checkConfigFile } = await import("../../config/load.js");
  const { file, errors, warnings } = checkConfigFile(workspace);
  const { existsSync } = await import("node:fs");
  const present = existsSync(file);
  if (json) printJson({ file, present, ok: errors.length === 0, errors, warnings });
  else if (errors.length > 0) {
    process.stderr.write(`toold: ${file} is invalid:\n  ${errors.join("\n  ")}\n`);
    if (warnings.length > 0) process.stderr.write(`toold: warnings:\n  ${warnings.join("\n  ")}\n`);
  } else {
    printConfigWarnings({ file, warnings });
    process.stdout.write(present ? `${file}: ok\n` : `no ${file}: the defaults apply\n`);
  }
  return errors.length === 0 ? EXIT.ok : EXIT.toolError;
}

export const config: Command = {
  name: "config",
  usage: "config get [--json] | config reload | config check [--json]",
  summary: "the effective configuration (get), re-read vtcode.toml (reload), or validate it (check)",
  details: [
    "get     prints the daemon's effective config as JSON (starting the daemon when none answers)",
    "reload  re-reads vtcode.toml; exit 1 with the reasons when it is invalid (the old config stays)",
    "check   validates vtcode.toml without a daemon: errors and warnings (unknown keys with the",
    "        nearest known one), one per line; exit 1 when it is invalid",
  ].join("\n"),
  options: { json: { type: "boolean", description: "print JSON (get always does)" } },
  examples: ["toold config get", "toold config reload", "toold config check"],
  async run({ args, values, globals }) {
    const [sub, ...extra] = args;
    if (extra.length > 0) throw new UsageError(`config ${sub} takes no arguments, got "${extra.join(" ")}"`);
    if (sub === "get") {
      printJson(await withClient(globals, true, (c) => c.config()));
      return EXIT.ok;
    }
    if (sub === "check") return check(resolveTarget(connectOptions(globals)).workspace, values.json === true);
    if (sub === "reload") {
      try {
        printConfigWarnings((await withClient(globals, false, (c) => c.reloadConfig())).configWarnings);
      } catch (err) {
        if (err instanceof RpcError && err.code === ErrorCodes.ConfigInvalid)
          return fail(err.message, EXIT.toolError);
        throw err;
      }
      process.stdout.write("config reloaded\n");
      return EXIT.ok;
    }
    throw new UsageError(
      sub === undefined
        ? `config needs one of: ${SUBCOMMANDS.join(", ")}; see \`toold help config\``
        : `unknown config command "${sub}"${didYouMean(sub, SUBCOMMANDS)}; the commands are ${SUBCOMMANDS.join(", ")}`,
    );
  },
};
