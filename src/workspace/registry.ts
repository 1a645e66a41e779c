/**
 * The per-user registry of running daemons: one state file per workspace in the runtime folder
 * (`<runtime>/<id>.state.json`, see locate.ts), which is also the start lock, plus the record of
 * the last daemon that ran (`<id>.last.json`: stopped, or found dead). Every client reads it before
 * it connects, whatever its environment, so it finds the daemon another environment started.
 * Liveness is judged here once for the client, the CLI and the daemon's lock.
 */
import net from "node:net";
import {
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  lstatSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkPrivateDir } from "./socket-dir.js";

export interface DaemonState {
  pid: number;
  /** Kernel start time of `pid` (clock ticks since boot, /proc/<pid>/stat field 22) where known. */
  pidStartTime: number | null;
  version: string;
  workspace: string;
  socket: string;
  logFile: string | null;
  startedAt: string;
  phase: "starting" | "ready";
}

/** The last daemon of a workspace: stopped cleanly, or found dead by whoever looked next. */
export interface LastRun extends DaemonState {
  ended: "stopped" | "died";
  /** Stopped: when. Died: the last sign of life (its log's or state file's last write). */
  endedAt: string;
  reason?: string;
}

interface ProcStat {
  state: string;
  startTime: number;
}

/** /proc/<pid>/stat's state and start time, or null without /proc or without the process. */
function procStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const startTime = Number(fields[19]);
    return { state: fields[0] ?? "", startTime: Number.isFinite(startTime) ? startTime : NaN };
  } catch {
    return null;
  }
}

/** Start time of a process, or null when it cannot be read (no /proc, or no such process). */
export function processStartTime(pid: number): number | null {
  const stat = procStat(pid);
  return stat && Number.isFinite(stat.startTime) ? stat.startTime : null;
}

/**
 * True when the process that wrote `state` still runs under its pid. A zombie (killed, not yet
 * reaped: containers whose PID 1 does not reap) is dead, and so is a pid now used by another
 * process (told apart by its start time).
 */
export function isOwnerAlive(state: Pick<DaemonState, "pid" | "pidStartTime">): boolean {
  try {
    process.kill(state.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(state.pid);
  if (stat === null) return true; // no /proc (macOS): the signal check is all we have
  if (stat.state === "Z" || stat.state === "X") return false;
  return (
    state.pidStartTime === null || !Number.isFinite(stat.startTime) || stat.startTime === state.pidStartTime
  );
}

/** Whether anything accepts connections on `socket`: "refused" only when nobody can be listening. */
export function probeSocket(socket: string, timeoutMs = 1000): Promise<"answers" | "refused" | "unknown"> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    const timer = setTimeout(() => {
      s.destroy();
      resolve("unknown");
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.destroy();
      resolve("answers");
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = err.code ?? "";
      resolve(code === "ECONNREFUSED" || code === "ENOENT" || code === "ENOTSOCK" ? "refused" : "unknown");
    });
  });
}

/**
 * The full check: alive by pid (see isOwnerAlive), and once it said it was ready, its socket must
 * not refuse connections (a daemon that lost its socket, or a frozen pid whose socket is gone, is
 * dead for our purposes). A socket that is slow or busy counts as alive.
 */
export async function isOwnerServing(state: DaemonState): Promise<boolean> {
  if (!isOwnerAlive(state)) return false;
  if (state.phase !== "ready") return true;
  return (await probeSocket(state.socket)) !== "refused";
}

/**
 * True when `dir` is ours alone (0700, our uid, not a link). A registry another user could write
 * to is ignored: a planted state file could send our calls to a socket of their choosing.
 */
function isPrivate(dir: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true;
  try {
    checkPrivateDir(dir, uid);
    return true;
  } catch {
    return false;
  }
}

/** The state file's content, or undefined when absent, unreadable, or in a folder not ours alone. */
export function readState(file: string): DaemonState | undefined {
  if (!isPrivate(path.dirname(file))) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as DaemonState;
    return typeof parsed.pid === "number" && typeof parsed.socket === "string" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function readLastRun(file: string): LastRun | undefined {
  const state = readState(file) as LastRun | undefined;
  return state && (state.ended === "stopped" || state.ended === "died") ? state : undefined;
}

/** Writes `<id>.last.json` atomically (temp + rename). */
export function writeLastRun(file: string, run: LastRun): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, JSON.stringify(run), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    /* best effort: the record helps the operator, it is not the lock */
  }
}

function mtime(file: string | null): number {
  if (!file) return 0;
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * A dead owner's files: records it as died (with its last sign of life), removes its socket if
 * nothing listens there, and its state file if it is still the same one. Returns the record.
 */
export async function buryDeadOwner(
  stateFile: string,
  lastFile: string,
  dead: DaemonState,
): Promise<LastRun> {
  const lastSign = Math.max(mtime(dead.logFile), mtime(stateFile), Date.parse(dead.startedAt) || 0);
  const run: LastRun = { ...dead, ended: "died", endedAt: new Date(lastSign || Date.now()).toISOString() };
  writeLastRun(lastFile, run);
  try {
    if (lstatSync(dead.socket).isSocket() && (await probeSocket(dead.socket)) === "refused")
      unlinkSync(dead.socket);
  } catch {
    /* gone already */
  }
  const now = readState(stateFile);
  if (now && now.pid === dead.pid && now.startedAt === dead.startedAt) {
    try {
      unlinkSync(stateFile);
    } catch {
      /* gone already */
    }
  }
  return run;
}

/** Every state file in the runtime folder (live or not), by workspace id. */
export function listStates(runtimeDir: string): { id: string; file: string; state: DaemonState }[] {
  // Throws (SocketDirError, saying how to fix it) when the folder exists but is not ours alone.
  try {
    checkPrivateDir(runtimeDir, process.getuid?.() ?? os.userInfo().uid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  let names: string[];
  try {
    names = readdirSync(runtimeDir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".state.json"))
    .flatMap((n) => {
      const file = path.join(runtimeDir, n);
      const state = readState(file);
      return state ? [{ id: n.slice(0, -".state.json".length), file, state }] : [];
    });
}
