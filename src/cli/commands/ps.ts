/** `toold ps [--json]`: every daemon of this user, from the per-user registry. */
import { readFileSync } from "node:fs";
import { ToolDClient } from "../../client/index.js";
import { runtimeDir, runtimeFiles } from "../../workspace/locate.js";
import { buryDeadOwner, isOwnerServing, listStates, type DaemonState } from "../../workspace/registry.js";
import { VERSION } from "../../version.js";
import { EXIT, printJson, type Command } from "../command.js";
import { formatBytes } from "../format.js";
import { formatDuration } from "./status.js";

export interface DaemonRow {
  workspace: string;
  pid: number;
  /** null while it is still starting (it does not answer yet). */
  uptimeMs: number | null;
  rssBytes: number | null;
  socket: string;
  version: string;
  phase: DaemonState["phase"];
  connections: number | null;
  logFile: string | null;
}

/** Resident memory from /proc (Linux), so a busy daemon need not answer to be listed. */
function rssOf(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The live daemons of the registry; dead entries found on the way are recorded as died and
 * cleaned (their stale sockets too), as `status` does.
 */
export async function liveDaemons(env: NodeJS.ProcessEnv = process.env): Promise<DaemonRow[]> {
  const rows: DaemonRow[] = [];
  for (const { file, state } of listStates(runtimeDir(env))) {
    if (!(await isOwnerServing(state))) {
      const files = runtimeFiles(state.workspace, state.socket, env);
      if (files.state === file) await buryDeadOwner(file, files.last, state);
      continue;
    }
    let status: { uptimeMs: number; connections: number } | undefined;
    let rss = rssOf(state.pid);
    if (state.phase === "ready") {
      try {
        const client = await ToolDClient.connect({
          workspace: state.workspace,
          socket: state.socket,
          autoStart: false,
          restartOnVersionMismatch: false,
          clientInfo: { name: "toold-ps", version: VERSION },
        });
        try {
          status = await client.status();
          rss ??= (await client.stats()).process.rssBytes;
        } finally {
          client.close();
        }
      } catch {
        /* listed without the live numbers */
      }
    }
    rows.push({
      workspace: state.workspace,
      pid: state.pid,
      uptimeMs: status?.uptimeMs ?? null,
      rssBytes: rss,
      socket: state.socket,
      version: state.version,
      phase: state.phase,
      // Not counting this very connection.
      connections: status ? Math.max(0, status.connections - 1) : null,
      logFile: state.logFile,
    });
  }
  return rows.sort((a, b) => a.workspace.localeCompare(b.workspace));
}

function table(rows: DaemonRow[]): string {
  const cells = [
    ["PID", "UPTIME", "RSS", "CONN", "VERSION", "WORKSPACE", "SOCKET"],
    ...rows.map((r) => [
      String(r.pid),
      r.uptimeMs === null ? r.phase : formatDuration(r.uptimeMs),
      r.rssBytes === null ? "-" : formatBytes(r.rssBytes),
      r.connections === null ? "-" : String(r.connections),
      r.version,
      r.workspace,
      r.socket,
    ]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return (
    cells
      .map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  "))
      .join("\n") + "\n"
  );
}

export const ps: Command = {
  name: "ps",
  usage: "ps [--json]",
  summary: "every daemon of this user: workspace, pid, uptime, memory, socket, version",
  details:
    "Reads the per-user registry (/tmp/toold-<uid>, or $TOOLD_RUNTIME_DIR), so it lists daemons started\nfrom any environment (a shell, an MCP host, an editor). Never starts a daemon.",
  options: { json: { type: "boolean", description: "print a JSON array" } },
  examples: ["toold ps", "toold ps --json | jq -r '.[].workspace'"],
  async run({ values }) {
    const rows = await liveDaemons();
    if (values.json === true) printJson(rows);
    else if (rows.length === 0) process.stdout.write("no toold daemon is running\n");
    else process.stdout.write(table(rows));
    return EXIT.ok;
  },
};
