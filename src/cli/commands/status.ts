/** `toold status [--json]`: the daemon of this workspace (exit 3 when none runs). */
import { DaemonUnreachableError } from "../../client/index.js";
import { EXIT, fail, printJson, withClient, type Command } from "../command.js";
import { describeLastRun, workspaceRecord } from "../registry.js";

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const parts = [
    Math.floor(s / 86400) && `${Math.floor(s / 86400)}d`,
    Math.floor(s / 3600) % 24 && `${Math.floor(s / 3600) % 24}h`,
    Math.floor(s / 60) % 60 && `${Math.floor(s / 60) % 60}m`,
    `${s % 60}s`,
  ];
  return parts.filter(Boolean).join(" ");
}

export const status: Command = {
  name: "status",
  usage: "status [--json]",
  summary: "pid, version, uptime, workspace, socket and connections of the daemon",
  details: "Exit 0 when it runs, 3 when it does not. Never starts a daemon.",
  options: { json: { type: "boolean", description: "print JSON" } },
  examples: ["toold status", "toold status --json | jq .pid"],
  async run({ values, globals }) {
    let s;
    try {
      s = await withClient(globals, false, (c) => c.status());
    } catch (err) {
      if (!(err instanceof DaemonUnreachableError)) throw err;
      // Say what became of the last daemon (and clean up after one that died).
      const { live, last } = await workspaceRecord(globals);
      if (live?.phase === "starting")
        return fail(
          `toold is starting for ${live.workspace} (pid ${live.pid}); try again in a moment`,
          EXIT.unreachable,
        );
      if (!last) throw err;
      return fail(`toold is not running for ${last.workspace}: ${describeLastRun(last)}`, EXIT.unreachable);
    }
    if (values.json === true) printJson(s);
    else {
      process.stdout.write(
        `toold ${s.version} running\n  pid          ${s.pid}\n  uptime       ${formatDuration(s.uptimeMs)}\n  workspace    ${s.workspace}\n  socket       ${s.socket}\n  connections  ${s.connections}\n${s.logFile ? `  log          ${s.logFile}\n` : ""}`,
      );
    }
    return EXIT.ok;
  },
};
