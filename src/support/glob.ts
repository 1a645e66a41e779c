/**
 * Globs with ripgrep's `-g` / gitignore semantics:
 * - a pattern without a `/` (a trailing one aside) matches the basename at any depth;
 * - a pattern with a `/` is anchored to the search root (a leading `/` is dropped);
 * - a trailing `/` matches folders only;
 * - `*` and `?` never match `/`, `**` matches across folders, `{a,b}` and `[a-z]` work,
 *   and wildcards match dot-names too (as in .gitignore).
 * Matching is case-sensitive. Paths are relative, with `/` separators.
 */
import picomatch from "picomatch";
import { RE2 } from "./regex.js";

/**
 * picomatch's lookarounds that only exclude `.`/`..` segments and empty strings: no-ops on the
 * normalized, non-empty relative paths matched here, so dropping them changes no answer.
 */
const NOOP_LOOKAROUNDS = ["(?!(?:^|\\/)\\.{1,2}(?:\\/|$))", "(?!\\.{1,2}(?:\\/|$))", "(?=.)"];

/** Most wildcards a glob RE2 cannot take may have: a backtracking regex is exponential in them. */
const MAX_BACKTRACKING_WILDCARDS = 4;

/**
 * The glob as a linear-time RE2 matcher. picomatch compiles to a backtracking RegExp, and a
 * crafted glob such as `*a*a*a*a*a*a*b` against a long name would stall the daemon.
 */
function linearMatcher(
  body: string,
  options: picomatch.PicomatchOptions,
  pattern: string,
): (s: string) => boolean {
  const re = picomatch.makeRe(body, options);
  let source = re.source;
  for (const noop of NOOP_LOOKAROUNDS) source = source.split(noop).join("");
  try {
    const re2 = new RE2(source, re.flags.replace(/[gy]/g, ""));
    return (s) => re2.test(s);
  } catch {
    // Rare constructs RE2 lacks: keep picomatch, but only for globs too simple to blow up.
    const wildcards = (body.match(/\*+|\?/g) ?? []).length;
    if (wildcards > MAX_BACKTRACKING_WILDCARDS) {
      throw new GlobError(
        `glob "${pattern}" is too complex (${wildcards} wildcards in a form only a backtracking matcher takes); simplify it`,
      );
    }
    return (s) => re.test(s);
  }
}

export interface CompiledGlob {
  readonly pattern: string;
  /** `!pattern`: excludes instead of includes (only where negation is allowed). */
  readonly negated: boolean;
  readonly dirOnly: boolean;
  test(relPath: string, isDir: boolean): boolean;
}

export class GlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GlobError";
  }
}

export function compileGlob(pattern: string, opts: { allowNegation?: boolean } = {}): CompiledGlob {
  let body = pattern;
  let negated = false;
  if (opts.allowNegation && body.startsWith("!")) {
    negated = true;
    body = body.slice(1);
  }
  let dirOnly = false;
  while (body.length > 1 && body.endsWith("/")) {
    dirOnly = true;
    body = body.slice(0, -1);
  }
  const anchored = body.includes("/");
  if (body.startsWith("/")) body = body.replace(/^\/+/, "");
  if (body === "" || body === "/") throw new GlobError(`glob "${pattern}" is empty`);
  let isMatch: (s: string) => boolean;
  try {
    isMatch = linearMatcher(
      body,
      { dot: true, noextglob: true, nonegate: true, strictBrackets: false },
      pattern,
    );
  } catch (err) {
    if (err instanceof GlobError) throw err;
    throw new GlobError(`invalid glob "${pattern}": ${(err as Error).message}`);
  }
  return {
    pattern,
    negated,
    dirOnly,
    test(relPath: string, isDir: boolean): boolean {
      if (dirOnly && !isDir) return false;
      if (anchored) return isMatch(relPath);
      const slash = relPath.lastIndexOf("/");
      return isMatch(slash === -1 ? relPath : relPath.slice(slash + 1));
    },
  };
}

/**
 * A list of `-g` globs, ripgrep's overrides: the last glob that matches decides (`!glob`
 * excludes, `glob` includes, and an include here beats ignore files and hidden-ness); when there
 * is at least one include glob, files that match none are excluded (folders are still walked).
 */
export class GlobOverrides {
  private readonly globs: CompiledGlob[];
  private readonly hasIncludes: boolean;

  constructor(patterns: readonly string[]) {
    this.globs = patterns.map((p) => compileGlob(p, { allowNegation: true }));
    this.hasIncludes = this.globs.some((g) => !g.negated);
  }

  get isEmpty(): boolean {
    return this.globs.length === 0;
  }

  /** "include", "exclude", or undefined when the globs say nothing about this path. */
  verdict(relPath: string, isDir: boolean): "include" | "exclude" | undefined {
    for (let i = this.globs.length - 1; i >= 0; i--) {
      const glob = this.globs[i]!;
      if (glob.test(relPath, isDir)) return glob.negated ? "exclude" : "include";
    }
    return this.hasIncludes && !isDir ? "exclude" : undefined;
  }
}
