/**
 * Ignore files, with ripgrep's precedence: `.rgignore` beats `.ignore`, which beats `.gitignore`,
 * which beats `.git/info/exclude`; within each kind the deepest folder's file that says anything
 * wins (so a nested `!pattern` re-includes); `.gitignore` / exclude files above the nearest folder
 * holding `.git` do not apply below it. Patterns are relative to the folder of their file (the
 * `ignore` package, case-sensitive like git on Linux).
 *
 * Unlike ripgrep, `.gitignore` applies even when the workspace is not a git repository (as
 * `rg --no-require-git`), and no ignore file above the workspace root is read.
 */
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";
import { READ_NONBLOCK, readFullySync } from "../support/confined-fs.js";

/**
 * Ignore files larger than this are not applied (git has no limit; real ones are a few KiB). A
 * hostile one (a 2 GB file, or a symlink to /dev/zero) must not cost the daemon its memory.
 */
export const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/** Why an ignore file was not applied, for the caller's log. */
export type IgnoreFileProblem = (file: string, reason: string) => void;

export type IgnoreVerdict = "ignore" | "include" | undefined;

/** The names of the ignore files a folder can hold (its `.git/info/exclude` aside). */
export const IGNORE_FILE_NAMES: ReadonlySet<string> = new Set([".rgignore", ".ignore", ".gitignore"]);

/** The ignore files of one folder. `dir` is relative to the walk's base ("" for the base). */
export interface IgnoreLevel {
  readonly dir: string;
  /** rg's own ignore file, above `.ignore`. */
  readonly rgIgnore?: Ignore;
  readonly dotIgnore?: Ignore;
  readonly gitignore?: Ignore;
  readonly exclude?: Ignore;
  /** The folder holds `.git` (a repository or submodule root). */
  readonly hasGit: boolean;
}

/**
 * The text of an ignore file, or undefined when it is absent or not applied. Opened with
 * O_NOFOLLOW (a symlink, which could lead outside the workspace or to /dev/zero, is not followed:
 * unlike rg, which follows it), O_NONBLOCK (a FIFO must not hang the walk), and only a regular
 * file of at most MAX_IGNORE_FILE_BYTES is read, from the descriptor that was checked.
 */
export function readIgnoreFile(file: string, problem?: IgnoreFileProblem): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, READ_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") problem?.(file, "it is a symlink (ignore files are not followed)");
    else if (code !== "ENOENT" && code !== "ENOTDIR") problem?.(file, `cannot open it (${code})`);
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      problem?.(file, "it is not a regular file");
      return undefined;
    }
    if (st.size > MAX_IGNORE_FILE_BYTES) {
      problem?.(file, `it is ${st.size} bytes, over the limit of ${MAX_IGNORE_FILE_BYTES}`);
      return undefined;
    }
    // One byte more than the size: a file that grew since fstat is cut at the limit, not read on.
    const buf = Buffer.allocUnsafe(Math.min(st.size + 1, MAX_IGNORE_FILE_BYTES));
    return buf.toString("utf8", 0, readFullySync(fd, buf));
  } catch (err) {
    problem?.(file, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readRules(file: string, problem?: IgnoreFileProblem): Ignore | undefined {
  const text = readIgnoreFile(file, problem);
  return text === undefined ? undefined : ignore({ ignorecase: false }).add(text);
}

/**
 * Reads the ignore files of folder `absDir`, whose path relative to the base is `relDir`.
 * `names`, when known, lists the folder's entries, to skip looking for files that are not there.
 * Synchronous: ignore files are small and few, and a thread-pool round trip costs more.
 * `hasGit` defaults to `names` holding ".git".
 */
export function loadIgnoreLevelSync(
  absDir: string,
  relDir: string,
  names: ReadonlySet<string> | undefined,
  problem?: IgnoreFileProblem,
  hasGit = names?.has(".git") ?? false,
): IgnoreLevel | undefined {
  const has = (name: string): boolean => names === undefined || names.has(name);
  const rgIgnore = has(".rgignore") ? readRules(path.join(absDir, ".rgignore"), problem) : undefined;
  const dotIgnore = has(".ignore") ? readRules(path.join(absDir, ".ignore"), problem) : undefined;
  const gitignore = has(".gitignore") ? readRules(path.join(absDir, ".gitignore"), problem) : undefined;
  const exclude = hasGit ? readRules(path.join(absDir, ".git", "info", "exclude"), problem) : undefined;
  if (!rgIgnore && !dotIgnore && !gitignore && !exclude && !hasGit) return undefined;
  return {
    dir: relDir,
    hasGit,
    ...(rgIgnore ? { rgIgnore } : {}),
    ...(dotIgnore ? { dotIgnore } : {}),
    ...(gitignore ? { gitignore } : {}),
    ...(exclude ? { exclude } : {}),
  };
}

interface Verdict {
  readonly ignored: boolean;
  readonly unignored: boolean;
}

/**
 * One ignore file's answer for a path alone. The `ignore` package's `test` also answers "ignored"
 * for everything below a folder the file excludes (git's rule within one file). Across files that
 * is wrong: the walk settles each folder, over every level's file, before it enters it, and a
 * deeper `!/node_modules/` re-includes what a shallower `node_modules` excluded; below it, git and
 * rg ask each file about the path itself. The package's rule list does exactly that, but it is
 * not public API: it is used only if it answers a known case right, else `test` (right unless a
 * deeper file re-includes a folder).
 */
const testAlone: (rules: Ignore, path: string) => Verdict = (() => {
  const viaRules = (rules: Ignore, p: string): Verdict =>
    (rules as unknown as { _rules: { test(p: string, mode: string): Verdict } })._rules.test(p, "regex");
  try {
    const probe = ignore().add("node_modules\n!keep\n");
    const below = viaRules(probe, "a/node_modules/x");
    const itself = viaRules(probe, "a/node_modules/");
    const kept = viaRules(probe, "keep");
    if (!below.ignored && !below.unignored && itself.ignored && kept.unignored) return viaRules;
  } catch {
    // another version of the package: its public test
  }
  return (rules, p) => rules.test(p);
})();

function test(rules: Ignore | undefined, rel: string, isDir: boolean): IgnoreVerdict {
  if (!rules) return undefined;
  const r = testAlone(rules, isDir ? `${rel}/` : rel);
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
    let rgIgnore: IgnoreVerdict;
    let dotIgnore: IgnoreVerdict;
    let gitignore: IgnoreVerdict;
    let exclude: IgnoreVerdict;
    let sawGit = false;
    for (let i = this.levels.length - 1; i >= 0; i--) {
      const level = this.levels[i]!;
      const rel = level.dir === "" ? relPath : relPath.slice(level.dir.length + 1);
      if (rel === "") continue;
      rgIgnore ??= test(level.rgIgnore, rel, isDir);
      dotIgnore ??= test(level.dotIgnore, rel, isDir);
      if (!sawGit) {
        gitignore ??= test(level.gitignore, rel, isDir);
        exclude ??= test(level.exclude, rel, isDir);
      }
      sawGit ||= level.hasGit;
    }
    return rgIgnore ?? dotIgnore ?? gitignore ?? exclude;
  }
}
