/**
 * Atomic file replacement for the write tools: the new bytes go to a temp file in the target's
 * folder, are fsynced, and are renamed over the target, so a reader sees either the old file or
 * the new one, never a torn write. On any failure the temp file is removed and the target is left
 * exactly as it was.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, rename, rmdir, unlink, link } from "node:fs/promises";
import path from "node:path";
import { openVerifiedDir } from "./confined-fs.js";

export interface WriteAtomicOptions {
  /** Checked between steps; an abort before the rename leaves the target untouched. */
  signal?: AbortSignal;
  /**
   * Permission bits for the file. Default: the existing file's mode when it exists, else
   * 0o666 minus the umask (what a plain `open` would give).
   */
  mode?: number;
  /** Fail with EEXIST instead of replacing an existing target (uses link(2), so it is race-free). */
  exclusive?: boolean;
}

/** Bytes written per write(2) call; the signal is checked between chunks. */
const CHUNK_BYTES = 1024 * 1024;
/** Keeps `.<name>.toold-<hex>.tmp` under the 255-byte name limit of common file systems. */
const MAX_NAME_IN_TEMP = 180;

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The temp-file name used for `absPath`, in the same folder. Exported for tests. */
export function tempPathFor(absPath: string): string {
  const dir = path.dirname(absPath);
  let name = path.basename(absPath);
  while (Buffer.byteLength(name) > MAX_NAME_IN_TEMP) name = name.slice(0, -1);
  return path.join(dir, `.${name}.toold-${randomBytes(6).toString("hex")}.tmp`);
}

/** True for names `writeFileAtomic` uses for its temp files. */
export function isTempName(name: string): boolean {
  return /^\..*\.toold-[0-9a-f]{12}\.tmp$/.test(name);
}

/**
 * Replaces `absPath` with `data` atomically. The folder must exist (see `mkdirParents`).
 * `absPath` must already be confined to the workspace (a `workspace.resolve` result).
 */
export async function writeFileAtomic(
  absPath: string,
  data: string | Buffer,
  opts: WriteAtomicOptions = {},
): Promise<void> {
  const { signal } = opts;
  signal?.throwIfAborted();
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  // The folder was checked by path. From here every name goes through a handle verified to be
  // that folder, and the temp file is created O_EXCL|O_NOFOLLOW, so a symlink swapped in after
  // the check cannot redirect the write (see src/workspace/confined-fs.ts).
  const dir = await openVerifiedDir(path.dirname(absPath));
  const tmp = dir.at(path.basename(tempPathFor(absPath)));
  const target = dir.at(path.basename(absPath));
  let mode = opts.mode;
  if (mode === undefined) {
    // lstat: a link swapped in for the target must not lend it an outside file's mode.
    const existing = await lstat(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (existing?.isFile()) mode = existing.mode & 0o7777;
  }
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
  // 0o600 while it is being written; the final mode is applied before the rename.
  const handle = await open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600).catch(
    async (err: unknown) => {
      await dir.close();
      throw err;
    },
  );
  let handleOpen = true;
  try {
    let offset = 0;
    while (offset < bytes.length) {
      signal?.throwIfAborted();
      const { bytesWritten } = await handle.write(
        bytes,
        offset,
        Math.min(CHUNK_BYTES, bytes.length - offset),
      );
      offset += bytesWritten;
    }
    if (mode !== undefined) {
      await handle.chmod(mode);
    } else {
      // No existing file: give what `open(path, O_CREAT, 0o666)` would, i.e. 0o666 & ~umask.
      const umask = process.umask();
      await handle.chmod(0o666 & ~umask);
    }
    await handle.sync();
    handleOpen = false;
    await handle.close();
    signal?.throwIfAborted();
    if (opts.exclusive) {
      await link(tmp, target);
      await unlink(tmp);
    } else {
      await rename(tmp, target);
    }
    // Best effort: makes the rename durable. Some file systems refuse to fsync a folder.
    await dir.handle.sync().catch(() => undefined);
  } catch (err) {
    if (handleOpen) await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  } finally {
    await dir.close();
  }
}

/**
 * Creates the missing folders above `absPath` (below a checked, real ancestor), one at a time
 * through a verified handle of its parent, so a folder swapped for a link meanwhile is refused,
 * never created through. Returns the folders it created, deepest last, so `removeCreatedDirs`
 * can undo it after a failed write.
 */
export async function mkdirParents(absPath: string): Promise<string[]> {
  const missing: string[] = [];
  for (let cursor = path.dirname(absPath); ;) {
    const st = await lstat(cursor).catch(() => undefined);
    if (st) break;
    missing.unshift(cursor);
    const parent = path.dirname(cursor);
    if (parent === cursor) break;
    cursor = parent;
  }
  const created: string[] = [];
  try {
    for (const dir of missing) {
      const parent = await openVerifiedDir(path.dirname(dir));
      try {
        await mkdir(parent.at(path.basename(dir)));
      } catch (err) {
        // Someone else made it meanwhile: fine, it is verified when written into.
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        continue;
      } finally {
        await parent.close();
      }
      created.push(dir);
    }
  } catch (err) {
    await removeCreatedDirs(created);
    throw err;
  }
  return created;
}

/**
 * Removes folders `mkdirParents` created, deepest first, as long as they are empty; each through
 * a verified handle of its parent, so a swap cannot turn the removal onto another folder.
 */
export async function removeCreatedDirs(created: readonly string[]): Promise<void> {
  for (const dir of [...created].reverse()) {
    try {
      const parent = await openVerifiedDir(path.dirname(dir));
      try {
        await rmdir(parent.at(path.basename(dir)));
      } finally {
        await parent.close();
      }
    } catch {
      return; // not empty (someone else wrote there), gone or swapped: stop
    }
  }
}
