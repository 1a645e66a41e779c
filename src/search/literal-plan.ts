/**
 * A query's literal plan: what every match must contain (prefilter.ts finds it), as trigrams to
 * check against the files' summaries (warm-scan.ts) and as a finder for the occurrences.
 *
 * Case: the summaries hold ASCII-case-folded trigrams, so one summary serves case-sensitive and
 * case-insensitive queries alike (the query's trigrams are folded the same way). For a
 * case-insensitive query a trigram is only used when it is pure ASCII without k or s: RE2 folds
 * case by Unicode's simple case folding, where "k" also matches the Kelvin sign (U+212A) and "s"
 * the long s (U+017F), and a non-ASCII letter matches other bytes; such a trigram could be absent
 * from a file that matches. Occurrences are then found with a case-insensitive RE2 of the
 * literals, which folds exactly as the matcher does.
 */
import { RE2 } from "../support/regex.js";
import { escapeRegex } from "./matcher.js";

/** ASCII upper case to lower case; every other byte as is. */
export const FOLD = new Uint8Array(256);
for (let i = 0; i < 256; i++) FOLD[i] = i >= 0x41 && i <= 0x5a ? i + 32 : i;

/** A byte that may match other bytes under case-insensitive matching (see the module comment). */
function caseUnsafe(c: number): boolean {
  return c >= 0x80 || c === 0x6b || c === 0x73; // non-ASCII, k, s (folded)
}

/** The folded trigrams of a literal's UTF-8 bytes, as 24-bit numbers; see the module comment. */
export function trigramsOf(literal: Buffer, ignoreCase = false): number[] {
  const out: number[] = [];
  for (let i = 2; i < literal.length; i++) {
    const a = FOLD[literal[i - 2]!]!;
    const b = FOLD[literal[i - 1]!]!;
    const c = FOLD[literal[i]!]!;
    if (ignoreCase && (caseUnsafe(a) || caseUnsafe(b) || caseUnsafe(c))) continue;
    out.push((a << 16) | (b << 8) | c);
  }
  return out;
}

export interface PlanAlternative {
  /** Every literal a match of this alternative contains (UTF-8). */
  readonly literals: readonly Buffer[];
  /** Their trigrams, all of which a file holding such a match has. */
  readonly grams: readonly number[];
  /** The literal scanned for (the rarest one), and its trigrams. */
  readonly needle: Buffer;
  readonly needleGrams: readonly number[];
}

export type Finder = (content: Buffer, from: number, to: number) => [number, number] | undefined;

export interface LiteralPlan {
  /** Each match contains every literal of at least one alternative. */
  readonly alternatives: readonly PlanAlternative[];
  readonly ignoreCase: boolean;
  /** Most bytes an occurrence of a needle can take (case folding can change byte lengths). */
  readonly maxNeedleBytes: number;
  /**
   * A finder for one scan of one buffer: the first occurrence of any needle in content[from, to),
   * as [start, end), or undefined (maybe a superset of them: the matcher decides each line).
   * Ask for a new one per buffer (it may keep state about the buffer).
   */
  finder(): Finder;
  /** Whether any alternative's needle occurs in the text (a necessary condition for a match). */
  test(text: string | Buffer): boolean;
}

/**
 * The plan for literal alternatives (from `literalAlternatives`); `pick` chooses each
 * alternative's needle. Undefined when there is nothing to plan with.
 */
export function buildPlan(
  alternatives: readonly (readonly string[])[] | undefined,
  ignoreCase: boolean,
  pick: (literals: readonly string[]) => string | undefined,
): LiteralPlan | undefined {
  if (!alternatives || alternatives.length === 0) return undefined;
  const alts: PlanAlternative[] = [];
  for (const lits of alternatives) {
    const usable = lits.filter((l) => l.length > 0 && !l.includes("\n"));
    const needleText = pick(usable);
    if (needleText === undefined) return undefined;
    const literals = usable.map((l) => Buffer.from(l, "utf8"));
    const needle = Buffer.from(needleText, "utf8");
    alts.push({
      literals,
      grams: [...new Set(literals.flatMap((l) => trigramsOf(l, ignoreCase)))],
      needle,
      needleGrams: trigramsOf(needle, ignoreCase),
    });
  }
  const longest = Math.max(...alts.map((a) => a.needle.length));
  // A case-insensitive ASCII character can match a 3-byte one (the Kelvin sign).
  const maxNeedleBytes = ignoreCase ? longest * 3 : longest;
  if (alts.length === 1 && !ignoreCase) {
    const needle = alts[0]!.needle;
    const text = needle.toString("utf8");
    return {
      alternatives: alts,
      ignoreCase,
      maxNeedleBytes,
      finder: () => (content, from, to) => {
        if (from >= to) return undefined;
        const at = content.subarray(from, to).indexOf(needle);
        return at === -1 ? undefined : [from + at, from + at + needle.length];
      },
      test: (t) => (typeof t === "string" ? t.includes(text) : t.indexOf(needle) !== -1),
    };
  }
  if (ignoreCase) {
    const keys = alts.map((a) => foldKey(a.needle));
    if (keys.every((k) => k.length >= 2)) return foldedPlan(alts, keys, maxNeedleBytes);
  }
  // Several needles, or case folding: one RE2 of the escaped needles (a DFA over the bytes).
  const source = alts.map((a) => escapeRegex(a.needle.toString("utf8"))).join("|");
  const global = new RE2(source, ignoreCase ? "gi" : "g");
  const probe = new RE2(source, ignoreCase ? "i" : "");
  return {
    alternatives: alts,
    ignoreCase,
    maxNeedleBytes,
    finder: () => (content, from, to) => {
      if (from >= to) return undefined;
      const window = content.subarray(from, to);
      global.lastIndex = 0;
      const m = global.exec(window);
      if (!m) return undefined;
      const start = from + m.index;
      return [start, start + (m[0] as unknown as Buffer).length];
    },
    test: (t) => probe.test(t as string),
  };
}

/**
 * The longest run of a needle's bytes that are ASCII and not k or s, folded: every
 * case-insensitive occurrence of the needle holds it as these exact folded bytes (see the module
 * comment), so searching a folded copy of the text for it finds every occurrence (and maybe more;
 * the matcher decides each line).
 */
function foldKey(needle: Buffer): Buffer {
  let best: [number, number] = [0, 0];
  let start = 0;
  for (let i = 0; i <= needle.length; i++) {
    if (i === needle.length || caseUnsafe(FOLD[needle[i]!]!)) {
      if (i - start > best[1] - best[0]) best = [start, i];
      start = i + 1;
    }
  }
  return Buffer.from(needle.subarray(best[0], best[1]).map((c) => FOLD[c]!));
}

/**
 * A case-insensitive plan that finds occurrences with Buffer.indexOf in a folded copy of the
 * window being scanned (node-re2 costs several µs per exec call, Buffer.indexOf nothing).
 */
/** Windows up to this size are folded for Buffer.indexOf; longer ones are searched with RE2. */
const FOLD_WINDOW_MAX = 8192;

function foldedPlan(alts: PlanAlternative[], keys: Buffer[], maxNeedleBytes: number): LiteralPlan {
  const source = alts.map((a) => escapeRegex(a.needle.toString("utf8"))).join("|");
  const probe = new RE2(source, "i");
  const global = new RE2(source, "gi");
  let scratch = Buffer.alloc(0);
  return {
    alternatives: alts,
    ignoreCase: true,
    maxNeedleBytes,
    finder: () => {
      let folded: { start: number; end: number } | undefined;
      return (content, from, to) => {
        if (from >= to) return undefined;
        if (to - from > FOLD_WINDOW_MAX && (!folded || from < folded.start || to > folded.end)) {
          // A long window (a minified line): one RE2 pass beats folding it byte by byte in JS.
          global.lastIndex = 0;
          const m = global.exec(content.subarray(from, to));
          if (!m) return undefined;
          return [from + m.index, from + m.index + (m[0] as unknown as Buffer).length];
        }
        if (!folded || from < folded.start || to > folded.end) {
          if (scratch.length < to - from)
            scratch = Buffer.allocUnsafe(Math.max(to - from, scratch.length * 2));
          for (let i = from; i < to; i++) scratch[i - from] = FOLD[content[i]!]!;
          folded = { start: from, end: to };
        }
        const base = folded.start;
        const window = scratch.subarray(from - base, to - base);
        let best = -1;
        let bestLen = 0;
        for (const key of keys) {
          const at = window.indexOf(key);
          if (at !== -1 && (best === -1 || at < best)) {
            best = at;
            bestLen = key.length;
          }
        }
        return best === -1 ? undefined : [from + best, from + best + bestLen];
      };
    },
    test: (t) => probe.test(t as string),
  };
}
