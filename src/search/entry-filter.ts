/**
 * Which entries a walk yields: ripgrep's rules in ripgrep's order, written once for the disk
 * walker (walk.ts), the disk scan (disk-scan.ts) and the warm index (src/index).
 *
 * 1. `-g` globs (`globs`, with `!` for excludes) decide first: the last glob that matches wins,
 *    and an include beats ignore files, types and hidden-ness.
 * 2. Ignore files: an ignored entry is out; a `!pattern` re-include whitelists it.
 * 3. File types (`rg -t`): a file of none of the types is out; one of them is whitelisted.
 * 4. Dot-names are out unless `includeHidden` or whitelisted above.
 * `.git` is never entered nor listed.
 */
import { GlobOverrides } from "../support/glob.js";
import { fileTypeMatcher } from "./file-types.js";
import type { IgnoreStack } from "./ignore-rules.js";

export interface FilterOptions {
  /** Include dot-names (except `.git`). Default false. */
  includeHidden?: boolean;
  /** Apply `.gitignore`, `.ignore`, `.rgignore` and `.git/info/exclude`. Default true. */
  respectIgnoreFiles?: boolean;
  /** ripgrep `-g` globs, matched against paths relative to the walk's root. */
  globs?: readonly string[];
  /** ripgrep type names (`ts`, `py`, …): only files of these types. */
  types?: readonly string[];
}

/** Never entered nor listed, whatever the options. */
export const ALWAYS_SKIPPED = ".git";

export class EntryFilter {
  readonly respectIgnore: boolean;
  private readonly includeHidden: boolean;
  private readonly overrides: GlobOverrides;
  private readonly typeOf: ((name: string) => boolean) | undefined;

  /**
   * `rootFromBase`: the walk's root relative to the base whose ignore stack is passed to
   * `included` ("" when they are the same). Throws GlobError / UnknownFileTypeError.
   */
  constructor(
    options: FilterOptions,
    private readonly rootFromBase = "",
  ) {
    this.respectIgnore = options.respectIgnoreFiles ?? true;
    this.includeHidden = options.includeHidden ?? false;
    this.overrides = new GlobOverrides(options.globs ?? []);
    this.typeOf = options.types && options.types.length > 0 ? fileTypeMatcher(options.types) : undefined;
  }

  /** `rel`: relative to the walk's root; `name`: its last component. */
  included(rel: string, name: string, isDir: boolean, ignores: IgnoreStack): boolean {
    if (name === ALWAYS_SKIPPED) return false;
    const glob = this.overrides.isEmpty ? undefined : this.overrides.verdict(rel, isDir);
    if (glob !== undefined) return glob === "include";
    let whitelisted = false;
    if (this.respectIgnore) {
      const verdict = ignores.verdict(this.rootFromBase === "" ? rel : `${this.rootFromBase}/${rel}`, isDir);
      if (verdict === "ignore") return false;
      whitelisted = verdict === "include";
    }
    if (this.typeOf && !isDir) {
      if (!this.typeOf(name)) return false;
      whitelisted = true;
    }
    if (!whitelisted && !this.includeHidden && name.startsWith(".")) return false;
    return true;
  }
}
