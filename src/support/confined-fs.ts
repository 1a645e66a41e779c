/**
 * Closes the race between a path check (`Workspace.resolve`, `resolveForWrite`) and the I/O that
 * follows: a folder on the checked path could be swapped for a symlink in between, or the file
 * itself. Here the folder is opened once without following a final link, the handle is verified
 * to be exactly the checked real path, and every later operation names its file through that
 * handle (`/proc/self/fd/N/name`, Linux's openat), so a swap after the check changes nothing. The
 * final component is opened with O_NOFOLLOW (and created with O_EXCL), so it cannot be a link
 * either, and nothing outside is ever opened, not even to be refused. Reads (`openConfinedSync`,
 * `openConfinedForRead`, `readConfined`), writes (`fs-atomic.ts`), folder creation and deletes
 * (`removeConfined`) all go this way.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
} from "node:fs";
import { copyFile, link, lstat, open, rename, rm, unlink, type FileHandle } from "node:fs/promises";
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
/** `/proc/<pid>/fd` rather than `/proc/self/fd`: one symlink less to resolve on every open. */
const FD_DIR = `/proc/${process.pid}/fd`;

export interface VerifiedDir {
  /** The checked real path. */
  readonly path: string;
  readonly handle: FileHandle;
  /** A path naming `name` inside the verified folder, immune to swaps of its ancestors. */
  at(name: string): string;
  close(): Promise<void>;
}

/**
 * A link found where the check saw none. The code is ELOOP, what O_NOFOLLOW answers, so callers
 * that skip unreadable files by errno (a search) skip this one too instead of failing the call.
 */
function raced(message: string): PathError {
  return Object.assign(new PathError(message), { code: "ELOOP" });
}

function swapped(dir: string, actual: string): PathError {
  return raced(
    `the folder ${dir} changed while it was being used (now ${actual}; a symlink swapped in?); nothing was done, try again`,
  );
}

/** Throws PathError unless the open folder `fd` is `realDir` itself (not a link, not swapped). */
function assertHandleIs(fd: number, realDir: string): void {
  if (HAVE_PROC_FD) {
    const actual = readlinkSync(`${FD_DIR}/${fd}`);
    if (actual !== realDir) throw swapped(realDir, actual);
    return;
  }
  const opened = fstatSync(fd);
  const named = lstatSync(realDir);
  const real = realpathSync(realDir);
  if (real !== realDir || opened.ino !== named.ino || opened.dev !== named.dev) throw swapped(realDir, real);
}

const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

function dirOpenError(realDir: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ELOOP" || code === "ENOTDIR" ? swapped(realDir, "a symlink or a file") : err;
}

/** `name` inside the folder open as `fd`, refusing anything but a plain name. */
function nameIn(fd: number, realDir: string, name: string): string {
  if (name.length === 0 || name.includes("/") || name === "." || name === "..") {
    throw new PathError(`"${name}" is not a plain file name`);
  }
  // A plain name (checked above): concatenation, not path.join, on the hot path of every read.
  return HAVE_PROC_FD ? `${FD_DIR}/${fd}/${name}` : path.join(realDir, name);
}

/**
 * Opens `realDir` (a real path, as `resolveForWrite` returns it) and verifies the handle is that
 * folder. Throws PathError when it is not (a symlink or a swapped ancestor).
 */
export async function openVerifiedDir(realDir: string): Promise<VerifiedDir> {
  let handle: FileHandle;
  try {
    handle = await open(realDir, DIR_FLAGS);
  } catch (err) {
    throw dirOpenError(realDir, err);
  }
  try {
    assertHandleIs(handle.fd, realDir);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return {
    path: realDir,
    handle,
    at: (name: string) => nameIn(handle.fd, realDir, name),
    close: () => handle.close(),
  };
}

function becameLink(realFile: string, err: unknown): unknown {
  return (err as NodeJS.ErrnoException).code === "ELOOP"
    ? raced(`${realFile} became a symlink after it was checked; refused`)
    : err;
}

/** Opens and verifies `realDir` synchronously (a folder opens at once); the caller closes it. */
function openVerifiedDirSync(realDir: string): number {
  let fd: number;
  try {
    fd = openSync(realDir, DIR_FLAGS);
  } catch (err) {
    throw dirOpenError(realDir, err);
  }
  try {
    assertHandleIs(fd, realDir);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Verified folder handles kept until the end of the current turn of the event loop: a search
 * that reads a batch of files synchronously verifies each folder once, not once per file. Only
 * `openConfinedSync` uses them, within one synchronous call, so none is closed while in use; a
 * handle stays the folder it was verified to be, whatever is renamed meanwhile.
 */
const turnDirs = new Map<string, number>();
const MAX_TURN_DIRS = 64;

function closeTurnDirs(): void {
  for (const fd of turnDirs.values()) closeSync(fd);
  turnDirs.clear();
}

function turnDir(realDir: string): number {
  let fd = turnDirs.get(realDir);
  if (fd !== undefined) return fd;
  fd = openVerifiedDirSync(realDir);
  if (turnDirs.size === 0) setImmediate(closeTurnDirs);
  else if (turnDirs.size >= MAX_TURN_DIRS) {
    const [oldest, oldFd] = turnDirs.entries().next().value as [string, number];
    turnDirs.delete(oldest);
    closeSync(oldFd);
  }
  turnDirs.set(realDir, fd);
  return fd;
}

/**
 * `openConfinedForRead`, synchronously: for the file cache and the warm search, which read small
 * files in one turn of the event loop. Returns the descriptor; the caller closes it.
 */
export function openConfinedSync(realFile: string): number {
  const realDir = path.dirname(realFile);
  const dirFd = turnDir(realDir);
  try {
    return openSync(nameIn(dirFd, realDir, path.basename(realFile)), READ_NONBLOCK | O_NOFOLLOW);
  } catch (err) {
    throw becameLink(realFile, err);
  }
}

/**
 * Reads from offset 0 of `fd` into `buf` until `size` bytes are in or the file ends (it shrank
 * since its stat); returns the bytes read. One read is usually all it takes.
 */
export function readFullySync(fd: number, buf: Buffer, size: number = buf.length): number {
  let filled = 0;
  while (filled < size) {
    const n = readSync(fd, buf, filled, size - filled, filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/**
 * Opens an existing file for reading without following a link at any step after the check:
 * `realFile` must be a real path (from `Workspace.resolve`). Returns the open handle; the caller
 * closes it. The folder is opened and verified synchronously (cheaper than two thread-pool round
 * trips), the file asynchronously (it could be on a slow disk).
 */
export async function openConfinedForRead(realFile: string): Promise<FileHandle> {
  const realDir = path.dirname(realFile);
  const dirFd = openVerifiedDirSync(realDir);
  try {
    return await open(nameIn(dirFd, realDir, path.basename(realFile)), READ_NONBLOCK | O_NOFOLLOW);
  } catch (err) {
    throw becameLink(realFile, err);
  } finally {
    closeSync(dirFd);
  }
}

/**
 * The whole content of `realFile`, read through `openConfinedForRead` from one descriptor:
 * `check` sees that descriptor's stats first (to refuse a folder, a FIFO or a file too large
 * with the caller's own message) and the bytes are those of the same file.
 */
export async function readConfined(
  realFile: string,
  opts: { signal?: AbortSignal; check?: (st: Stats) => void } = {},
): Promise<{ data: Buffer; stats: Stats }> {
  const handle = await openConfinedForRead(realFile);
  try {
    const stats = await handle.stat();
    opts.check?.(stats);
    if (!stats.isFile()) {
      const err = new Error(`${realFile} is not a regular file`) as NodeJS.ErrnoException;
      err.code = stats.isDirectory() ? "EISDIR" : "EINVAL";
      throw err;
    }
    const data = await handle.readFile(opts.signal ? { signal: opts.signal } : {});
    return { data, stats };
  } finally {
    await handle.close();
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

/**
 * Renames the entry `srcAbs` to `dstAbs` (each a checked real path of an entry whose folder is
 * confined), naming both through verified folder handles. With `noReplace` an existing
 * destination is never replaced: a file or link moves by link(2) + unlink (EEXIST when the name is
 * taken, even if it appeared after the check); a folder cannot be hard-linked, so it is checked
 * just before rename(2), which refuses a non-empty folder and a file in its way anyway.
 */
export async function renameConfined(
  srcAbs: string,
  dstAbs: string,
  opts: { noReplace: boolean; isDir: boolean },
): Promise<void> {
  const srcDir = await openVerifiedDir(path.dirname(srcAbs));
  try {
    const dstDir = await openVerifiedDir(path.dirname(dstAbs));
    try {
      const from = srcDir.at(path.basename(srcAbs));
      const to = dstDir.at(path.basename(dstAbs));
      if (opts.noReplace && !opts.isDir) {
        try {
          await link(from, to);
          await unlink(from);
          return;
        } catch (err) {
          // Not every file system has hard links; fall back to check-then-rename.
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
        }
      }
      if (opts.noReplace) {
        const taken = await lstat(to).then(
          () => true,
          () => false,
        );
        if (taken) throw Object.assign(new Error(`EEXIST: ${dstAbs} exists`), { code: "EEXIST" });
      }
      await rename(from, to);
      await Promise.all([srcDir.handle.sync(), dstDir.handle.sync()]).catch(() => undefined);
    } finally {
      await dstDir.close();
    }
  } finally {
    await srcDir.close();
  }
}

/**
 * Copies the regular file `srcFile` (a handle opened with openConfinedForRead or O_NOFOLLOW) to
 * `dstPath` (a name under a verified folder handle, or inside a temp folder we made), creating it
 * exclusively, with the source's permission bits, fsynced. The kernel copies (copy_file_range,
 * reflink where the file system can).
 */
export async function copyOpenFile(srcFile: FileHandle, dstPath: string, mode: number): Promise<void> {
  await copyFile(
    `/proc/self/fd/${srcFile.fd}`,
    dstPath,
    constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE,
  );
  const out = await open(dstPath, constants.O_WRONLY | O_NOFOLLOW);
  try {
    await out.chmod(mode & 0o7777);
    await out.sync();
  } finally {
    await out.close();
  }
}
