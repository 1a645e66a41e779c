/**
 * Ignore files, with ripgrep's precedence: `.ignore` beats `.gitignore`, which beats
 * `.git/info/exclude`; within each kind the deepest folder's file that says anything wins (so a
 * nested `!pattern` re-includes); `.gitignore` / exclude files above the nearest folder holding
 * `.git` do not apply below it. Patterns are relative to the folder of their file (the `ignore`
 * package, case-sensitive like git on Linux).
 *
 * Unlike ripgrep, `.gitignore` applies even when the workspace is not a git repository.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import { READ_NONBLOCK } from "../support/confined-fs.js";

export type IgnoreVerdict = "ignore" | "include" | undefined;

/** The ignore files of one folder. `dir` is relative to the walk's base ("" for the base). */
export interface IgnoreLevel {
  readonly dir: string;
  readonly dotIgnore?: Ignore;
  readonly gitignore?: Ignore;
  readonly exclude?: Ignore;
  /** The folder holds `.git` (a repository or submodule root). */
  readonly hasGit: boolean;
}

async function readRules(file: string): Promise<Ignore | undefined> {
  let text: string;
  try {
    // Non-blocking: a FIFO named .gitignore must not hang the walk (see READ_NONBLOCK).
    text = await readFile(file, { encoding: "utf8", flag: READ_NONBLOCK });
  } catch {
    return undefined;
  }
  return ignore({ ignorecase: false }).add(text);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the ignore files of folder `absDir`, whose path relative to the base is `relDir`.
 * `names`, when known, lists the folder's entries, to skip looking for files that are not there.
 */
export async function loadIgnoreLevel(
  absDir: string,
  relDir: string,
  names?: ReadonlySet<string>,
): Promise<IgnoreLevel | undefined> {
  const has = (name: string): boolean => names === undefined || names.has(name);
  const [dotIgnore, gitignore, hasGit] = await Promise.all([
    has(".ignore") ? readRules(path.join(absDir, ".ignore")) : undefined,
    has(".gitignore") ? readRules(path.join(absDir, ".gitignore")) : undefined,
    has(".git") ? exists(path.join(absDir, ".git")) : false,
  ]);
  const exclude = hasGit ? await readRules(path.join(absDir, ".git", "info", "exclude")) : undefined;
  if (!dotIgnore && !gitignore && !exclude && !hasGit) return undefined;
  return {
    dir: relDir,
    hasGit,
    ...(dotIgnore ? { dotIgnore } : {}),
    ...(gitignore ? { gitignore } : {}),
    ...(exclude ? { exclude } : {}),
  };
}

function test(rules: Ignore | undefined, rel: string, isDir: boolean): IgnoreVerdict {
  if (!rules) return undefined;
  const r = rules.test(isDir ? `${rel}/` : rel);
  return r.ignored ? "ignore" : r.unignored ? "include" : undefined;
}

/** An immutable stack of levels, shallowest first. */
export class IgnoreStack {
  static readonly EMPTY = new IgnoreStack([]);

  private constructor(private readonly levels: readonly IgnoreLevel[]) {}

  push(level: IgnoreLevel | undefined): IgnoreStack {
    return level ? new IgnoreStack([...this.levels, level]) : this;
  }

  /** What the ignore files say about `relPath` (relative to the base, `/` separators). */
  verdict(relPath: string, isDir: boolean): IgnoreVerdict {
    let dotIgnore: IgnoreVerdict;
    let gitignore: IgnoreVerdict;
    let exclude: IgnoreVerdict;
    let sawGit = false;
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const level = this.levels[i]!;
      const rel = level.dir === "" ? relPath : relPath.slice(level.dir.length + 1);
      if (rel === "") continue;
      dotIgnore ??= test(level.dotIgnore, rel, isDir);
      if (!sawGit) {
        gitignore ??= test(level.gitignore, rel, isDir);
        exclude ??= test(level.exclude, rel, isDir);
      }
      sawGit ||= level.hasGit;
    }
    return dotIgnore ?? gitignore ?? exclude;
  }
}
