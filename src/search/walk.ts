/**
 * The shared tree walker of list_files and grep_file: a sorted, depth-first walk of a folder that
 * applies ignore files, hidden-ness and `-g`-style globs the way ripgrep does, never enters `.git`,
 * and never follows symlinks (they are reported as entries of type "symlink").
 *
 * The interface is deliberately small — (root, options, signal) → sorted relative paths — so the
 * data source can later be swapped for a warm in-memory file index.
 */
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";
import { EntryFilter, type FilterOptions } from "./entry-filter.js";
import { IgnoreStack, loadIgnoreLevelSync } from "./ignore-rules.js";

export type EntryType = "file" | "dir" | "symlink";

export interface WalkEntry {
  /** Relative to the walk's root, `/` separators. */
  readonly path: string;
  readonly type: EntryType;
}

export interface WalkOptions extends FilterOptions {
  /** 1 = the root's own entries only. Default unlimited. */
  maxDepth?: number;
  /**
   * A folder at or above `root` (the workspace root) whose ignore files, and those of every
   * folder between it and `root`, also apply, as ripgrep applies a repository's parent ignore
   * files. Default `root`.
   */
  base?: string;
}

/**
 * Byte order of the UTF-8 encodings (= code point order), which UTF-16 `<` gets wrong only
 * for astral characters against U+E000..U+FFFF.
 */
export function compareByteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      const sx = x >= 0xd800 && x <= 0xdfff;
      const sy = y >= 0xd800 && y <= 0xdfff;
      if (sx !== sy) return sx ? 1 : -1;
      return x - y;
    }
  }
  return a.length - b.length;
}

interface Child {
  name: string;
  type: EntryType;
  /** Sort key: folders sort as "name/", so a folder's contents follow it in path byte order. */
  key: string;
}

function readChildren(absDir: string): Child[] {
  const children: Child[] = [];
  for (const dirent of readdirSync(absDir, { withFileTypes: true })) {
    let type: EntryType | undefined;
    if (dirent.isDirectory()) type = "dir";
    else if (dirent.isFile()) type = "file";
    else if (dirent.isSymbolicLink()) type = "symlink";
    else if (
      !dirent.isFIFO() &&
      !dirent.isSocket() &&
      !dirent.isBlockDevice() &&
      !dirent.isCharacterDevice()
    ) {
      // DT_UNKNOWN on some file systems: ask lstat.
      const st = lstatSync(path.join(absDir, dirent.name), { throwIfNoEntry: false });
      type = st?.isDirectory() ? "dir" : st?.isFile() ? "file" : st?.isSymbolicLink() ? "symlink" : undefined;
    }
    if (type)
      children.push({ name: dirent.name, type, key: type === "dir" ? `${dirent.name}/` : dirent.name });
  }
  children.sort((a, b) => compareByteOrder(a.key, b.key));
  return children;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : name === "" ? dir : `${dir}/${name}`;
}

/**
 * Walks `root` (an absolute real path of a folder) depth-first in path byte order, yielding each
 * folder before its contents. Throws ENOTDIR when `root` is not a folder. Unreadable subfolders
 * are skipped.
 *
 * Synchronous, one folder per step: a readdir of a folder costs less in this turn than a
 * thread-pool round trip, and the caller's loop (which yields to the event loop every few
 * milliseconds) paces it. Throws GlobError / UnknownFileTypeError on bad options.
 */
export function* walkSync(
  root: string,
  options: WalkOptions = {},
  signal?: AbortSignal,
): Generator<WalkEntry> {
  const maxDepth = options.maxDepth ?? Infinity;
  const base = options.base ?? root;
  const rootFromBase = path.relative(base, root).split(path.sep).join("/");
  if (rootFromBase.startsWith("..") || path.isAbsolute(rootFromBase)) {
    throw new Error(`walk: root ${root} is not inside base ${base}`);
  }
  const filter = new EntryFilter(options, rootFromBase);
  const respectIgnore = filter.respectIgnore;

  let stack = IgnoreStack.EMPTY;
  if (respectIgnore) {
    // The ignore files of base and each folder down to root's parent; root's own come below.
    let dirRel = "";
    const parts = rootFromBase === "" ? [] : rootFromBase.split("/");
    for (let i = 0; i < parts.length; i++) {
      stack = stack.push(
        loadIgnoreLevelSync(
          path.join(base, dirRel),
          dirRel,
          undefined,
          undefined,
          hasGitDir(path.join(base, dirRel)),
        ),
      );
      dirRel = join(dirRel, parts[i]!);
    }
  }

  /** rel: relative to root. */
  function* visit(absDir: string, rel: string, depth: number, ignores: IgnoreStack): Generator<WalkEntry> {
    signal?.throwIfAborted();
    let children: Child[];
    try {
      children = readChildren(absDir);
    } catch (err) {
      if (depth === 1) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "ENOENT" || code === "ENOTDIR") return;
      throw err;
    }
    const here = respectIgnore
      ? ignores.push(
          loadIgnoreLevelSync(absDir, join(rootFromBase, rel), new Set(children.map((c) => c.name))),
        )
      : ignores;
    for (const child of children) {
      const childRel = join(rel, child.name);
      const isDir = child.type === "dir";
      if (!filter.included(childRel, child.name, isDir, here)) continue;
      yield { path: childRel, type: child.type };
      if (isDir && depth < maxDepth) {
        yield* visit(path.join(absDir, child.name), childRel, depth + 1, here);
      }
    }
  }

  yield* visit(root, "", 1, stack);
}

function hasGitDir(dir: string): boolean {
  return lstatSync(path.join(dir, ".git"), { throwIfNoEntry: false }) !== undefined;
}

/** `walkSync` as an async iterable (the historical interface). */
export async function* walk(
  root: string,
  options: WalkOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<WalkEntry> {
  yield* walkSync(root, options, signal);
}

/** The regular files of a walk, as sorted paths relative to `root`. */
export async function* walkFiles(
  root: string,
  options: WalkOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<string> {
  for await (const entry of walk(root, options, signal)) {
    if (entry.type === "file") yield entry.path;
  }
}
