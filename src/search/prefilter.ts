/**
 * Literal prefilters for warm searches: the longest piece of text that every match of a pattern
 * must contain, found with `Buffer.indexOf` (memchr/Boyer-Moore in C++) before the regex engine
 * sees a file. Most files of a tree hold no match, so most files never reach RE2.
 *
 * The extraction is conservative: it only returns a literal when it can prove every match
 * contains it (a top-level alternation, a case-insensitive search or an inline flag give none).
 * A missing literal only costs speed, never a match.
 */
import { RE2 } from "../support/regex.js";
import { escapeRegex, supersetPerlClasses, unicodePerlClasses, type Matcher, type Span } from "./matcher.js";
import type { LiteralPlan } from "./literal-plan.js";
import { matchableBytes } from "./match-bytes.js";

/** Characters that end a literal run in RE2 syntax outside a class. */
const META = new Set(["\\", "^", "$", ".", "|", "?", "*", "+", "(", ")", "[", "]", "{", "}"]);

/** Skips a `[...]` class starting at `i` (the "["); returns the index after its "]". */
function skipClass(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === "^") j++;
  if (p[j] === "]") j++;
  for (; j < p.length; j++) {
    if (p[j] === "\\") j++;
    else if (p[j] === "[" && p[j + 1] === ":") {
      const end = p.indexOf(":]", j + 2);
      if (end !== -1) j = end + 1;
    } else if (p[j] === "]") return j + 1;
  }
  return p.length;
}

/** Skips a group starting at `i` (the "("); returns the index after its ")". */
function skipGroup(p: string, i: number): number {
  let depth = 0;
  for (let j = i; j < p.length; j++) {
    const c = p[j];
    if (c === "\\") j++;
    else if (c === "[") j = skipClass(p, j) - 1;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return j + 1;
  }
  return p.length;
}

/** True when `p` has a `|` outside any group or class: then no literal is required. */
function hasTopLevelAlternation(p: string): boolean {
  for (let j = 0; j < p.length; j++) {
    const c = p[j];
    if (c === "\\") j++;
    else if (c === "[") j = skipClass(p, j) - 1;
    else if (c === "(") j = skipGroup(p, j) - 1;
    else if (c === "|") return true;
  }
  return false;
}

/** What follows an atom at `i`: none, an optional quantifier (? * {0,…}), a repeating one (+ {n≥1,…}). */
function repetition(p: string, i: number): "none" | "optional" | "repeat" | "unknown" {
  const q = p[i];
  if (q === "?" || q === "*") return "optional";
  if (q === "+") return "repeat";
  if (q !== "{") return "none";
  const m = /^\{(\d+)(,\d*)?\}/.exec(p.slice(i));
  if (!m) return "unknown";
  return Number(m[1]) === 0 ? "optional" : "repeat";
}

/**
 * Literals every match of `pattern` contains (each run of plain characters in its top-level
 * sequence). With `ignoreCase` they are required up to case (RE2's simple case folding), which
 * the plan below accounts for.
 */
export function requiredLiterals(pattern: string, literal: boolean): string[] {
  if (literal) return pattern.includes("\n") || pattern.length === 0 ? [] : [pattern];
  if (/\(\?[a-zA-Z-]*[iUsm]/.test(pattern) || hasTopLevelAlternation(pattern)) return [];
  const runs: string[] = [];
  let run = "";
  const end = () => {
    if (run) runs.push(run);
    run = "";
  };
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i]!;
    let atom: string | undefined;
    let next: number;
    if (c === "\\") {
      const e = pattern[i + 1];
      if (e === undefined) return [];
      if (e === "Q") {
        const stop = pattern.indexOf("\\E", i + 2);
        const body = pattern.slice(i + 2, stop === -1 ? undefined : stop);
        // Only the last character of \Q…\E can be taken by a quantifier.
        run += body.slice(0, -1);
        atom = body.slice(-1) || undefined;
        next = stop === -1 ? pattern.length : stop + 2;
      } else if (/[A-Za-z0-9]/.test(e)) {
        // \w \d \s \b \pL \x41 \n…: not a plain literal (an escape with arguments ends the run).
        end();
        next = i + 2;
        if ((e === "p" || e === "P" || e === "x") && pattern[i + 2] === "{") {
          const close = pattern.indexOf("}", i + 3);
          next = close === -1 ? pattern.length : close + 1;
        } else if (e === "p" || e === "P") next = i + 3;
        else if (e === "x") next = i + 4;
      } else {
        atom = e;
        next = i + 2;
      }
    } else if (c === "[") {
      end();
      next = skipClass(pattern, i);
    } else if (c === "(") {
      end();
      next = skipGroup(pattern, i);
    } else if (c === "{") {
      // A repetition after a class, group or escape (the run has already ended): skip it whole.
      end();
      const m = /^\{\d*(,\d*)?\}/.exec(pattern.slice(i));
      next = i + (m ? m[0].length : 1);
    } else if (META.has(c)) {
      end();
      next = i + 1;
    } else {
      const cp = pattern.codePointAt(i)!;
      atom = String.fromCodePoint(cp);
      next = i + atom.length;
    }
    // A quantifier after the atom: optional ones drop it, repeating ones end the run after it.
    const rep = repetition(pattern, next);
    if (atom !== undefined) {
      if (rep === "optional") end();
      else if (rep === "repeat" || rep === "unknown") {
        if (rep === "repeat") run += atom;
        end();
      } else run += atom;
    }
    i = next;
  }
  end();
  return runs.filter((r) => !r.includes("\n"));
}

/** Splits `p` at its top-level `|` (outside groups and classes). */
function topLevelBranches(p: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let j = 0; j < p.length; j++) {
    const c = p[j];
    if (c === "\\") j++;
    else if (c === "[") j = skipClass(p, j) - 1;
    else if (c === "(") j = skipGroup(p, j) - 1;
    else if (c === "|") {
      out.push(p.slice(from, j));
      from = j + 1;
    }
  }
  out.push(p.slice(from));
  return out;
}

/**
 * What every match must contain, as alternatives: each match contains every literal of at least
 * one alternative. A top-level alternation gives one alternative per branch; a branch without a
 * literal (or an inline flag, which changes what literals mean) gives no plan at all.
 */
export function literalAlternatives(pattern: string, literal: boolean): string[][] | undefined {
  if (literal) {
    const lits = requiredLiterals(pattern, true);
    return lits.length > 0 ? [lits] : undefined;
  }
  if (/\(\?[a-zA-Z-]*[iUsm]/.test(pattern)) return undefined;
  const branches = hasTopLevelAlternation(pattern) ? topLevelBranches(pattern) : [pattern];
  const out: string[][] = [];
  for (const b of branches) {
    const lits = requiredLiterals(b, false);
    if (lits.length === 0) return undefined;
    out.push(lits);
  }
  return out;
}

/** Words so common in source code that a literal made of one is a poor one to scan for. */
const COMMON = new Set(
  "function return const this import export class var let new string number true false null undefined public private static void await async type interface from require module default if else for while".split(
    " ",
  ),
);

/**
 * Of the required literals, the one likely to occur least: longer, with capitals, digits or
 * punctuation, and not a keyword. A heuristic: any choice gives the same results.
 */
export function rarestLiteral(literals: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const lit of literals) {
    let score = 0;
    for (const ch of lit) score += /[a-z]/.test(ch) ? 1 : /[A-Z0-9]/.test(ch) ? 2 : /\s/.test(ch) ? 0.5 : 2;
    if (COMMON.has(lit.toLowerCase())) score /= 3;
    if (score > bestScore) {
      best = lit;
      bestScore = score;
    }
  }
  return best;
}

/**
 * `matcher` with an indexOf check in front of its whole-file `mayMatch`, and of each line's
 * `matches`: a line without the literal cannot match. Lines that hold it are still matched by the
 * matcher itself, so results are exactly the matcher's.
 *
 * `exact`: the pattern IS the literal (literal search, case-sensitive, no word boundaries). Then
 * the spans are the literal's leftmost non-overlapping occurrences, found with String.indexOf,
 * which is what RE2 returns, without copying each line into RE2 (costly on minified lines).
 */
export interface PatternSource {
  pattern: string;
  literal: boolean;
  wordBoundaries: boolean;
}

/** A matcher that can also scan raw bytes (see `bytesScanner`). */
export interface PrefilteredMatcher extends Matcher {
  /** The matcher without the prefilter, for lines known to hold a needle already. */
  readonly inner?: Matcher;
  /**
   * The spans of the matches in one line given as valid UTF-8 bytes, as BYTE offsets, without
   * making a string of it; absent when this pattern cannot be scanned that way.
   */
  readonly matchesBytes?: (line: Buffer) => Span[];
  /**
   * With `matchesBytes`: the bytes a match can contain (match-bytes.ts), when not nearly all;
   * a match never crosses another byte, so a long line can be matched in runs of these.
   */
  readonly matchable?: Uint8Array;
  /**
   * Where in `window` (UTF-8 bytes starting at a line start), at or after byte `from`, the
   * first match of the pattern may start (-1: none): a superset of the matches, so the line
   * holding the returned offset is worth giving to the matcher and no line before it is.
   */
  readonly findCandidate?: (window: Buffer, from: number) => number;
}

/**
 * A global RE2 over bytes with the semantics `compileMatcher` gives a string, for UTF-8 lines:
 * the same source (escaped literal, or Unicode \w \d \s classes) and case flag. Word-boundary
 * searches are left to the matcher.
 */
function bytesScanner(src: PatternSource, ignoreCase: boolean): ((line: Buffer) => Span[]) | undefined {
  if (src.wordBoundaries) return undefined;
  let re: RE2;
  try {
    re = new RE2(
      src.literal ? escapeRegex(src.pattern) : unicodePerlClasses(src.pattern),
      ignoreCase ? "gmi" : "gm",
    );
  } catch {
    return undefined;
  }
  return (line) => {
    const spans: Span[] = [];
    re.lastIndex = 0;
    while (re.lastIndex <= line.length) {
      const m = re.exec(line);
      if (!m) break;
      const start = m.index;
      const end = start + (m[0] as unknown as Buffer).length;
      spans.push({ start, end });
      re.lastIndex = end === start ? end + 1 : end;
    }
    return spans;
  };
}

/**
 * The source of a regex that matches wherever `src` matches (and sometimes more), cheap for RE2:
 * `\w \d \s` widened to SUPERSET_CLASSES (RE2 with Unicode `\w` and case folding builds a large
 * automaton, slow on big inputs). Undefined when nothing is cheaper than the pattern itself.
 */
function supersetSource(src: PatternSource): string | undefined {
  if (src.literal) return undefined;
  const wide = supersetPerlClasses(src.pattern);
  return wide === undefined || wide === src.pattern ? undefined : wide;
}

function compileOrUndefined(source: string, flags: string): RE2 | undefined {
  try {
    return new RE2(source, flags);
  } catch {
    return undefined;
  }
}

/**
 * `matcher` with the plan's literal test in front of its whole-file `mayMatch` and of each
 * line's `matches`: a line without a needle cannot match. Lines that hold one are still matched
 * by the matcher itself, so results are exactly the matcher's.
 *
 * `exact`: the pattern IS the literal (literal search, case-sensitive, no word boundaries). Then
 * the spans are the literal's leftmost non-overlapping occurrences, found with String.indexOf,
 * which is what RE2 returns, without copying each line into RE2 (costly on minified lines).
 */
export function withLiteralPrefilter(
  matcher: Matcher,
  plan: LiteralPlan | undefined,
  exact = false,
  source?: PatternSource,
): PrefilteredMatcher {
  const wide = source ? supersetSource(source) : undefined;
  const flags = matcher.ignoreCase ? "mi" : "m";
  const probeRe = wide === undefined ? undefined : compileOrUndefined(wide, flags);
  const mayMatch = probeRe
    ? (text: string | Buffer) => probeRe.test(text as string)
    : (text: string | Buffer) => matcher.mayMatch(text);
  if (plan === undefined) {
    return probeRe
      ? { ignoreCase: matcher.ignoreCase, mayMatch, matches: (l) => matcher.matches(l), inner: matcher }
      : matcher;
  }
  const literal = exact ? plan.alternatives[0]!.needle.toString("utf8") : "";
  const bytes = !exact && source ? bytesScanner(source, matcher.ignoreCase) : undefined;
  const matchable =
    bytes && source ? matchableBytes(source.pattern, source.literal, matcher.ignoreCase) : undefined;
  // The line finder: the superset (or the pattern itself) as a global RE2 over bytes. A word-bounded
  // pattern's matches are matches of the bare pattern, so the bare one serves it too.
  const findRe =
    exact || !source
      ? undefined
      : ((wide === undefined ? undefined : compileOrUndefined(wide, `g${flags}`)) ??
        compileOrUndefined(
          source.literal ? escapeRegex(source.pattern) : unicodePerlClasses(source.pattern),
          `g${flags}`,
        ));
  return {
    ignoreCase: matcher.ignoreCase,
    inner: { ignoreCase: matcher.ignoreCase, mayMatch, matches: (l) => matcher.matches(l) },
    mayMatch: (text) => plan.test(text) && (exact || mayMatch(text)),
    matches: (line) => {
      if (!exact) return plan.test(line) ? matcher.matches(line) : [];
      const spans = [];
      for (let at = line.indexOf(literal); at !== -1; at = line.indexOf(literal, at + literal.length)) {
        spans.push({ start: at, end: at + literal.length });
      }
      return spans;
    },
    ...(bytes ? { matchesBytes: bytes } : {}),
    ...(matchable ? { matchable } : {}),
    ...(findRe
      ? {
          findCandidate: (window: Buffer, from: number) => {
            findRe.lastIndex = from;
            const m = findRe.exec(window);
            return m ? m.index : -1;
          },
        }
      : {}),
  };
}
