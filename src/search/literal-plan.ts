/**
 * A query's literal plan: what every match must contain (prefilter.ts finds it), as trigrams to
 * check against the files' summaries (warm-scan.ts) and as a quick test of a whole file.
 *
 * Case: the summaries hold ASCII-case-folded trigrams, so one summary serves case-sensitive and
 * case-insensitive queries alike (the query's trigrams are folded the same way). RE2 folds case
 * by Unicode's simple case folding, where "k" also matches the Kelvin sign (U+212A) and "s" the
 * long s (U+017F): the summaries also hold the trigrams with those two signs read as "k" and "s"
 * (warm-scan.ts), so every ASCII trigram of a case-insensitive literal is usable. A trigram with a
 * non-ASCII byte is not, for a case-insensitive query: a non-ASCII letter matches other bytes.
 */
import { RE2 } from "../support/regex.js";
import { escapeRegex } from "./matcher.js";

/** ASCII upper case to lower case; every other byte as is. */
export const FOLD = new Uint8Array(256);
for (let i = 0; i < 256; i++) FOLD[i] = i >= 0x41 && i <= 0x5a ? i + 32 : i;

/** A byte whose trigrams a case-insensitive literal cannot use (see the module comment). */
function caseUnsafe(c: number): boolean {
  return c >= 0x80;
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
  /** The trigrams of each literal (same order), all of which a block holding it has. */
  readonly literalGrams: readonly (readonly number[])[];
  /** All their trigrams, all of which a file holding such a match has. */
  readonly grams: readonly number[];
  /** The literal a heuristic thinks rarest (one of `literals`, at `needleIndex`). */
  readonly needle: Buffer;
  readonly needleIndex: number;
}

export interface LiteralPlan {
  /** Each match contains every literal of at least one alternative. */
  readonly alternatives: readonly PlanAlternative[];
  readonly ignoreCase: boolean;
  /**
   * Most bytes an occurrence of a literal can take (case folding can change byte lengths: a
   * case-insensitive "k" matches the 3-byte Kelvin sign).
   */
  readonly maxLiteralBytes: number;
  /** Whether any alternative's needle occurs in the text (a necessary condition for a match). */
  test(text: string | Buffer): boolean;
  /**
   * A finder of the first occurrence of any of `needles` (literals of the alternatives, one per
   * alternative) in content[from, to), as [start, end), matching case as the query does.
   * Compiled once per set of needles and query.
   */
  finder(needles: readonly Buffer[]): Finder;
}

export type Finder = (content: Buffer, from: number, to: number) => [number, number] | undefined;

/** The finder of `needles`: Buffer.indexOf for one case-sensitive needle, else one RE2 (a DFA). */
function makeFinder(needles: readonly Buffer[], ignoreCase: boolean): Finder {
  if (needles.length === 1 && !ignoreCase) {
    const needle = needles[0]!;
    return (content, from, to) => {
      if (from >= to) return undefined;
      const at = content.subarray(from, to).indexOf(needle);
      return at === -1 ? undefined : [from + at, from + at + needle.length];
    };
  }
  const source = [...new Set(needles.map((n) => escapeRegex(n.toString("utf8"))))].join("|");
  const global = new RE2(source, ignoreCase ? "gi" : "g");
  return (content, from, to) => {
    if (from >= to) return undefined;
    global.lastIndex = 0;
    const m = global.exec(content.subarray(from, to));
    if (!m) return undefined;
    const start = from + m.index;
    return [start, start + (m[0] as unknown as Buffer).length];
  };
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
    const literalGrams = literals.map((l) => trigramsOf(l, ignoreCase));
    const needleIndex = Math.max(0, usable.indexOf(needleText));
    alts.push({
      literals,
      literalGrams,
      grams: [...new Set(literalGrams.flat())],
      needle: literals[needleIndex]!,
      needleIndex,
    });
  }
  const longest = Math.max(...alts.flatMap((a) => a.literals.map((l) => l.length)));
  // A case-insensitive ASCII character can match a 3-byte one (the Kelvin sign).
  const maxLiteralBytes = ignoreCase ? longest * 3 : longest;
  const finders = new Map<string, Finder>();
  const finder = (needles: readonly Buffer[]): Finder => {
    const key = needles.map((n) => n.toString("latin1")).join("\0");
    let f = finders.get(key);
    if (!f) finders.set(key, (f = makeFinder(needles, ignoreCase)));
    return f;
  };
  if (alts.length === 1 && !ignoreCase) {
    const text = alts[0]!.needle.toString("utf8");
    // A whole file's bytes (a first search, no summary yet) are probed with RE2 (memchr-driven):
    // as fast as Buffer.indexOf at worst, twice as fast for needles like "useState" (measured
    // over the bench corpus).
    const probe = new RE2(escapeRegex(text), "");
    return {
      alternatives: alts,
      ignoreCase,
      maxLiteralBytes,
      test: (t) => (typeof t === "string" ? t.includes(text) : probe.test(t as unknown as string)),
      finder,
    };
  }
  // Several needles, or case folding: one RE2 of the escaped needles (a DFA over the bytes).
  const probe = new RE2(
    alts.map((a) => escapeRegex(a.needle.toString("utf8"))).join("|"),
    ignoreCase ? "i" : "",
  );
  return { alternatives: alts, ignoreCase, maxLiteralBytes, test: (t) => probe.test(t as string), finder };
}
