/**
 * Property tests at the search's quiet seams (issue #13): the literal plan and prefilter never
 * reject a line the matcher accepts, the trigram summaries never exclude a real occurrence, and
 * the warm scan (plan + summaries + windows) gives exactly the cold scan's hits, for random
 * patterns and texts built from characters that stress case folding (k, s, the Kelvin sign, the
 * long s, accented letters), block edges and long lines.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { compileQuery, type SearchQuery } from "../../src/search/query.js";
import { scanContent } from "../../src/search/file-search.js";
import { fileMayMatch, scanByLiteral, summarize } from "../../src/search/warm-scan.js";
import type { FileScan } from "../../src/search/scan-types.js";
import { matchableBytes } from "../../src/search/match-bytes.js";

const ATOMS = [
  "k",
  "K",
  "\u212a",
  "s",
  "S",
  "\u017f",
  "e",
  "E",
  "x",
  "é",
  "É",
  "ab",
  "Ab",
  "1",
  "_",
  " ",
  "-",
  ".",
];
const word = fc.array(fc.constantFrom(...ATOMS), { minLength: 1, maxLength: 4 }).map((a) => a.join(""));

/** Regex pieces besides literals: classes, repetitions, groups, boundaries, anchors. */
const PIECES = [
  "\\w+",
  "\\s*",
  "\\d",
  "[a-z]",
  "[^x]",
  "(?:ab|k)",
  ".",
  "\\W",
  "x?",
  "e+",
  "\\bab",
  "\\babk",
  "k\\b",
  "^e",
  "x$",
];
/** Regex pieces: literals and the rest (PIECES); top-level alternation comes from regexPattern. */
const regexPiece = fc.oneof(
  word.map((w) => w.replace(/[.]/g, "\\.")),
  fc.constantFrom(...PIECES),
);
const regexPattern = fc
  .tuple(
    fc.array(regexPiece, { minLength: 1, maxLength: 4 }),
    fc.option(fc.array(regexPiece, { minLength: 1, maxLength: 3 })),
  )
  .map(([a, b]) => (b ? `${a.join("")}|${b.join("")}` : a.join("")));

const queryArb = fc.oneof(
  fc.record({
    pattern: word,
    literal: fc.constant(true),
    caseSensitive: fc.option(fc.boolean(), { nil: undefined }),
    wordBoundaries: fc.boolean(),
  }),
  fc.record({
    pattern: regexPattern,
    literal: fc.constant(false),
    caseSensitive: fc.option(fc.boolean(), { nil: undefined }),
    wordBoundaries: fc.boolean(),
  }),
);

const lineArb = fc.array(fc.constantFrom(...ATOMS, "foo", "xyz "), { maxLength: 12 }).map((a) => a.join(""));

function compile(q: {
  pattern: string;
  literal: boolean;
  caseSensitive?: boolean | undefined;
  wordBoundaries: boolean;
}): SearchQuery | undefined {
  try {
    return compileQuery({
      pattern: q.pattern,
      literal: q.literal,
      ...(q.caseSensitive !== undefined ? { caseSensitive: q.caseSensitive } : {}),
      wordBoundaries: q.wordBoundaries,
    });
  } catch {
    return undefined; // a pattern RE2 refuses: nothing to check
  }
}

function hitsOf(scan: FileScan): string[] {
  if (scan.kind !== "match") return [];
  return scan.hits.flatMap((h) => h.spans.map((s) => `${h.index}:${s.start}-${s.end}`));
}

describe("search prefilter properties", () => {
  test("the plan and the prefiltered matcher never reject a line the matcher accepts", () => {
    fc.assert(
      fc.property(queryArb, lineArb, (q, line) => {
        const query = compile(q);
        if (!query) return;
        const spans = query.lineMatcher.matches(line);
        if (spans.length === 0) return;
        if (query.plan) {
          assert.ok(query.plan.test(line), `plan rejects ${JSON.stringify(line)} for ${JSON.stringify(q)}`);
          assert.ok(query.plan.test(Buffer.from(line)), "plan rejects the bytes");
        }
        assert.ok(query.matcher.mayMatch(line), "mayMatch rejects the text");
        assert.ok(query.matcher.mayMatch(Buffer.from(line)), "mayMatch rejects the bytes");
        assert.deepEqual(query.matcher.matches(line), spans);
      }),
      { numRuns: 3000 },
    );
  });

  test("block summaries never exclude a file or block holding a real occurrence", () => {
    fc.assert(
      fc.property(
        queryArb,
        lineArb,
        fc.integer({ min: 0, max: 40_000 }),
        fc.constantFrom("abcdefghij\n", "zzz qqq\n", "y".repeat(300)),
        (q, line, offset, filler) => {
          const query = compile(q);
          if (!query?.plan || query.lineMatcher.matches(line).length === 0) return;
          const before = filler.repeat(Math.ceil(offset / filler.length)).slice(0, offset);
          const content = Buffer.from(`${before}\n${line}\n${filler}`);
          const summary = summarize(content);
          assert.ok(
            fileMayMatch(summary, query.plan),
            `summary excludes ${JSON.stringify(line)} at ${offset}`,
          );
          const warm = scanByLiteral(content, query.plan, query.matcher, {}, summary);
          assert.ok(
            warm.kind === "match",
            `warm scan misses ${JSON.stringify(line)} at ${offset} for ${JSON.stringify(q)}`,
          );
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("a case-insensitive literal with k or s finds text written with the Kelvin sign or the long s", () => {
    // RE2 folds "k" with U+212A and "s" with U+017F: the summaries read those signs as k and s.
    const signAtom = fc.constantFrom("k", "K", "\u212a", "s", "S", "\u017f", "e", "X", "a", "-");
    const flip = (ch: string, upper: boolean) => {
      const plain = ch === "\u212a" ? "k" : ch === "\u017f" ? "s" : ch;
      return upper ? plain.toUpperCase() : plain.toLowerCase();
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(signAtom, fc.boolean()), { minLength: 3, maxLength: 8 }),
        fc.integer({ min: 0, max: 20_000 }),
        fc.boolean(),
        (chars, offset, regex) => {
          const text = chars.map(([c]) => c).join("");
          const pattern = chars.map(([c, upper]) => flip(c, upper)).join("");
          const query = compile({
            pattern: regex ? pattern.replace(/-/g, "\\-") : pattern,
            literal: !regex,
            caseSensitive: false,
            wordBoundaries: false,
          });
          if (!query?.plan) return;
          const content = Buffer.from(`${"abcdefghij\n".repeat(Math.ceil(offset / 11))}${text}\nzzz\n`);
          const summary = summarize(content);
          assert.ok(
            fileMayMatch(summary, query.plan),
            `summary excludes ${JSON.stringify(text)} for ${pattern}`,
          );
          const cold = hitsOf(scanContent(content, query.lineMatcher));
          assert.ok(cold.length > 0, "the matcher finds it");
          assert.deepEqual(hitsOf(scanByLiteral(content, query.plan, query.matcher, {}, summary)), cold);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("summaries keep matches across block edges and literals far apart on one long line", () => {
    // Blocks are 4 KiB: place the match near an edge, and a regex's two literals up to several
    // blocks apart on one line, between runs of short lines.
    const lit = fc
      .array(fc.constantFrom(..."abxyzKkSs\u212a\u017f".split("")), { minLength: 3, maxLength: 6 })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(
        lit,
        lit,
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: -48, max: 48 }),
        fc.integer({ min: 0, max: 14_000 }),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.boolean(),
        (a, b, edge, shift, gap, caseSensitive, regex) => {
          const query = compile({
            pattern: regex ? `${a}.*${b}` : a,
            literal: !regex,
            caseSensitive,
            wordBoundaries: false,
          });
          if (!query?.plan) return;
          const line = regex ? `${a}${"-".repeat(gap)}${b}` : `--${a}--`;
          const at = Math.max(0, edge * 4096 + shift);
          const before = "abcdefghij\n".repeat(Math.ceil(at / 11) + 1).slice(0, at);
          const content = Buffer.from(`${before}\n${line}\n${"mm\n".repeat(3000)}`);
          const cold = hitsOf(scanContent(content, query.lineMatcher));
          const warm = hitsOf(
            scanByLiteral(content, query.plan, query.matcher, { exact: query.exact }, summarize(content)),
          );
          assert.deepEqual(warm, cold, `${JSON.stringify(query.pattern)} at ${at}, gap ${gap}`);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("a match never holds a byte outside the pattern's matchable bytes", () => {
    const piece = fc.oneof(
      regexPiece,
      fc.constantFrom(
        "[A-Fx_-]",
        "[\\w.]",
        "[]k]",
        "e{1,2}",
        "\\x41",
        "\\x{212A}",
        "\\Q.k\\E",
        "\\-",
        "(?i)k",
        "(?i:s)",
        "(?P<n>ab)",
        "{",
        "\\t",
        "[\\x{17F}]",
      ),
    );
    const text = fc
      .array(fc.constantFrom(...ATOMS, "{", "}", "\t", "A", "F", "]", "(", ",", "\u00e9", "😀"), {
        maxLength: 16,
      })
      .map((a) => a.join(""));
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.option(fc.boolean(), { nil: undefined }),
        text,
        (pieces, literal, caseSensitive, line) => {
          const pattern = literal ? pieces.join("").replace(/\\/g, "") || "x" : pieces.join("");
          const query = compile({ pattern, literal, caseSensitive, wordBoundaries: false });
          if (!query) return;
          const set = matchableBytes(pattern, literal, query.ignoreCase);
          if (!set) return;
          for (const sp of query.lineMatcher.matches(line)) {
            for (const byte of Buffer.from(line.slice(sp.start, sp.end))) {
              assert.ok(
                set[byte],
                `${JSON.stringify(pattern)} matched byte ${byte} in ${JSON.stringify(line)}`,
              );
            }
          }
        },
      ),
      { numRuns: 4000 },
    );
  });

  test("in a long line, matching the runs around the needles gives the whole line's matches", () => {
    // The needles sit in the middle of a line of several blocks, far from any line break, so the
    // scan looks only at the candidate ranges and matches the runs of matchable bytes there.
    const pad = fc.constantFrom("-", " ", ".", "(", "x", "ab ");
    fc.assert(
      fc.property(
        queryArb,
        fc.array(lineArb, { minLength: 1, maxLength: 6 }),
        pad,
        fc.integer({ min: 4000, max: 12_000 }),
        (q, pieces, filler, width) => {
          const query = compile(q);
          if (!query?.plan) return;
          const middle = pieces.join(filler);
          const side = filler.repeat(Math.ceil(width / filler.length));
          const content = Buffer.from(`a\n${side}${middle}${side}${middle}${side}\nb\n`);
          const cold = hitsOf(scanContent(content, query.lineMatcher));
          const warm = hitsOf(
            scanByLiteral(content, query.plan, query.matcher, { exact: query.exact }, summarize(content)),
          );
          assert.deepEqual(warm, cold, `${JSON.stringify(q)} in ${JSON.stringify(middle)}`);
        },
      ),
      { numRuns: 1500 },
    );
  });

  test("the warm scan gives exactly the cold scan's hits", () => {
    fc.assert(
      fc.property(
        queryArb,
        fc.array(lineArb, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (q, lines, repeat, longLine) => {
          const query = compile(q);
          if (!query?.plan) return;
          let text = lines.join("\n");
          // Repeat to cross 16 KiB blocks; one long line to take the long-line paths.
          for (let i = 0; i < repeat; i++) text += `\n${"pad line\n".repeat(2000)}${lines.join("\n")}`;
          if (longLine) text += `\n${lines.join(" ").repeat(300)}`;
          const content = Buffer.from(`${text}\n`);
          const cold = hitsOf(scanContent(content, query.lineMatcher));
          const warmPlain = hitsOf(scanByLiteral(content, query.plan, query.matcher, { exact: query.exact }));
          const warmSummary = hitsOf(
            scanByLiteral(content, query.plan, query.matcher, { exact: query.exact }, summarize(content)),
          );
          assert.deepEqual(warmPlain, cold, `without summary, ${JSON.stringify(q)}`);
          assert.deepEqual(warmSummary, cold, `with summary, ${JSON.stringify(q)}`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
