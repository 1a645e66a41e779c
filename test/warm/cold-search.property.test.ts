/**
 * Property (issue #13): a search run on the cold search's worker threads answers exactly as the
 * same search on the main thread — same results in the same order, same text, same counts,
 * skipped files and truncation — for random trees (long lines, binary files, CRLF, a BOM,
 * non-ASCII) and random queries and options, max_results cuts included.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { makeTestWorkspace } from "../helpers/tool-context.js";
import { contentOf, fileArb, treeOf } from "../helpers/random-tree.js";
import { ColdSearchPool } from "../../src/search/cold-search.js";
import { compileQuery } from "../../src/search/query.js";

const queryArb = fc.record({
  pattern: fc.constantFrom(
    "foo",
    "Foo",
    "kelvin",
    "ſ",
    "foo|bar",
    "class\\s+\\w+\\s+extends",
    "\\w+o",
    "é",
    "a+é",
  ),
  literal: fc.boolean(),
  case_sensitive: fc.option(fc.boolean(), { nil: undefined }),
  word_boundaries: fc.boolean(),
  include_hidden: fc.boolean(),
  invert_match: fc.boolean(),
  only_matching: fc.boolean(),
  files_with_matches: fc.boolean(),
  context_lines: fc.constantFrom(0, 0, 1, 2),
  max_results: fc.constantFrom(1, 2, 5, 30, 10_000),
  max_file_size: fc.option(fc.constantFrom(50, 5000), { nil: undefined }),
  type: fc.option(fc.constantFrom("ts", "md", "js"), { nil: undefined }),
});

let pool: ColdSearchPool;
before(async () => {
  // minFiles 0: every walk goes to the workers, however small.
  pool = new ColdSearchPool({ threads: 2, minFiles: 0 });
  pool.start();
  await pool.ready(10_000);
});
after(async () => {
  await pool.dispose();
});

describe("the cold search's workers", () => {
  test("answer grep_file and list_files find_content exactly as the main thread does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fileArb, { minLength: 1, maxLength: 14 }),
        fc.array(queryArb, { minLength: 1, maxLength: 3 }),
        async (files, queries) => {
          const ws = await makeTestWorkspace({ warm: false });
          try {
            await ws.write(treeOf(files, contentOf));
            for (const q of queries) {
              const here = await ws.call("grep_file", q);
              // A fresh cache each time, so the workers read every file (not the cache's copy).
              ws.files.clear();
              const workers = await ws.call("grep_file", q, { coldSearch: pool });
              ws.files.clear();
              assert.deepEqual(workers, here, JSON.stringify(q));
              // list_files find_content scans the same way.
              const list = {
                path: ".",
                mode: "find_content",
                content_pattern: q.pattern,
                include_hidden: q.include_hidden,
                max_items: q.max_results,
              };
              const listHere = await ws.call("list_files", list);
              ws.files.clear();
              const listWorkers = await ws.call("list_files", list, { coldSearch: pool });
              ws.files.clear();
              assert.deepEqual(listWorkers, listHere, JSON.stringify(list));
            }
          } finally {
            await ws.cleanup();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("the literal plan's whole-file test (RE2 over the bytes)", () => {
  test("finds a case-sensitive literal exactly where Buffer.indexOf does, in any bytes", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom("createElement", "é", "aé", "😀x", "\u212a", "a.b", "x(y", "\\d", "ſ"),
        fc.boolean(),
        (before, after, literal, put) => {
          const needle = Buffer.from(literal);
          const bytes = Buffer.concat([before, put ? needle : Buffer.alloc(0), after]);
          const plan = compileQuery({ pattern: literal, literal: true, caseSensitive: true }).plan!;
          assert.equal(plan.test(bytes), bytes.indexOf(needle) !== -1);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
