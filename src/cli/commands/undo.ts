/** `toold undo [ID] [--force]`: restores every path of a journal entry, all or nothing. */
import { EXIT, printJson, UsageError, withClient, type Command } from "../command.js";

export const undo: Command = {
  name: "undo",
  usage: "undo [ID] [--force] [--json]",
  summary: "take back a change made through toold (default the newest)",
  details:
    "Restores every path of the journal entry ID (see `toold history`) as it was before, all or nothing. " +
    "If a path changed since the entry, nothing is restored and the file is named (exit 1); --force restores anyway. " +
    "The undo is itself an entry: `toold undo` again redoes.",
  options: {
    force: { type: "boolean", description: "restore even when a path changed since the entry" },
    json: { type: "boolean", description: "print the journal/undo answer as JSON" },
  },
  examples: ["toold undo", "toold undo 12", "toold undo 12 --force"],
  async run({ values, args, globals }) {
    if (args.length > 1)
      throw new UsageError(`undo takes one entry id, got ${args.length}: ${args.join(" ")}`);
    let id: number | undefined;
    if (args[0] !== undefined) {
      id = Number(args[0]);
      if (!/^[1-9][0-9]*$/.test(args[0]) || !Number.isSafeInteger(id)) {
        throw new UsageError(
          `"${args[0]}" is not an entry id: \`toold history\` lists them (e.g. toold undo 3)`,
        );
      }
    }
    const result = await withClient(globals, true, (c) =>
      c.undo({ ...(id !== undefined ? { id } : {}), ...(values.force === true ? { force: true } : {}) }),
    );
    if (values.json === true) printJson(result);
    else {
      const redo =
        result.changeId !== undefined
          ? ` (toold undo ${result.changeId} redoes it)`
          : " (nothing had to change)";
      process.stdout.write(`Undid ${result.undone}: restored ${result.paths.join(", ")}${redo}\n`);
    }
    return EXIT.ok;
  },
};
