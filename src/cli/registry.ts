/**
 * What the CLI reads from the per-user registry without a daemon: where this workspace's daemon
 * runs (or ran), its log, and how the last one ended. A dead owner found here is recorded as died
 * and its leftovers (state file, stale socket) removed.
 */
import { resolveTarget } from "../client/index.js";
import { runtimeFiles, type RuntimeFiles } from "../workspace/locate.js";
import {
  buryDeadOwner,
  isOwnerServing,
  readLastRun,
  readState,
  type DaemonState,
  type LastRun,
} from "../workspace/registry.js";
import { connectOptions, type Globals } from "./command.js";

export interface WorkspaceRecord {
  workspace: string;
  files: RuntimeFiles;
  /** The daemon serving the workspace now, if any. */
  live?: DaemonState;
  /** The last daemon that ended (stopped, or found dead just now or before). */
  last?: LastRun;
}

export async function workspaceRecord(
  g: Globals,
  env: NodeJS.ProcessEnv = process.env,
): Promise<WorkspaceRecord> {
  const target = resolveTarget(connectOptions(g));
  const files = runtimeFiles(target.workspace, target.socket, env);
  const state = readState(files.state);
  if (state && (await isOwnerServing(state))) return { workspace: target.workspace, files, live: state };
  const last = state ? await buryDeadOwner(files.state, files.last, state) : readLastRun(files.last);
  return { workspace: target.workspace, files, ...(last ? { last } : {}) };
}

/** "the last daemon (pid 123) died around 14:02:11 (its last sign of life); log: …". */
export function describeLastRun(last: LastRun): string {
  const when = new Date(last.endedAt).toLocaleString();
  const how =
    last.ended === "died"
      ? `died around ${when} (its last sign of life; it did not stop cleanly: killed or crashed)`
      : `stopped at ${when}${last.reason ? ` (${last.reason})` : ""}`;
  return `the last daemon (pid ${last.pid}, ${last.version}) ${how}${last.logFile ? `; its log: ${last.logFile}` : ""}`;
}
