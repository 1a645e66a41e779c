/**
 * The state file next to the socket doubles as the one-daemon-per-workspace lock: it is created
 * with O_EXCL before the socket is bound. A state file whose process is gone (or whose pid now
 * belongs to another process, told apart by the process start time) is stale and is broken.
 */
import { linkSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, closeSync } from "node:fs";
import { randomBytes } from "node:crypto";

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

export class AlreadyRunningError extends Error {
  constructor(readonly owner: DaemonState) {
    super(`a daemon for this workspace is already running (pid ${owner.pid}, ${owner.phase})`);
    this.name = "AlreadyRunningError";
  }
}

/** Start time of a process, or null when it cannot be read (no /proc, or no such process). */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const value = Number(fields[19]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** True when the process that wrote `state` is still the one running under its pid. */
export function isOwnerAlive(state: Pick<DaemonState, "pid" | "pidStartTime">): boolean {
  try {
    process.kill(state.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (state.pidStartTime === null) return true;
  const now = processStartTime(state.pid);
  // Same pid, different start time: the pid was reused by an unrelated process.
  return now === null || now === state.pidStartTime;
}

export function readState(file: string): DaemonState | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as DaemonState;
    return typeof parsed.pid === "number" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock by creating `file` exclusively; breaks a stale one. Throws AlreadyRunningError. */
export function acquireStateLock(file: string, state: DaemonState): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      try {
        writeFileSync(fd, JSON.stringify(state));
      } finally {
        closeSync(fd);
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = readState(file);
    if (owner && owner.pid !== state.pid && isOwnerAlive(owner)) throw new AlreadyRunningError(owner);
    if (!owner) {
      // Unreadable: either being written right now, or garbage. Give a writer a moment.
      const waitUntil = Date.now() + 50;
      while (Date.now() < waitUntil) {
        /* brief spin: this runs once at start-up, before the event loop matters */
      }
      if (attempt < 5) continue;
    }
    breakStaleLock(file, owner);
  }
  throw new Error(`could not take the lock ${file}: it keeps changing; is another toold starting in a loop?`);
}

function breakStaleLock(file: string, stale: DaemonState | undefined): void {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = readState(aside);
  if (moved && stale && moved.pid !== stale.pid && isOwnerAlive(moved)) {
    // We raced a starter that had just replaced the stale file: put its live lock back.
    try {
      linkSync(aside, file);
    } catch {
      /* someone else holds it now; the next attempt will see them */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

/** Rewrites our own state file atomically (the file stays present, so the lock is never released). */
export function updateState(file: string, state: DaemonState): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, file);
}

/** Removes the state file if it is still ours. */
export function releaseStateLock(file: string, pid: number): void {
  const owner = readState(file);
  if (owner && owner.pid !== pid) return;
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
