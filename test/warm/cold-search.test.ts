/**
 * The cold search's worker pool (src/search/cold-search.ts): results in walk order and equal to
 * the main thread's on a tree large enough to spread over both workers, cancellation, a worker
 * that dies mid-search (the search finishes on the main thread, the pool replaces the worker),
 * the cache filled after the search, and the fill's guard against changes seen meanwhile.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";
import { ColdSearchPool, type FillTarget } from "../../src/search/cold-search.js";
import { summarize, type Summary } from "../../src/search/warm-scan.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { compileQuery } from "../../src/search/query.js";
import { clipLine, scanWithQuery } from "../../src/search/file-search.js";
import type { FileScan } from "../../src/search/scan-types.js";

const FILES = 900;
let ws: TestWorkspace;

before(async () => {
  ws = await makeTestWorkspace({ warm: false });
  const files: Record<string, string | Buffer> = {};
  for (let i = 0; i < FILES; i++) {
    const dir = `d${i % 7}/e${i % 13}`;
    const lines = [`line one of ${i}`, i % 3 === 0 ? `needle ${i} and needle again` : "nothing here"];
    if (i % 50 === 0) lines.push(`${"x".repeat(20_000)} needle long ${i}`);
    files[`${dir}/f${String(i).padStart(4, "0")}.txt`] =
      i % 97 === 0 ? Buffer.from([110, 0, 1]) : lines.join("\n") + "\n";
  }
  // One large file, so one batch takes much longer than the others (order must still hold).
  files["d0/big.txt"] = `${"filler line\n".repeat(300_000)}needle at the end\n`;
  await ws.write(files);
});

after(async () => {
  await ws.cleanup();
});

function newPool(minFiles = 0): ColdSearchPool {
  const pool = new ColdSearchPool({ threads: 2, minFiles });
  pool.start();
  return pool;
}

/** The pool's workers (to kill one, as a crash would). */
function workersOf(pool: ColdSearchPool): Worker[] {
  return (pool as unknown as { slots: { worker?: Worker }[] }).slots
    .map((s) => s.worker)
    .filter((w): w is Worker => w !== undefined);
}

async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ARGS = { pattern: "needle", max_results: 10_000, context_lines: 1 };

describe("cold search pool", () => {
  test("gives the main thread's answer, in walk order, over both workers", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const here = await ws.call("grep_file", ARGS);
      ws.files.clear();
      const workers = await ws.call("grep_file", ARGS, { coldSearch: pool });
      assert.deepEqual(workers, here);
      const paths = (workers.structuredContent!.results as { path: string }[]).map((r) => r.path);
      assert.ok(paths.length > 600, `many results (${paths.length})`);
      // files_with_matches and a small max_results cut the same way.
      for (const extra of [
        { files_with_matches: true, max_results: 7 },
        { max_results: 3 },
        { invert_match: true, max_results: 50 },
      ]) {
        ws.files.clear();
        const a = await ws.call("grep_file", { ...ARGS, ...extra });
        ws.files.clear();
        const b = await ws.call("grep_file", { ...ARGS, ...extra }, { coldSearch: pool });
        assert.deepEqual(b, a, JSON.stringify(extra));
      }
    } finally {
      await pool.dispose();
    }
  });

  test("batches of cached files are scanned on the main thread, the rest on the workers, in order", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const rels: string[] = [];
      for (let i = 0; i < FILES; i++) rels.push(`d${i % 7}/e${i % 13}/f${String(i).padStart(4, "0")}.txt`);
      const files = rels.map((rel, i) => ({ abs: path.join(ws.root, rel), i }));
      const query = compileQuery({ pattern: "needle" });
      const options = {
        stopAfter: 0,
        maxBytes: 1 << 30,
        contextLines: 0,
        invert: false,
        clip: true,
      } as const;
      const here = new Set<number>();
      const scanHere = async (file: { abs: string; i: number }): Promise<FileScan> => {
        here.add(file.i);
        return ws.files.read(file.abs, (data) => scanWithQuery(data, query, { ...options, clip: clipLine }));
      };
      const got: { i: number; scan: FileScan }[] = [];
      // The first 300 files count as cached (as while a fill is under way).
      for await (const chunk of pool.scan(
        files[Symbol.iterator](),
        query,
        options,
        scanHere,
        undefined,
        undefined,
        (f) => f.i < 300,
      ))
        for (const { file, scan } of chunk) got.push({ i: file.i, scan });
      assert.deepEqual(
        got.map((g) => g.i),
        files.map((f) => f.i),
        "walk order",
      );
      assert.ok(
        [...here].every((i) => i < 300 + 48) && here.has(0),
        "cached batches on the main thread only",
      );
      for (const { i, scan } of got)
        assert.deepEqual(
          scan.kind === "no_match" ? "no_match" : scan,
          await scanHere(files[i]!).then((s) => (s.kind === "no_match" ? "no_match" : s)),
        );
    } finally {
      await pool.dispose();
    }
  });

  test("searches at once share the workers and each gets its own answer", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const queries = [
        ARGS,
        { pattern: "line one", max_results: 10_000 },
        { pattern: "NEEDLE", case_sensitive: false },
      ];
      const here = [];
      for (const q of queries) here.push(await ws.call("grep_file", q));
      ws.files.clear();
      const together = await Promise.all(queries.map((q) => ws.call("grep_file", q, { coldSearch: pool })));
      assert.deepEqual(together, here);
    } finally {
      await pool.dispose();
    }
  });

  test("a cancelled search stops, and the pool serves the next one", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const abort = new AbortController();
      const query = compileQuery({ pattern: "needle" });
      const files = (function* () {
        for (let i = 0; i < 100_000; i++) yield { abs: path.join(ws.root, "d0", "big.txt") };
      })();
      let seen = 0;
      await assert.rejects(async () => {
        for await (const chunk of pool.scan(
          files,
          query,
          { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true },
          () => assert.fail("no fallback"),
          undefined,
          abort.signal,
        )) {
          seen += chunk.length;
          if (seen >= 10) abort.abort(new Error("stop"));
        }
      }, /stop/);
      assert.ok(seen < 100_000);
      ws.files.clear();
      const again = await ws.call("grep_file", ARGS, { coldSearch: pool });
      assert.equal(again.structuredContent!.files_searched, FILES + 1);
    } finally {
      await pool.dispose();
    }
  });

  test("a worker that dies mid-search: the answer is still whole, and the worker is replaced", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const here = await ws.call("grep_file", ARGS);
      ws.files.clear();
      const query = compileQuery({ pattern: "needle" });
      const targets = (function* () {
        for (let i = 0; i < FILES; i++) {
          const rel = `d${i % 7}/e${i % 13}/f${String(i).padStart(4, "0")}.txt`;
          yield { abs: path.join(ws.root, rel) };
        }
      })();
      const fallback: FileScan[] = [];
      const out: FileScan[] = [];
      let killed = false;
      for await (const chunk of pool.scan(
        targets,
        query,
        { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true },
        async (file) => {
          const scan = await ws.files.read(file.abs, () => ({ kind: "no_match", bytes: 0 }) as FileScan);
          fallback.push(scan);
          return { kind: "no_match", bytes: 0 };
        },
        undefined,
      )) {
        out.push(...chunk.map((c) => c.scan));
        if (!killed) {
          killed = true;
          await workersOf(pool)[0]!.terminate();
        }
      }
      assert.equal(out.length, FILES, "every file given out once");
      assert.ok(fallback.length > 0, "the main thread took over");
      await until(() => pool.threads === 2, "the worker to be replaced");
      ws.files.clear();
      assert.deepEqual(await ws.call("grep_file", ARGS, { coldSearch: pool }), here);
    } finally {
      await pool.dispose();
    }
  });

  test("fills the cache after the search, with entries that match the disk and their summaries", async () => {
    const pool = newPool(100);
    try {
      await pool.ready(10_000);
      ws.files.clear();
      const first = await ws.call("grep_file", ARGS, { coldSearch: pool });
      await until(() => ws.files.stats().entries > FILES, "the cache fill");
      assert.ok(ws.files.isFresh(path.join(ws.root, "d0/big.txt")));
      // Now mostly cached: the next search stays on the main thread and answers the same.
      const misses = ws.files.stats().misses;
      const second = await ws.call("grep_file", ARGS, { coldSearch: pool });
      assert.deepEqual(second, first);
      assert.equal(ws.files.stats().misses, misses, "served from the cache");
    } finally {
      await pool.dispose();
    }
  });
});

describe("the cache fill", () => {
  const SHARED_FROM = 1000;
  test("brings each file's bytes (a large one in shared memory), its stat and the summary a warm search needs", async () => {
    const pool = newPool();
    try {
      await pool.ready(10_000);
      const got = new Map<
        string,
        { data: Buffer; size: number; summary: Summary | undefined; shared: boolean }
      >();
      let done!: () => void;
      const filled = new Promise<void>((resolve) => (done = resolve));
      const target: FillTarget = {
        add: (abs, data, key, summary) =>
          void got.set(abs, {
            data: Buffer.from(data),
            size: key.size,
            summary,
            shared:
              data.buffer instanceof SharedArrayBuffer && summary?.bits.buffer instanceof SharedArrayBuffer,
          }),
        summaries: true,
        maxFileBytes: 1 << 30,
        sharedFrom: SHARED_FROM,
        maxBytes: 1 << 30,
        wants: () => true,
        done,
      };
      const files = ["d0/big.txt", "d1/e1/f0001.txt", "d3/e3/f0003.txt"].map((rel) => ({
        abs: path.join(ws.root, rel),
      }));
      const scan = pool.scan(
        files[Symbol.iterator](),
        compileQuery({ pattern: "needle" }),
        { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true },
        () => assert.fail("no fallback"),
        target,
      );
      for await (const chunk of scan) void chunk;
      await filled;
      assert.equal(got.size, 3);
      const sharedSeen = new Set<boolean>();
      for (const { abs } of files) {
        const disk = await readFile(abs);
        const entry = got.get(abs)!;
        assert.ok(entry.data.equals(disk));
        assert.equal(entry.size, disk.length);
        assert.deepEqual(entry.summary, summarize(disk));
        assert.equal(entry.shared, disk.length >= SHARED_FROM, abs);
        sharedSeen.add(entry.shared);
      }
      assert.equal(sharedSeen.size, 2, "one file in shared memory, the others not");
    } finally {
      await pool.dispose();
    }
  });
});

describe("idle workers", () => {
  test("end once nothing runs or fills for a while, and start again for the next search", async () => {
    const pool = new ColdSearchPool({ threads: 2, minFiles: 0, retireAfterMs: 50 });
    pool.start();
    try {
      await pool.ready(10_000);
      const files = ["d1/e1/f0001.txt", "d3/e3/f0003.txt", "d0/big.txt"].map((rel) => ({
        abs: path.join(ws.root, rel),
      }));
      const search = async (): Promise<number> => {
        let hits = 0;
        const scan = pool.scan(
          files[Symbol.iterator](),
          compileQuery({ pattern: "needle" }),
          { stopAfter: 0, maxBytes: 1 << 30, contextLines: 0, invert: false, clip: true },
          () => assert.fail("no fallback: the workers serve the search"),
          undefined,
        );
        for await (const chunk of scan)
          for (const s of chunk) if (s.scan.kind === "match") hits += s.scan.matches;
        return hits;
      };
      const first = await search();
      assert.equal(first, 3); // f0003: "needle 3 and needle again"; big.txt: one at the end
      assert.equal(pool.threads, 2);
      await until(() => pool.threads === 0, "the idle workers to end");
      assert.equal(pool.available, true, "a retired pool still takes searches");
      assert.equal(await search(), first);
      assert.equal(pool.threads, 2);
    } finally {
      await pool.dispose();
    }
  });
});

describe("FileCache.beginFill", () => {
  test("keeps out what was invalidated or cached since the fill began", async () => {
    const cache = new FileCache({ maxBytes: 1 << 20 });
    const abs = path.join(ws.root, "fill-a.txt");
    await writeFile(abs, "one\n");
    const key = { ino: 1, size: 4, mtimeMs: 1 };
    const fill = cache.beginFill();
    cache.invalidate(abs);
    fill.add(abs, Buffer.from("one\n"), key);
    assert.equal(cache.has(abs), false, "invalidated during the fill");
    cache.invalidateUnder(path.join(ws.root, "sub"));
    fill.add(path.join(ws.root, "sub/x.txt"), Buffer.from("one\n"), key);
    assert.equal(cache.has(path.join(ws.root, "sub/x.txt")), false, "under an invalidated folder");
    fill.add(path.join(ws.root, "b.txt"), Buffer.from("on"), key);
    assert.equal(cache.has(path.join(ws.root, "b.txt")), false, "short read");
    fill.add(path.join(ws.root, "c.txt"), Buffer.from("one\n"), key);
    assert.equal(cache.has(path.join(ws.root, "c.txt")), true);
    cache.clear();
    fill.add(path.join(ws.root, "d.txt"), Buffer.from("one\n"), key);
    assert.equal(cache.has(path.join(ws.root, "d.txt")), false, "after clear");
    fill.end();
    // A fill begun later is not affected by earlier invalidations.
    const later = cache.beginFill();
    later.add(abs, Buffer.from("one\n"), key);
    assert.equal(cache.has(abs), true);
    later.end();
  });
});

describe("clipLine", () => {
  test("is grep_file's clip", () => {
    assert.equal(clipLine("short"), "short");
    assert.equal(clipLine("y".repeat(1000), 600), `…${"y".repeat(500)}`);
    assert.equal(clipLine("y".repeat(1000), 0), `${"y".repeat(500)}…`);
  });
});
