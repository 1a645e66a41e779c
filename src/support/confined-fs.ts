/**
 * Closes the race between `Workspace.resolveForWrite` (a check on paths) and the I/O that
 * follows: a folder on the checked path could be swapped for a symlink in between. Here the
 * folder is opened once without following a final link, the handle is verified to be exactly the
 * checked real path, and every later operation names its file through that handle
 * (`/proc/self/fd/N/name`, Linux's openat), so a swap after the check changes nothing. The final
 * component is opened with O_NOFOLLOW and created with O_EXCL, so it cannot be a link either.
 */
import { constants, existsSync } from "node:fs";
import {
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readlink,
  realpath,
  rename,
  rm,
  unlink,
  type FileHandle,
} from "node:fs/promises";
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
 * Creates `names` one below the other under `realParent` (a checked real folder), each through a
 * verified handle of its parent, so no link swapped in can redirect a mkdir. Returns the folders
 * created (an existing folder on the way is used as it is).
 */
export async function mkdirConfined(realParent: string, names: readonly string[]): Promise<string[]> {
  const created: string[] = [];
  let parent = realParent;
  for (const name of names) {
    const dir = await openVerifiedDir(parent);
    try {
      await mkdir(dir.at(name)).then(
        () => created.push(path.join(parent, name)),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== "EEXIST") throw err;
        },
      );
    } finally {
      await dir.close();
    }
    parent = path.join(parent, name);
  }
  // Verifies the last one is a real folder, not a link that was there already.
  if (names.length > 0) await (await openVerifiedDir(parent)).close();
  return created;
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
