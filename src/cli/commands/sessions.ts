/** `toold sessions [--json]`, `toold sessions kill ID`: the exec sessions the daemon holds. */
import { DaemonUnreachableError, ErrorCodes, RpcError, type ExecSessionInfo } from "../../client/index.js";
import { EXIT, fail, printJson, UsageError, withClient, type Command } from "../command.js";
import { escapeInvisible } from "../../support/display.js";
import { formatBytes } from "../format.js";
import { didYouMean } from "../suggest.js";
import { formatDuration } from "./status.js";

function statusOf(s: ExecSessionInfo): string {
  if (s.status === "running") return "running";
  return s.exit_code === null ? "exited (signal)" : `exited ${s.exit_code}`;
}

function table(sessions: readonly ExecSessionInfo[], now: number): string {
  const rows = [
    ["ID", "STATUS", "PID", "STARTED", "IDLE", "UNREAD", "CWD", "COMMAND"],
    ...sessions.map((s) => [
      String(s.session_id),
      statusOf(s),
      String(s.pid),
      `${formatDuration(now - Date.parse(s.started_at))} ago`,
      formatDuration(s.idle_ms),
      formatBytes(s.unread_bytes),
      s.cwd,
      `${s.tty ? "[tty] " : ""}${escapeInvisible(s.command)}`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const SUBCOMMANDS = ["kill"];

export const sessions: Command = {
  name: "sessions",
  usage: "sessions [--json] | sessions kill ID",
  summary: "the exec sessions the daemon holds (exec_command), or end one",
  details: [
    "(no command)  lists the sessions: id, running or exited (with the exit code), pid, when it",
    "              started, how long no call used it, output not read yet, folder and command.",
    "              An exited session stays listed until write_stdin reads its last output.",
    "kill ID       ends the session and every process it started (SIGTERM, then SIGKILL after",
    "              2 s); exit 1 when there is no such session.",
    "Never starts a daemon: with none running there are no sessions.",
  ].join("\n"),
  options: { json: { type: "boolean", description: "print JSON (the exec/sessions result)" } },
  examples: ["toold sessions", "toold sessions --json | jq '.[].session_id'", "toold sessions kill 48213"],
  async run({ args, values, globals }) {
    const [sub, id, ...extra] = args;
    if (sub === undefined) {
      let list: ExecSessionInfo[];
      try {
        list = await withClient(globals, false, (c) => c.sessions());
      } catch (err) {
        if (!(err instanceof DaemonUnreachableError)) throw err;
        list = [];
      }
      if (values.json === true) printJson(list);
      else process.stdout.write(list.length === 0 ? "no sessions\n" : `${table(list, Date.now())}\n`);
      return EXIT.ok;
    }
    if (sub !== "kill") {
      throw new UsageError(
        `unknown sessions command "${sub}"${didYouMean(sub, SUBCOMMANDS)}; the commands are ${SUBCOMMANDS.join(", ")} (or none, to list)`,
      );
    }
    if (extra.length > 0)
      throw new UsageError(`sessions kill takes one ID, got "${[id, ...extra].join(" ")}"`);
    const n = Number(id);
    if (id === undefined || !/^\d+$/.test(id) || !Number.isSafeInteger(n)) {
      throw new UsageError(
        id === undefined
          ? "sessions kill needs the session ID; `toold sessions` lists them"
          : `session ID must be a number, got "${id}"`,
      );
    }
    let ended: ExecSessionInfo;
    try {
      ended = await withClient(globals, false, (c) => c.killSession(n));
    } catch (err) {
      if (err instanceof DaemonUnreachableError)
        return fail(`no session ${n}: no daemon is running`, EXIT.toolError);
      if (err instanceof RpcError && err.code === ErrorCodes.InvalidParams) {
        return fail(err.message.replace(/^exec\/kill: /, ""), EXIT.toolError);
      }
      throw err;
    }
    if (values.json === true) printJson(ended);
    else process.stdout.write(`session ${n} ended (${ended.command}); no process of it remains\n`);
    return EXIT.ok;
  },
};
