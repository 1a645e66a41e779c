/**
 * The shared tree walker of list_files and grep_file: a sorted, depth-first walk of a folder that
 * applies ignore files, hidden-ness and `-g`-style globs the way ripgrep does, never enters `.git`,
 * and never follows symlinks (they are reported as entries of type "symlink").
 *
 * The interface is deliberately small — (root, options, signal) → sorted relative paths — so the
 * data source can later be swapped for a warm in-memory file index.
 */
import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { GlobOverrides } from "../support/glob.js";
import { IgnoreStack, loadIgnoreLevel } from "./ignore-rules.js";

export type EntryType = "file" | "dir" | "symlink";

export interface WalkEntry {
  /** Relative to the walk's root, `/` separators. */
  readonly path: string;
  readonly type: EntryType;
}

export interface WalkOptions {
  /** Include dot-names (except `.git`, which is never entered). Default false. */
  includeHidden?: boolean;
  /** Apply `.gitignore`, `.ignore` and `.git/info/exclude`. Default true. */
  respectIgnoreFiles?: boolean;
  /** 1 = the root's own entries only. Default unlimited. */
  maxDepth?: number;
  /**
   * A folder at or above `root` (the workspace root) whose ignore files, and those of every
   * folder between it and `root`, also apply, as ripgrep applies a repository's parent ignore
   * files. Default `root`.
   */
  base?: string;
  /** ripgrep `-g` globs, matched against paths relative to `root`. */
  globs?: readonly string[];
}

/** Never entered nor listed, whatever the options. */
const ALWAYS_SKIPPED = new Set([".git"]);

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

async function readChildren(absDir: string): Promise<Child[]> {
  const dir = await opendir(absDir);
  const children: Child[] = [];
  for await (const dirent of dir) {
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
      const st = await lstat(path.join(absDir, dirent.name)).catch(() => undefined);
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
 */
export async function* walk(
  root: string,
  options: WalkOptions = {},
  signal?: AbortSignal,
): AsyncGenerator<WalkEntry> {
  const includeHidden = options.includeHidden ?? false;
  const respectIgnore = options.respectIgnoreFiles ?? true;
  const maxDepth = options.maxDepth ?? Infinity;
  const overrides = new GlobOverrides(options.globs ?? []);
  const base = options.base ?? root;
  const rootFromBase = path.relative(base, root).split(path.sep).join("/");
  if (rootFromBase.startsWith("..") || path.isAbsolute(rootFromBase)) {
    throw new Error(`walk: root ${root} is not inside base ${base}`);
  }

  let stack = IgnoreStack.EMPTY;
  if (respectIgnore) {
    // The ignore files of base and each folder down to root's parent; root's own come below.
    let dirRel = "";
    const parts = rootFromBase === "" ? [] : rootFromBase.split("/");
    for (let i = 0; i < parts.length; i++) {
      stack = stack.push(await loadIgnoreLevel(path.join(base, dirRel), dirRel));
      dirRel = join(dirRel, parts[i]!);
    }
  }

  /** rel: relative to root. */
  async function* visit(
    absDir: string,
    rel: string,
    depth: number,
    ignores: IgnoreStack,
  ): AsyncGenerator<WalkEntry> {
    signal?.throwIfAborted();
    let children: Child[];
    try {
      children = await readChildren(absDir);
    } catch (err) {
      if (depth === 1) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "ENOENT" || code === "ENOTDIR") return;
      throw err;
    }
    const here = respectIgnore
      ? ignores.push(
          await loadIgnoreLevel(absDir, join(rootFromBase, rel), new Set(children.map((c) => c.name))),
        )
      : ignores;
    for (const child of children) {
      if (ALWAYS_SKIPPED.has(child.name)) continue;
      const childRel = join(rel, child.name);
      const isDir = child.type === "dir";
      if (!included(childRel, child.name, isDir, here)) continue;
      yield { path: childRel, type: child.type };
      if (isDir && depth < maxDepth) {
        yield* visit(path.join(absDir, child.name), childRel, depth + 1, here);
      }
    }
  }

  function included(rel: string, name: string, isDir: boolean, ignores: IgnoreStack): boolean {
    // ripgrep's order: globs decide first, then ignore files, then hidden-ness.
    const glob = overrides.isEmpty ? undefined : overrides.verdict(rel, isDir);
    if (glob !== undefined) return glob === "include";
    let whitelisted = false;
    if (respectIgnore) {
      const verdict = ignores.verdict(join(rootFromBase, rel), isDir);
      if (verdict === "ignore") return false;
      whitelisted = verdict === "include";
    }
    if (!whitelisted && !includeHidden && name.startsWith(".")) return false;
    return true;
  }

  yield* visit(root, "", 1, stack);
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
