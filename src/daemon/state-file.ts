/**
 * The state file in the per-user registry (`<runtime>/<id>.state.json`, one per workspace whatever
 * the socket) doubles as the one-daemon-per-workspace lock: it is created with O_EXCL before the
 * socket is bound. A state file whose owner is dead is broken: gone, a zombie, a pid reused by
 * another process (told apart by the process start time), or a ready daemon whose socket refuses
 * connections (see workspace/registry.ts). The dead owner is recorded as the last run.
 */
import { closeSync, linkSync, openSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  buryDeadOwner,
  isOwnerServing,
  readState,
  writeLastRun,
  type DaemonState,
  type LastRun,
} from "../workspace/registry.js";

export { processStartTime } from "../workspace/registry.js";
export type { DaemonState };

export class AlreadyRunningError extends Error {
  constructor(readonly owner: DaemonState) {
    super(
      `a daemon already serves ${owner.workspace} (pid ${owner.pid}, socket ${owner.socket}${owner.phase === "ready" ? "" : ", starting"})`,
    );
    this.name = "AlreadyRunningError";
  }
}

/**
 * Takes the lock by creating `file` exclusively; breaks a dead owner's (recording it in
 * `lastFile`). Throws AlreadyRunningError when a live daemon holds it.
 */
export async function acquireStateLock(file: string, lastFile: string, state: DaemonState): Promise<void> {
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
    if (owner && owner.pid !== state.pid && (await isOwnerServing(owner)))
      throw new AlreadyRunningError(owner);
    if (!owner) {
      // Unreadable: either being written right now, or garbage. Give a writer a moment.
      await sleep(50);
      if (attempt < 5) continue;
    }
    await breakStaleLock(file, lastFile, owner);
  }
  throw new Error(`could not take the lock ${file}: it keeps changing; is another toold starting in a loop?`);
}

async function breakStaleLock(file: string, lastFile: string, stale: DaemonState | undefined): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = readState(aside);
  if (moved && stale && moved.pid !== stale.pid && (await isOwnerServing(moved))) {
    // We raced a starter that had just replaced the stale file: put its live lock back.
    try {
      linkSync(aside, file);
    } catch {
      /* someone else holds it now; the next attempt will see them */
    }
  } else if (moved) {
    await buryDeadOwner(aside, lastFile, moved);
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

/** Removes the state file if it is still ours, and records how we ended. */
export function releaseStateLock(file: string, pid: number, lastFile?: string, ended?: LastRun): void {
  const owner = readState(file);
  if (owner && owner.pid !== pid) return;
  if (lastFile && ended) writeLastRun(lastFile, ended);
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
