/**
 * Start-up sweep of the atomic writer's leftovers. `writeFileAtomic` removes its temp file on every
 * failure it sees, but a daemon killed with SIGKILL (or a power cut) between open and rename leaves
 * `.<name>.toold-<hex>.tmp` behind. We hold the workspace lock, so any such file older than our
 * start belongs to a dead daemon; newer ones may be our own writes in progress and are kept.
 */
import { lstat, readdir, unlink } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "pino";
import { isTempName } from "../support/fs-atomic.js";

export interface SweepResult {
  removed: string[];
  visited: number;
  /** True when the walk stopped at `maxEntries` (a huge tree); the rest is left for next time. */
  truncated: boolean;
}

/** Folders never walked: the write tools never write there (protected), and they can be huge. */
const SKIP = new Set([".git"]);

export async function sweepTempFiles(
  root: string,
  opts: {
    startedAtMs: number;
    log: Logger;
    signal?: AbortSignal;
    maxEntries?: number;
    /** While this returns a promise (a first search runs on the cold search's threads), wait for it. */
    yieldTo?: () => Promise<void> | undefined;
  },
): Promise<SweepResult> {
  const maxEntries = opts.maxEntries ?? 500_000;
  const result: SweepResult = { removed: [], visited: 0, truncated: false };
  const stack = [root];
  while (stack.length > 0) {
    if (opts.signal?.aborted) break;
    const wait = opts.yieldTo?.();
    if (wait) await wait;
    const dir = stack.pop()!;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable or removed meanwhile
    }
    for (const entry of entries) {
      if (++result.visited > maxEntries) {
        result.truncated = true;
        return result;
      }
      // Dirent types come from lstat: symlinked folders are not followed, so the walk stays inside.
      if (entry.isDirectory()) {
        if (!SKIP.has(entry.name)) stack.push(path.join(dir, entry.name));
        continue;
      }
      if (!entry.isFile() || !isTempName(entry.name)) continue;
      const abs = path.join(dir, entry.name);
      try {
        const st = await lstat(abs);
        if (st.mtimeMs >= opts.startedAtMs) continue;
        await unlink(abs);
        result.removed.push(abs);
      } catch (err) {
        opts.log.debug({ file: abs, err: (err as Error).message }, "could not remove leftover temp file");
      }
    }
  }
  return result;
}
