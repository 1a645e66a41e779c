/**
 * Property (issue #13): a warm search that hands its large cached files (in shared memory) to the
 * workers (`ColdSearchPool.scanShared`) answers exactly as the same search on the main thread —
 * same results in the same order, text, counts and truncation — whether a worker or the main
 * thread (taking a file back) scans each file, with or without the files' summaries.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import fc from "fast-check";
import { makeTestWorkspace } from "../helpers/tool-context.js";
import { contentOf, fileArb, treeOf } from "../helpers/random-tree.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import { ColdSearchPool } from "../../src/search/cold-search.js";
import { compileQuery } from "../../src/search/query.js";
import type { FileScan } from "../../src/search/scan-types.js";

const queryArb = fc.record({
  pattern: fc.constantFrom("foo", "Foo", "kelvin", "ſ", "foo|bar", "class\\s+\\w+\\s+extends", "\\w+o", "é"),
  literal: fc.boolean(),
  case_sensitive: fc.option(fc.boolean(), { nil: undefined }),
  word_boundaries: fc.boolean(),
  only_matching: fc.boolean(),
  files_with_matches: fc.boolean(),
  context_lines: fc.constantFrom(0, 0, 1),
  max_results: fc.constantFrom(1, 5, 30, 10_000),
});

let pool: ColdSearchPool;
before(async () => {
  // Every warm walk hands its shared files to the workers, however small.
  pool = new ColdSearchPool({
    threads: 2,
    minFiles: 1,
    shareFromBytes: 0,
    shareMinBlocks: 0,
    shareFromBlocks: 0,
  });
  pool.start();
  await pool.ready(10_000);
});
after(async () => {
  await pool.dispose();
});

/** A cache keeping files of `sharedFrom` bytes or more in shared memory, and an index over it. */
function sharedCache(root: string, sharedFrom: number) {
  const files = new FileCache({ maxBytes: 64 << 20, sharedFromBytes: sharedFrom });
  const index = new WorkspaceIndex({ root, cache: files });
  return { files, index };
}

describe("a warm search with large files on the workers", () => {
  test("answers exactly as the main thread does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fileArb, { minLength: 1, maxLength: 12 }),
        fc.array(queryArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(1, 200, 5000),
        fc.boolean(),
        async (files, queries, sharedFrom, summaries) => {
          const ws = await makeTestWorkspace({ warm: false });
          const warm = sharedCache(ws.root, sharedFrom);
          try {
            await ws.write(treeOf(files, contentOf));
            assert.equal(await warm.index.sync(), true);
            const overrides = { files: warm.files, index: warm.index };
            for (const q of queries) {
              const here = await ws.call("grep_file", q);
              // Fills the cache (the main thread reads every file), then, with the pool, the warm
              // search hands the shared ones to the workers.
              assert.deepEqual(await ws.call("grep_file", q, overrides), here);
              if (summaries) await until(() => !warm.files.stats().summarizing);
              const before = pool.sharedBatches;
              const shared = await ws.call("grep_file", q, { ...overrides, coldSearch: pool });
              assert.deepEqual(shared, here, JSON.stringify(q));
              // A plain case-sensitive literal stays on the main thread (memchr speed).
              const exact = compileQuery({
                pattern: q.pattern,
                literal: q.literal,
                ...(q.case_sensitive === undefined ? {} : { caseSensitive: q.case_sensitive }),
                wordBoundaries: q.word_boundaries,
              }).exact;
              if (warm.files.sharedBytes > 0 && !exact && !q.files_with_matches && q.max_results === 10_000)
                assert.ok(pool.sharedBatches > before, "the workers were handed the shared files");
            }
          } finally {
            warm.index.dispose();
            await ws.cleanup();
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("scanShared", () => {
  test("a worker that dies mid-search: every file is given out once, in order, with its scan", async () => {
    const ws = await makeTestWorkspace({ warm: false });
    const own = new ColdSearchPool({ threads: 2, minFiles: 1, shareFromBytes: 0, shareFromBlocks: 0 });
    own.start();
    try {
      await own.ready(10_000);
      const names: string[] = [];
      const content: Record<string, string> = {};
      for (let i = 0; i < 60; i++) {
        const rel = `f${String(i).padStart(3, "0")}.txt`;
        names.push(rel);
        content[rel] = `${"filler\n".repeat(20_000)}needle ${i}\n`;
      }
      await ws.write(content);
      const cache = new FileCache({ maxBytes: 64 << 20, sharedFromBytes: 1 });
      for (const rel of names) cache.readTrusted(path.join(ws.root, rel), () => undefined);
      const query = compileQuery({ pattern: "needle" });
      const files = names.map((rel) => ({ abs: path.join(ws.root, rel) }));
      const out: FileScan[] = [];
      let killed = false;
      for await (const chunk of own.scanShared(
        files[Symbol.iterator](),
        query,
        { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true },
        (file) => {
          // The main thread's first file: the workers die now, with files of theirs in flight.
          if (!killed) {
            killed = true;
            const workers = (own as unknown as { slots: { worker?: Worker }[] }).slots.map((s) => s.worker);
            for (const w of workers) void w?.terminate();
          }
          return cache.readTrusted(file.abs, (data) => matchesOf(data))!;
        },
        (file) => {
          const entry = cache.sharedTrusted(file.abs);
          return entry && { data: entry.data, blocks: 1, binary: undefined, summary: undefined };
        },
      )) {
        out.push(...chunk.map((c) => c.scan));
      }
      assert.equal(out.length, names.length, "every file given out once");
      out.forEach((scan, i) => {
        assert.equal(scan.kind, "match", names[i]);
        if (scan.kind === "match") assert.equal(scan.lines[scan.hits[0]!.index], `needle ${i}`);
      });
    } finally {
      await own.dispose();
      await ws.cleanup();
    }
  });
});

/** The main thread's scan of a file for "needle" (as the worker's, without a summary). */
function matchesOf(data: Buffer): FileScan {
  const text = data.toString();
  const lines = text.split("\n");
  lines.pop();
  const index = lines.findIndex((l) => l.includes("needle"));
  if (index === -1) return { kind: "no_match", bytes: data.length };
  const sparse: string[] = [];
  sparse[index] = lines[index]!;
  sparse.length = lines.length;
  return {
    kind: "match",
    bytes: data.length,
    lines: sparse,
    hits: [{ index, spans: [{ start: 0, end: 6 }] }],
    matches: 1,
  };
}
