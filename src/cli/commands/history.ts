/** `toold history [--json] [-n N]`: the journal of changes made through toold, newest first. */
import type { JournalEntrySummary, JournalPathSummary } from "../../protocol/methods.js";
import { EXIT, positiveNumber, printJson, withClient, type Command } from "../command.js";

const pad = (n: number): string => String(n).padStart(2, "0");

/** Local time, to the second: what a user compares with their clock. */
function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** git-status letters: A created, D deleted, M modified, T type changed, ? unknown (interrupted). */
function letter(p: JournalPathSummary): string {
  if (p.after === "unknown") return "?";
  if (p.before === "missing") return "A";
  if (p.after === "missing") return "D";
  return p.before === p.after ? "M" : "T";
}

export function formatHistory(entries: readonly JournalEntrySummary[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    const what = e.undoes !== undefined ? `undo of ${e.undoes}` : e.tool;
    const flags = e.status === "interrupted" ? "  (interrupted: the daemon stopped during it)" : "";
    lines.push(`${e.id}  ${localTime(e.time)}  ${what}  ${e.client ?? "-"}${flags}`);
    for (const p of e.paths) {
      const folder = p.items !== undefined ? `/ (${p.items} entries)` : "";
      const blocked = p.undoable ? "" : `  (not undoable: ${p.reason ?? "not recorded"})`;
      lines.push(`    ${letter(p)} ${p.path}${folder}${blocked}`);
    }
  }
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

export const history: Command = {
  name: "history",
  usage: "history [--json] [-n N]",
  summary: "the journal of changes made through toold, newest first",
  details:
    "Each entry: its id (for `toold undo ID`), local time, the tool (or `undo of ID`), the client that made it, " +
    "and its paths with git-status letters (A created, D deleted, M modified, T type changed, ? interrupted). " +
    "Changes made by shell commands (run_terminal_cmd, exec_command) are not journaled. The journal keeps the newest entries " +
    "within [journal] max_bytes.",
  options: {
    json: { type: "boolean", description: "print the journal/list answer as JSON" },
    lines: { type: "string", short: "n", value: "N", description: "at most N entries (default all)" },
  },
  examples: ["toold history", "toold history -n 5", "toold history --json | jq '.entries[0].id'"],
  async run({ values, globals }) {
    const limit = values.lines === undefined ? undefined : Math.floor(positiveNumber(values.lines, "-n", 1));
    const result = await withClient(globals, true, (c) => c.journal(limit));
    if (values.json === true) {
      printJson(result);
      return EXIT.ok;
    }
    if (!result.enabled)
      process.stderr.write(`toold: the journal is off: ${result.reason ?? "unknown reason"}\n`);
    if (result.entries.length === 0) {
      process.stdout.write("no changes recorded\n");
      return EXIT.ok;
    }
    process.stdout.write(formatHistory(result.entries));
    return EXIT.ok;
  },
};
