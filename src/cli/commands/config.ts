/** `toold config get [--json]`, `toold config reload`. */
import { ErrorCodes, RpcError } from "../../client/index.js";
import {
  EXIT,
  fail,
  printConfigWarnings,
  printJson,
  UsageError,
  withClient,
  type Command,
} from "../command.js";
import { didYouMean } from "../suggest.js";

const SUBCOMMANDS = ["get", "reload"];

export const config: Command = {
  name: "config",
  usage: "config get [--json] | config reload",
  summary: "the effective configuration (get), or re-read vtcode.toml (reload)",
  details: [
    "get     prints the daemon's effective config as JSON (starting the daemon when none answers)",
    "reload  re-reads vtcode.toml; exit 1 with the reasons when it is invalid (the old config stays)",
  ].join("\n"),
  options: { json: { type: "boolean", description: "print JSON (get always does)" } },
  examples: ["toold config get", "toold config reload"],
  async run({ args, globals }) {
    const [sub, ...extra] = args;
    if (extra.length > 0) throw new UsageError(`config ${sub} takes no arguments, got "${extra.join(" ")}"`);
    if (sub === "get") {
      printJson(await withClient(globals, true, (c) => c.config()));
      return EXIT.ok;
    }
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
