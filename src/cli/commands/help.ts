/** `toold help [COMMAND]`. */
import { EXIT, UsageError, type Command } from "../command.js";
import { commandUsage, globalUsage } from "../help.js";
import { didYouMean } from "../suggest.js";

export const help: Command = {
  name: "help",
  usage: "help [COMMAND]",
  summary: "the commands, or one command's usage, options and examples",
  options: {},
  examples: ["toold help", "toold help call"],
  async run({ args, commands }) {
    const [name] = args;
    if (name === undefined) {
      process.stdout.write(globalUsage(commands));
      return EXIT.ok;
    }
    const entry = commands.find((c) => c.name === name);
    if (!entry)
      throw new UsageError(
        `unknown command "${name}"${didYouMean(
          name,
          commands.map((c) => c.name),
        )}; run \`toold help\` for the list`,
      );
    process.stdout.write(commandUsage(await entry.load()));
    return EXIT.ok;
  },
};
