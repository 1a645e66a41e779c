/**
 * Property (issue #13): for random trees (nested folders, ignore files, hidden names, ignored
 * folders the index does not hold) and random queries, grep_file and list_files answer the same
 * from the warm index as from the disk, call after call, while files change between calls.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { makeTestWorkspace } from "../helpers/tool-context.js";
import { treeOf } from "../helpers/random-tree.js";

const NAMES = ["a", "b", ".h", "node_modules", "src", "x.ts", "y.md", "z.log", "K.txt"];
const WORDS = ["foo", "Foo", "FOO", "bar", "kelvin", "\u212aelvin", "class X extends Y", "ſ", "é", "x"];

const fileArb = fc.record({
  dir: fc.array(fc.constantFrom(...NAMES.slice(0, 5)), { maxLength: 3 }),
  name: fc.constantFrom(...NAMES),
  lines: fc.array(
    fc.array(fc.constantFrom(...WORDS), { maxLength: 5 }).map((w) => w.join(" ")),
    {
      maxLength: 6,
    },
  ),
});
const ignoreArb = fc.array(fc.constantFrom("*.log", "node_modules/", "b/", "!keep.log", "/a", ".h"), {
  maxLength: 3,
});
const queryArb = fc.record({
  pattern: fc.constantFrom("foo", "Foo", "kelvin", "ſ", "foo|bar", "class\\s+\\w+\\s+extends", "\\w+o", "é"),
  case_sensitive: fc.option(fc.boolean(), { nil: undefined }),
  include_hidden: fc.boolean(),
  respect_ignore_files: fc.boolean(),
  invert_match: fc.boolean(),
  type: fc.option(fc.constantFrom("ts", "md", "txt"), { nil: undefined }),
});

describe("warm equals cold", () => {
  test("grep_file and list_files give the same answers from the index and from the disk", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fileArb, { minLength: 1, maxLength: 12 }),
        ignoreArb,
        fc.array(queryArb, { minLength: 1, maxLength: 3 }),
        async (files, ignores, queries) => {
          const ws = await makeTestWorkspace();
          try {
            const tree = treeOf(files, (f) => `${f.lines.join("\n")}\n`);
            await ws.write({ ...tree, ".gitignore": `${ignores.join("\n")}\n` });
            for (const q of queries) {
              const args = { ...q, max_results: 10_000 };
              const warm = await ws.call("grep_file", args);
              const cold = await ws.call("grep_file", args, { index: undefined });
              assert.deepEqual(warm.structuredContent, cold.structuredContent, JSON.stringify(q));
              const list = {
                path: ".",
                mode: "recursive",
                include_hidden: q.include_hidden,
                max_items: 1000,
              };
              const warmList = await ws.call("list_files", list);
              const coldList = await ws.call("list_files", list, { index: undefined });
              assert.deepEqual(warmList.structuredContent, coldList.structuredContent);
              // Change something between calls: the next warm answer must see it.
              const [first] = Object.keys(tree);
              if (first) {
                await rm(path.join(ws.root, first), { force: true });
                await mkdir(path.dirname(path.join(ws.root, first)), { recursive: true });
                await writeFile(path.join(ws.root, first), "foo changed kelvin\n");
              }
            }
          } finally {
            await ws.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});
