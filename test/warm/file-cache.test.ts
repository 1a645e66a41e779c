/** The file content cache: never stale, bounded in bytes, pooled reads when not cached. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, realpath, rename, rm, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FileCache, FileTooLargeError } from "../../src/cache/file-cache.js";
import { memoKey } from "../../src/cache/file-memo.js";
import { BufferPool } from "../../src/support/memory-pool.js";

async function tempDir(): Promise<string> {
  return realpath(await mkdtemp(path.join(os.tmpdir(), "toold-cache-")));
}

const text = (cache: FileCache, abs: string) => cache.read(abs, (data) => data.toString("utf8"));

describe("FileCache", () => {
  test("a hit is validated by stat: same-size edits, replacements and deletions are seen at once", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 1 << 20 });
      const f = path.join(dir, "a.txt");
      await writeFile(f, "one\n");
      assert.equal(await text(cache, f), "one\n");
      assert.equal(await text(cache, f), "one\n");
      assert.deepEqual([cache.stats().misses, cache.stats().hits], [1, 1]);

      // Same size, new content: mtime differs (set explicitly, as a fast editor may not move it far).
      await writeFile(f, "two\n");
      await utimes(f, new Date(), new Date(Date.now() + 5000));
      assert.equal(await text(cache, f), "two\n");

      // Replaced by rename (what atomic writers do): a new inode.
      const tmp = path.join(dir, "a.tmp");
      await writeFile(tmp, "six\n");
      await utimes(tmp, new Date(), new Date(Date.now() + 5000)); // same mtime as before, on purpose
      await rename(tmp, f);
      assert.equal(await text(cache, f), "six\n");

      await unlink(f);
      await assert.rejects(text(cache, f), { code: "ENOENT" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("stays within max_bytes, evicting least recently used files", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 10_000, maxFileBytes: 4000 });
      for (let i = 0; i < 20; i++) {
        const f = path.join(dir, `f${i}.txt`);
        await writeFile(f, "x".repeat(1000));
        await text(cache, f);
        assert.ok(cache.stats().bytes <= 10_000, `bytes ${cache.stats().bytes} after file ${i}`);
      }
      const s = cache.stats();
      assert.ok(s.evictions >= 10, `evictions ${s.evictions}`);
      assert.ok(s.entries < 20 && s.entries > 0);
      // The most recent file is still cached; the first is gone.
      assert.equal(cache.isFresh(path.join(dir, "f19.txt")), true);
      assert.equal(cache.isFresh(path.join(dir, "f0.txt")), false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("files over the per-file bound are read through the pool and never cached; max_bytes 0 disables", async () => {
    const dir = await tempDir();
    try {
      const pool = new BufferPool({ enabled: true, maxPerClass: 4 });
      const cache = new FileCache({ maxBytes: 100_000, maxFileBytes: 1000 });
      const big = path.join(dir, "big.txt");
      await writeFile(big, "y".repeat(5000));
      for (let i = 0; i < 3; i++) {
        assert.equal(await cache.read(big, (d) => d.length, { pool }), 5000);
      }
      assert.equal(cache.stats().entries, 0);
      assert.equal(pool.stats().hits, 2, "the second and third reads reuse the pooled buffer");
      assert.equal(pool.stats().leased, 0);

      const off = new FileCache({ maxBytes: 0 });
      assert.equal(off.enabled, false);
      assert.equal(await off.read(big, (d) => d.length), 5000);
      assert.equal(off.stats().entries, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("maxBytes is refused with the size, so the caller can say what to do", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 1 << 20 });
      const f = path.join(dir, "a.txt");
      await writeFile(f, "z".repeat(300));
      await assert.rejects(
        cache.read(f, () => 0, { maxBytes: 100 }),
        (err: unknown) => {
          assert.ok(err instanceof FileTooLargeError);
          assert.equal(err.size, 300);
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("readTrusted serves the cached bytes until invalidated; memos count against max_bytes", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 50_000, maxFileBytes: 10_000 });
      const files = [];
      for (let i = 0; i < 8; i++) {
        const f = path.join(dir, `m${i}.txt`);
        await writeFile(f, `${i}`.repeat(5000));
        files.push(f);
        cache.readTrusted(f, () => undefined);
      }
      const f0 = files[7]!;
      await writeFile(f0, "changed");
      // Trusted: no stat, so the old bytes until someone (the index's watcher) invalidates.
      assert.equal(
        cache.readTrusted(f0, (d) => d.length),
        5000,
      );
      cache.invalidate(f0);
      assert.equal(
        cache.readTrusted(f0, (d) => d.toString()),
        "changed",
      );

      cache.scheduleMemo(memoKey<boolean>("big"), () => ({ value: true, bytes: 2000 }));
      await new Promise((r) => setTimeout(r, 100));
      const s = cache.stats();
      assert.ok(s.memoBytes > 0, "memos were built in the background");
      assert.ok(s.bytes <= 50_000, `data + memos ${s.bytes} within max_bytes`);
      assert.equal(
        cache.readTrusted(path.join(dir, "missing"), () => 1),
        undefined,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("large files live in shared memory, known to sharedTrusted until evicted, invalidated or resized away", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 10_000, maxFileBytes: 4000, sharedFromBytes: 1000 });
      const big = path.join(dir, "big.txt");
      const small = path.join(dir, "small.txt");
      await writeFile(big, "b".repeat(1500));
      await writeFile(small, "s".repeat(999));
      assert.equal(await text(cache, big), "b".repeat(1500));
      assert.equal(
        cache.readTrusted(small, (d) => d.toString()),
        "s".repeat(999),
      );
      const shared = cache.sharedTrusted(big);
      assert.ok(shared && shared.data.buffer instanceof SharedArrayBuffer);
      assert.equal(shared.data.toString(), "b".repeat(1500));
      assert.equal(cache.sharedTrusted(small), undefined, "a small file stays in an ordinary buffer");
      assert.equal(cache.sharedBytes, 1500);

      // Resizing keeps the entry, and it stays known as shared.
      cache.configure(20_000);
      assert.equal(cache.sharedTrusted(big)?.data.toString(), "b".repeat(1500));
      assert.equal(cache.sharedBytes, 1500);

      cache.invalidate(big);
      assert.equal(cache.sharedTrusted(big), undefined);
      assert.equal(cache.sharedBytes, 0);

      // Evicted by newer files: gone from the shared entries too.
      assert.equal(
        cache.readTrusted(big, (d) => d.length),
        1500,
      );
      assert.equal(cache.sharedBytes, 1500);
      for (let i = 0; i < 30; i++) {
        const f = path.join(dir, `f${i}.txt`);
        await writeFile(f, "x".repeat(900));
        await text(cache, f);
      }
      assert.equal(cache.has(big), false);
      assert.equal(cache.sharedTrusted(big), undefined);
      assert.equal(cache.sharedBytes, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("configure shrinks at once, keeping the most recently used", async () => {
    const dir = await tempDir();
    try {
      const cache = new FileCache({ maxBytes: 100_000 });
      for (let i = 0; i < 10; i++) {
        const f = path.join(dir, `c${i}.txt`);
        await writeFile(f, "q".repeat(1000));
        await text(cache, f);
      }
      cache.configure(5000);
      const s = cache.stats();
      assert.ok(s.bytes <= 5000 && s.entries >= 1, `bytes ${s.bytes}`);
      assert.equal(cache.isFresh(path.join(dir, "c9.txt")), true);
      cache.configure(0);
      assert.equal(cache.stats().entries, 0);
      assert.equal(cache.enabled, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
