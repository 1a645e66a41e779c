/**
 * Workspace confinement: every path a tool touches goes through `resolve`, which compares real
 * paths by component (never by string prefix) so nothing outside the root is read, written,
 * listed or followed through a symlink.
 */
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";

export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PathError";
  }
}

export interface ResolvedPath {
  /** Absolute real path (symlinks resolved for the part that exists). */
  readonly abs: string;
  /** Path relative to the workspace root, with `/` separators; "." for the root itself. */
  readonly rel: string;
  /** False when the final component does not exist yet (a write target). */
  readonly exists: boolean;
}

/** True when `child` is `parent` or below it, compared by path components. */
export function isWithin(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith(`..${path.sep}`) && rel !== ".." && !path.isAbsolute(rel));
}

function toPosix(rel: string): string {
  return rel === "" ? "." : rel.split(path.sep).join("/");
}

export class Workspace {
  /** `root` must already be a realpath (locateWorkspace returns one). */
  constructor(readonly root: string) {}

  relative(abs: string): string {
    return toPosix(path.relative(this.root, abs));
  }

  /**
   * Resolves a user path (relative to the root, or absolute inside it).
   * `allowMissing`: the final components may not exist yet (a file to create).
   */
  async resolve(input: string, opts: { allowMissing?: boolean } = {}): Promise<ResolvedPath> {
    if (typeof input !== "string" || input.length === 0) {
      throw new PathError("path is empty: give a path relative to the workspace root, e.g. \"src/main.ts\"");
    }
    if (input.includes("\0")) throw new PathError("path contains a NUL byte");
    const lexical = path.resolve(this.root, input);
    if (!isWithin(this.root, lexical)) {
      throw new PathError(
        `path "${input}" is outside the workspace ${this.root}: use a path inside it (relative paths are taken from the root)`,
      );
    }
    try {
      const real = await realpath(lexical);
      if (!isWithin(this.root, real)) {
        throw new PathError(`path "${input}" leads outside the workspace through a symlink (to ${real}); refused`);
      }
      return { abs: real, rel: this.relative(real), exists: true };
    } catch (err) {
      if (err instanceof PathError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw err;
    }
    // The path does not exist (or a component is a dangling symlink).
    const dangling = await lstat(lexical).then(
      (st) => st.isSymbolicLink(),
      () => false,
    );
    if (dangling) {
      throw new PathError(`path "${input}" is a symlink whose target does not exist; refusing to follow it`);
    }
    if (!opts.allowMissing) {
      throw new PathError(`no such file or directory: "${input}" (paths are relative to ${this.root})`);
    }
    // Resolve the deepest existing ancestor; the rest is created below it, so it cannot be a link.
    let ancestor = path.dirname(lexical);
    const rest = [path.basename(lexical)];
    for (;;) {
      try {
        const realAncestor = await realpath(ancestor);
        if (!isWithin(this.root, realAncestor)) {
          throw new PathError(`path "${input}" leads outside the workspace through a symlink; refused`);
        }
        const abs = path.join(realAncestor, ...rest);
        return { abs, rel: this.relative(abs), exists: false };
      } catch (err) {
        if (err instanceof PathError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOENT") {
          throw new PathError(`path "${input}": ${code === "ENOTDIR" ? "a parent is not a directory" : code}`);
        }
        if (await lstat(ancestor).then((st) => st.isSymbolicLink(), () => false)) {
          throw new PathError(`path "${input}" goes through a dangling symlink; refused`);
        }
        rest.unshift(path.basename(ancestor));
        ancestor = path.dirname(ancestor);
      }
    }
  }
}
