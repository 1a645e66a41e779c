/**
 * Workspace confinement: every path a tool touches goes through `resolve` (reads) or
 * `resolveForWrite` (writes, deletes, patches), which compare real paths by component (never by
 * string prefix, so `/ws` never matches `/ws-evil`). Nothing outside the root is read, written,
 * listed or followed through a symlink; write targets are also checked against
 * `[tools] protected_paths`. The race between this check and the write itself is closed by
 * `confined-fs.ts`, which does the I/O through a verified folder handle.
 */
import { realpathSync } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import picomatch from "picomatch";
import { PathError } from "../support/path-error.js";
import { CONFIG_FILE_NAME } from "./locate.js";

export interface ResolvedPath {
  /** Absolute real path (symlinks resolved for the part that exists). */
  readonly abs: string;
  /** Path relative to the workspace root, with `/` separators; "." for the root itself. */
  readonly rel: string;
  /** False when the final component does not exist yet (a write target). */
  readonly exists: boolean;
}

/** A write target: where the entry lives, split so the I/O can go through a verified folder handle. */
export interface WriteTarget extends ResolvedPath {
  /** Real path of the folder holding the entry (it may not exist yet when parents are missing). */
  readonly dir: string;
  /** The entry's name inside `dir`. */
  readonly name: string;
  /** True when the name given was a symlink (inside the workspace) and `abs` is its target. */
  readonly viaSymlink: boolean;
}

export interface WriteOptions {
  /** The final component (and missing parents) may not exist yet. Default true. */
  allowMissing?: boolean;
  /**
   * Follow a final symlink to its target (write_file, edit_file: the target is what changes).
   * False names the link itself (delete_file removes the link, never its target). Default true.
   */
  followSymlink?: boolean;
  /** The target is a folder to be removed with everything in it: nothing protected may be below it. */
  recursive?: boolean;
}

/** The part of the config `resolveForWrite` reads; a full `Config` fits. */
export interface WritePolicyConfig {
  readonly tools: { readonly protected_paths: readonly string[] };
}

/**
 * realpath(3) in this turn: a few µs for dentries the kernel has cached, where the promise form
 * costs a thread-pool round trip (~100 µs per call under load; it dominated a read_file round trip).
 */
async function realpath(p: string): Promise<string> {
  return realpathSync.native(p);
}

/** True when `child` is `parent` or below it, compared by path components. */
export function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

function toPosix(rel: string): string {
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/**
 * A relative path made of names only: it does not start or end with `/`, and no part of it is
 * empty, `.` or `..` (what `path.resolve` would normalize away).
 */
const PLAIN_RELATIVE = /^(?!\.\.?(?:\/|$))[^/]+(?:\/(?!\.\.?(?:\/|$))[^/]+)*$/;

/** Upper bound on entries a recursive-delete check walks, so a huge tree cannot stall the daemon. */
const MAX_TREE_CHECK_ENTRIES = 200_000;

type Matcher = (rel: string) => boolean;
/** Config objects are frozen and replaced on reload, so the list's identity is a safe cache key. */
const matcherCache = new WeakMap<readonly string[], Matcher>();

function protectedMatcher(patterns: readonly string[]): Matcher {
  let matcher = matcherCache.get(patterns);
  if (!matcher) {
    // dot: `.git/**` must match `.git/config`; an empty list protects nothing.
    const m = patterns.length > 0 ? picomatch([...patterns], { dot: true }) : () => false;
    matcher = (rel: string) => m(rel);
    matcherCache.set(patterns, matcher);
  }
  return matcher;
}

/**
 * The protected pattern that covers `rel` (or one of its parent folders: protecting a folder
 * protects what is in it), else undefined.
 */
export function protectedBy(patterns: readonly string[], rel: string): string | undefined {
  if (rel === "." || patterns.length === 0) return undefined;
  const isProtected = protectedMatcher(patterns);
  const parts = rel.split("/");
  for (let i = parts.length; i >= 1; i--) {
    const candidate = parts.slice(0, i).join("/");
    if (isProtected(candidate)) {
      return patterns.find((p) => picomatch(p, { dot: true })(candidate)) ?? patterns[0];
    }
  }
  return undefined;
}

export class Workspace {
  /** The root with a final separator: what every path strictly inside it starts with. */
  private readonly rootPrefix: string;

  /** `root` must already be a realpath (locateWorkspace returns one). */
  constructor(readonly root: string) {
    this.rootPrefix = root.endsWith(path.sep) ? root : `${root}${path.sep}`;
  }

  relative(abs: string): string {
    return toPosix(path.relative(this.root, abs));
  }

  /**
   * `isWithin(root, abs)` for a normalized absolute path (what `path.resolve` and `realpath`
   * return: no `.`, `..`, doubled or trailing separators), where comparing components is comparing
   * the string up to a separator. Half a dozen `path.relative` calls per read_file cost ~2 µs.
   */
  private containsNormalized(abs: string): boolean {
    return abs === this.root || abs.startsWith(this.rootPrefix);
  }

  /** `relative(abs)` for a normalized absolute path inside the root. */
  private relativeNormalized(abs: string): string {
    if (abs === this.root) return ".";
    const rel = abs.slice(this.rootPrefix.length);
    return path.sep === "/" ? rel : toPosix(rel);
  }

  /** Rejects what no path may be; returns the lexical absolute path, which must be inside the root. */
  private lexical(input: unknown): string {
    if (typeof input !== "string" || input.length === 0) {
      throw new PathError('path is empty: give a path relative to the workspace root, e.g. "src/main.ts"');
    }
    if (input.includes("\0")) throw new PathError("path contains a NUL byte; remove it");
    // Plain names ("src/main.ts"): resolving against the root is joining; it is already inside.
    if (PLAIN_RELATIVE.test(input)) return this.rootPrefix + input;
    const lexical = path.resolve(this.root, input);
    if (!this.containsNormalized(lexical)) {
      throw new PathError(
        `path "${input}" is outside the workspace ${this.root}: use a path inside it (relative paths are taken from the root)`,
      );
    }
    return lexical;
  }

  /**
   * Resolves a user path (relative to the root, or absolute inside it) for reading.
   * `allowMissing`: the final components may not exist yet (a file to create).
   */
  async resolve(input: string, opts: { allowMissing?: boolean } = {}): Promise<ResolvedPath> {
    const lexical = this.lexical(input);
    try {
      const real = await realpath(lexical);
      if (!this.containsNormalized(real)) {
        throw new PathError(
          `path "${input}" leads outside the workspace through a symlink (to ${real}); refused`,
        );
      }
      return { abs: real, rel: this.relativeNormalized(real), exists: true };
    } catch (err) {
      if (err instanceof PathError) throw err;
      const code = errnoCode(err);
      if (code === "ELOOP") throw new PathError(`path "${input}" has a symlink loop; refused`);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    // The path does not exist (or a component is a dangling symlink).
    if (await isSymlink(lexical)) {
      throw new PathError(`path "${input}" is a symlink whose target does not exist; refusing to follow it`);
    }
    if (!opts.allowMissing) {
      throw new PathError(`no such file or directory: "${input}" (paths are relative to ${this.root})`);
    }
    const { realDir, rest } = await this.deepestExisting(input, path.dirname(lexical));
    const abs = path.join(realDir, ...rest, path.basename(lexical));
    return { abs, rel: this.relative(abs), exists: false };
  }

  /**
   * Resolves a path that is about to be written, created, deleted, renamed or patched. On top of
   * `resolve`'s confinement: a dangling symlink is never followed, the workspace root itself is
   * refused, and the target (the name given and, through a symlink, its real target) must not be
   * covered by `[tools] protected_paths`.
   */
  async resolveForWrite(
    input: string,
    config: WritePolicyConfig,
    opts: WriteOptions = {},
  ): Promise<WriteTarget> {
    const allowMissing = opts.allowMissing ?? true;
    const follow = opts.followSymlink ?? true;
    const lexical = this.lexical(input);
    if (lexical === this.root) {
      throw new PathError(`"${input}" is the workspace root itself; name a file or folder inside it`);
    }
    const name = path.basename(lexical);
    // The folder holding the entry: its real path, confined. Missing folders are created later,
    // below a real, confined ancestor, so they cannot be links.
    let realDir: string;
    let dirExists = true;
    try {
      realDir = await realpath(path.dirname(lexical));
      if (!isWithin(this.root, realDir)) {
        throw new PathError(
          `path "${input}" leads outside the workspace through a symlink (to ${realDir}); refused`,
        );
      }
    } catch (err) {
      if (err instanceof PathError) throw err;
      const code = errnoCode(err);
      if (code === "ELOOP") throw new PathError(`path "${input}" has a symlink loop; refused`);
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
      if (!allowMissing)
        throw new PathError(`no such file or directory: "${input}" (paths are relative to ${this.root})`);
      const found = await this.deepestExisting(input, path.dirname(lexical));
      realDir = path.join(found.realDir, ...found.rest);
      dirExists = false;
    }
    const entry = path.join(realDir, name);
    const st = dirExists ? await lstat(entry).catch(() => undefined) : undefined;
    let abs = entry;
    let viaSymlink = false;
    if (st?.isSymbolicLink() && follow) {
      let real: string;
      try {
        real = await realpath(entry);
      } catch (err) {
        const code = errnoCode(err);
        if (code === "ENOENT" || code === "ENOTDIR") {
          throw new PathError(
            `path "${input}" is a symlink whose target does not exist; a write never follows a dangling symlink (delete the link first)`,
          );
        }
        if (code === "ELOOP") throw new PathError(`path "${input}" has a symlink loop; refused`);
        throw err;
      }
      if (!isWithin(this.root, real)) {
        throw new PathError(
          `path "${input}" leads outside the workspace through a symlink (to ${real}); refused`,
        );
      }
      if (real === this.root)
        throw new PathError(`path "${input}" is a symlink to the workspace root; refused`);
      abs = real;
      viaSymlink = true;
    } else if (!st && !allowMissing) {
      throw new PathError(`no such file or directory: "${input}" (paths are relative to ${this.root})`);
    }
    const patterns = config.tools.protected_paths;
    for (const rel of new Set([this.relative(lexical), this.relative(entry), this.relative(abs)])) {
      const pattern = protectedBy(patterns, rel);
      if (pattern !== undefined) {
        throw new PathError(
          `"${rel}" is protected by [tools] protected_paths ("${pattern}"): tools may not change it. Edit it yourself, or change protected_paths in vtcode.toml if this is intended.`,
        );
      }
    }
    const configTarget = this.linkedConfigTarget(patterns);
    if (configTarget !== undefined) {
      const removesFolder = opts.recursive && st?.isDirectory() && !st.isSymbolicLink();
      if (
        abs === configTarget ||
        entry === configTarget ||
        (removesFolder && isWithin(entry, configTarget))
      ) {
        throw new PathError(
          `"${this.relative(configTarget)}" is the workspace's config (${CONFIG_FILE_NAME} is a symlink to it), which [tools] protected_paths protects: tools may not change it. Edit it yourself if this is intended.`,
        );
      }
    }
    if (opts.recursive && st?.isDirectory() && !st.isSymbolicLink()) {
      await this.assertNothingProtectedBelow(input, entry, patterns);
    }
    return {
      abs,
      rel: this.relative(abs),
      exists: st !== undefined,
      dir: path.dirname(abs),
      name: path.basename(abs),
      viaSymlink,
    };
  }

  /**
   * When the root's vtcode.toml is protected and is a symlink to a file inside the workspace, that
   * file's real path: writing it would change the policy as surely as writing vtcode.toml. Read on
   * every check (a few µs), since the link can change while the daemon runs.
   */
  private linkedConfigTarget(patterns: readonly string[]): string | undefined {
    if (protectedBy(patterns, CONFIG_FILE_NAME) === undefined) return undefined;
    const link = path.join(this.root, CONFIG_FILE_NAME);
    let real: string;
    try {
      real = realpathSync.native(link);
    } catch {
      return undefined; // absent or dangling: nothing else to protect
    }
    return real !== link && isWithin(this.root, real) ? real : undefined;
  }

  /** Walks a folder (never following links) and refuses when anything in it is protected. */
  private async assertNothingProtectedBelow(
    input: string,
    dirAbs: string,
    patterns: readonly string[],
  ): Promise<void> {
    if (patterns.length === 0) return;
    const stack = [dirAbs];
    let seen = 0;
    while (stack.length > 0) {
      const dir = stack.pop() as string;
      for (const dirent of await readdir(dir, { withFileTypes: true })) {
        if (++seen > MAX_TREE_CHECK_ENTRIES) {
          throw new PathError(
            `"${input}" holds more than ${MAX_TREE_CHECK_ENTRIES} entries; too many to check against protected_paths. Delete smaller folders.`,
          );
        }
        const abs = path.join(dir, dirent.name);
        const rel = this.relative(abs);
        const pattern = protectedBy(patterns, rel);
        if (pattern !== undefined) {
          throw new PathError(
            `"${input}" contains "${rel}", which is protected by [tools] protected_paths ("${pattern}"); nothing deleted`,
          );
        }
        if (dirent.isDirectory()) stack.push(abs);
      }
    }
  }

  /**
   * The deepest existing, confined ancestor of `start` (a lexical path inside the root), and the
   * missing names below it. A dangling symlink on the way is refused, never created through.
   */
  private async deepestExisting(input: string, start: string): Promise<{ realDir: string; rest: string[] }> {
    let ancestor = start;
    const rest: string[] = [];
    for (;;) {
      try {
        const realAncestor = await realpath(ancestor);
        if (!isWithin(this.root, realAncestor)) {
          throw new PathError(`path "${input}" leads outside the workspace through a symlink; refused`);
        }
        return { realDir: realAncestor, rest };
      } catch (err) {
        if (err instanceof PathError) throw err;
        const code = errnoCode(err);
        if (code === "ENOTDIR") throw new PathError(`path "${input}": a parent is not a directory`);
        if (code === "ELOOP") throw new PathError(`path "${input}" has a symlink loop; refused`);
        if (code !== "ENOENT") throw new PathError(`path "${input}": ${code ?? (err as Error).message}`);
        if (await isSymlink(ancestor)) {
          throw new PathError(`path "${input}" goes through a dangling symlink; refused`);
        }
        if (ancestor === this.root || !isWithin(this.root, ancestor)) {
          // The root itself vanished: nothing can be created.
          throw new PathError(`the workspace root ${this.root} no longer exists`);
        }
        rest.unshift(path.basename(ancestor));
        ancestor = path.dirname(ancestor);
      }
    }
  }
}

async function isSymlink(p: string): Promise<boolean> {
  return lstat(p).then(
    (st) => st.isSymbolicLink(),
    () => false,
  );
}
