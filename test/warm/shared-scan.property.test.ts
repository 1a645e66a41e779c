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
        WHOLE_FILES,
        (file) => {
          // The main thread's first file: the workers die now, with files of theirs in flight.
          if (!killed) {
            killed = true;
            const workers = (own as unknown as { slots: { worker?: Worker }[] }).slots.map((s) => s.worker);
            for (const w of workers) void w?.terminate();
          }
          return cache.readTrusted(file.abs, (data) => matchesOf(data))!;
        },
        sharedIn(cache),
        () => undefined,
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

  test("tells which files a worker scanned: every file is scanned once, there or here", async () => {
    const ws = await makeTestWorkspace({ warm: false });
    const own = new ColdSearchPool({ threads: 2, minFiles: 1, shareFromBytes: 0, shareFromBlocks: 0 });
    own.start();
    try {
      await own.ready(10_000);
      const content: Record<string, string> = { "a.txt": "needle here\n" };
      for (let i = 0; i < 6; i++) content[`s${i}.txt`] = `${"filler\n".repeat(20_000)}needle ${i}\n`;
      await ws.write(content);
      // Only the large files in shared memory: a.txt is this thread's own run, scanned first.
      const cache = new FileCache({ maxBytes: 64 << 20, sharedFromBytes: 1000 });
      const names = Object.keys(content).sort();
      for (const rel of names) cache.readTrusted(path.join(ws.root, rel), () => undefined);
      const scannedHere: string[] = [];
      const scannedThere: string[] = [];
      const out: string[] = [];
      for await (const chunk of own.scanShared(
        names.map((rel) => ({ abs: path.join(ws.root, rel), rel }))[Symbol.iterator](),
        compileQuery({ pattern: "needle" }),
        WHOLE_FILES,
        (file) => {
          // The first file here takes a while: the worker claims its files meanwhile.
          if (scannedHere.length === 0) {
            const until = Date.now() + 300;
            while (Date.now() < until);
          }
          scannedHere.push(file.rel);
          return cache.readTrusted(file.abs, (data) => matchesOf(data))!;
        },
        sharedIn(cache),
        (file) => scannedThere.push(file.rel),
      )) {
        out.push(...chunk.map((c) => c.file.rel));
      }
      assert.deepEqual(out, names, "every file given out once, in order");
      assert.deepEqual([...scannedHere, ...scannedThere].sort(), names, "each scanned once, here or there");
      assert.ok(scannedThere.length > 0, "the worker scanned some");
    } finally {
      await own.dispose();
      await ws.cleanup();
    }
  });
});

describe("cache hits of a warm search with shared files", () => {
  test("each file searched counts one hit, whether a worker or this thread scans it", async () => {
    // Folder a/ holds most of the shared work, b/ a little: the whole cache says "hand over",
    // then a search of b/ alone finds too little to be worth a worker and scans b/ here.
    const ws = await makeTestWorkspace({ warm: false });
    const own = new ColdSearchPool({
      threads: 2,
      minFiles: 1,
      shareFromBytes: 0,
      shareMinBlocks: 0,
      shareFromBlocks: 40,
    });
    own.start();
    const warm = sharedCache(ws.root, 1);
    try {
      await own.ready(10_000);
      const content: Record<string, string> = {};
      // A match in every 4 KiB block of a/ (work for a worker), one in each small file of b/; 83
      // matches in all, so the search reads every file (no early stop at the count limit).
      for (let i = 0; i < 8; i++)
        content[`a/f${i}.txt`] = `${"x".repeat(4000)}\nclass Foo extends Bar\n`.repeat(10);
      for (let i = 0; i < 3; i++) content[`b/g${i}.txt`] = "class Baz extends Qux\n";
      await ws.write(content);
      assert.equal(await warm.index.sync(), true);
      const overrides = { files: warm.files, index: warm.index, coldSearch: own };
      const q = { pattern: "class\\s+\\w+\\s+extends", max_results: 10_000 };
      await ws.call("grep_file", q, overrides); // the workers read the tree for the cache after it
      await until(() => !own.filling && warm.files.stats().entries === 11 && !warm.files.stats().summarizing);
      for (const [dir, files] of [
        ["b", 3],
        [".", 11],
      ] as const) {
        const { hits, misses } = warm.files.stats();
        const sharedBefore = own.sharedBatches;
        const result = await ws.call("grep_file", { ...q, path: dir }, overrides);
        assert.equal(result.structuredContent?.["files_searched"], files);
        const after = warm.files.stats();
        assert.equal(after.hits - hits, files, `${dir}: one hit per file (misses ${after.misses - misses})`);
        if (dir === ".") assert.ok(own.sharedBatches > sharedBefore, "the workers scanned some of them");
        else assert.equal(own.sharedBatches, sharedBefore, "b/ alone was scanned here");
      }
    } finally {
      warm.index.dispose();
      await own.dispose();
      await ws.cleanup();
    }
  });
});

/** Scan options of the scanShared tests: every match of every file, clipped as grep_file clips. */
const WHOLE_FILES = { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true };

/** A file's content in `cache`'s shared memory, as a worker gets it (no summary, no binary test). */
function sharedIn(cache: FileCache) {
  return (file: { abs: string }) => {
    const entry = cache.sharedTrusted(file.abs);
    return entry && { data: entry.data, blocks: 1, binary: undefined, summary: undefined };
  };
}

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
