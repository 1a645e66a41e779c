/** `toold logs [-f] [-n LINES] [--json]`: the daemon's log, one readable line per record. */
import { EXIT, fail, positiveNumber, untilInterrupted, type Command } from "../command.js";
import { workspaceRecord } from "../registry.js";

export const logs: Command = {
  name: "logs",
  usage: "logs [-f] [-n LINES] [--json]",
  summary: "the daemon's log, one line per record (default the last 50)",
  details: "Reads the rotated files too, oldest first. Never starts a daemon.",
  options: {
    follow: {
      type: "boolean",
      short: "f",
      description: "keep printing new records (across rotations) until Ctrl-C",
    },
    lines: {
      type: "string",
      short: "n",
      value: "LINES",
      description: 'records to print first (default 50; "all")',
    },
    json: { type: "boolean", description: "print the raw JSON records" },
  },
  examples: ["toold logs", "toold logs -f", "toold logs -n all --json | jq 'select(.level >= 50)'"],
  async run({ values, globals }) {
    // The daemon's own record says where it logs (it may run with another environment's paths).
    const record = await workspaceRecord(globals);
    const file = record.live?.logFile ?? record.last?.logFile ?? record.files.log;
    const json = values.json === true;
    const lines =
      values.lines === "all" ? Infinity : values.lines === "0" ? 0 : positiveNumber(values.lines, "-n", 50);
    const [{ showLogs }, { formatLogLine }] = await Promise.all([
      import("../logs.js"),
      import("../format.js"),
    ]);
    const found = await untilInterrupted((signal) =>
      showLogs({
        file,
        maxRotated: 100,
        lines,
        follow: values.follow === true,
        signal,
        emit: (line) => process.stdout.write(`${json ? line : formatLogLine(line)}\n`),
      }),
    );
    if (found === "missing") {
      return fail(
        `no log at ${file}: the daemon has not run for this workspace, or runs with --foreground (it logs to its stderr)`,
        EXIT.toolError,
      );
    }
    return EXIT.ok;
  },
};
