/**
 * Closes the race between `Workspace.resolveForWrite` (a check on paths) and the I/O that
 * follows: a folder on the checked path could be swapped for a symlink in between. Here the
 * folder is opened once without following a final link, the handle is verified to be exactly the
 * checked real path, and every later operation names its file through that handle
 * (`/proc/self/fd/N/name`, Linux's openat), so a swap after the check changes nothing. The final
 * component is opened with O_NOFOLLOW and created with O_EXCL, so it cannot be a link either.
 */
import { constants, existsSync } from "node:fs";
import { lstat, open, readlink, realpath, rm, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { PathError } from "./path-error.js";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/**
 * Flags for opening a file to read it. O_NONBLOCK: opening a FIFO for reading otherwise waits
 * for a writer, stalling the event loop (sync open) or a thread-pool thread (async open; four
 * such calls stop every file operation of the daemon). On a regular file it changes nothing;
 * callers still check `fstat(...).isFile()` before reading.
 */
export const READ_NONBLOCK = O_RDONLY | O_NONBLOCK;

/** Linux exposes open descriptors as paths; elsewhere we fall back to a check by inode. */
const HAVE_PROC_FD = existsSync("/proc/self/fd");

export interface VerifiedDir {
  /** The checked real path. */
  readonly path: string;
  readonly handle: FileHandle;
  /** A path naming `name` inside the verified folder, immune to swaps of its ancestors. */
  at(name: string): string;
  close(): Promise<void>;
}

function swapped(dir: string, actual: string): PathError {
  return new PathError(
    `the folder ${dir} changed while it was being used (now ${actual}; a symlink swapped in?); nothing was done, try again`,
  );
}

/**
 * Opens `realDir` (a real path, as `resolveForWrite` returns it) and verifies the handle is that
 * folder. Throws PathError when it is not (a symlink or a swapped ancestor).
 */
export async function openVerifiedDir(realDir: string): Promise<VerifiedDir> {
  let handle: FileHandle;
  try {
    handle = await open(realDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP" || code === "ENOTDIR") throw swapped(realDir, "a symlink or a file");
    throw err;
  }
  try {
    if (HAVE_PROC_FD) {
      const actual = await readlink(`/proc/self/fd/${handle.fd}`);
      if (actual !== realDir) throw swapped(realDir, actual);
    } else {
      const [opened, named, real] = await Promise.all([handle.stat(), lstat(realDir), realpath(realDir)]);
      if (real !== realDir || opened.ino !== named.ino || opened.dev !== named.dev)
        throw swapped(realDir, real);
    }
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  const via = HAVE_PROC_FD ? `/proc/self/fd/${handle.fd}` : realDir;
  return {
    path: realDir,
    handle,
    at: (name: string) => {
      if (name.length === 0 || name.includes("/") || name === "." || name === "..") {
        throw new PathError(`"${name}" is not a plain file name`);
      }
      return path.join(via, name);
    },
    close: () => handle.close(),
  };
}

/**
 * Opens an existing file for reading without following a link at any step after the check:
 * `realFile` must be a real path (from `Workspace.resolve`). Returns the open handle; the caller
 * closes it.
 */
export async function openConfinedForRead(realFile: string): Promise<FileHandle> {
  const dir = await openVerifiedDir(path.dirname(realFile));
  try {
    return await open(dir.at(path.basename(realFile)), READ_NONBLOCK | O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") {
      throw new PathError(`${realFile} became a symlink after it was checked; refused`);
    }
    throw err;
  } finally {
    await dir.close();
  }
}

/**
 * Removes the entry `entryAbs` (a file, a link itself, or with `recursive` a folder and all in
 * it) through a verified handle of its folder, which must be a checked real path: a folder
 * swapped for a link after the check cannot turn the delete onto something outside.
 */
export async function removeConfined(entryAbs: string, opts: { recursive?: boolean } = {}): Promise<void> {
  const dir = await openVerifiedDir(path.dirname(entryAbs));
  try {
    const target = dir.at(path.basename(entryAbs));
    if (opts.recursive) await rm(target, { recursive: true });
    else await unlink(target);
  } finally {
    await dir.close();
  }
}
