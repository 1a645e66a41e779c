/** `toold status [--json]`: the daemon of this workspace (exit 3 when none runs). */
import { EXIT, printJson, withClient, type Command } from "../command.js";

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
    const s = await withClient(globals, false, (c) => c.status());
    if (values.json === true) printJson(s);
    else {
      process.stdout.write(
        `toold ${s.version} running\n  pid          ${s.pid}\n  uptime       ${formatDuration(s.uptimeMs)}\n  workspace    ${s.workspace}\n  socket       ${s.socket}\n  connections  ${s.connections}\n${s.logFile ? `  log          ${s.logFile}\n` : ""}`,
      );
    }
    return EXIT.ok;
  },
};
