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

/** Regex pieces: literals, classes, repetitions, groups and top-level alternation. */
const regexPiece = fc.oneof(
  word.map((w) => w.replace(/[.]/g, "\\.")),
  fc.constantFrom("\\w+", "\\s*", "\\d", "[a-z]", "[^x]", "(?:ab|k)", ".", "\\W", "x?", "e+"),
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
