import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../../src/support/memory-pool.js";

test("a released buffer is reused by the next acquire of its size class", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 4 });
  const a = pool.acquire(5000);
  assert.equal(a.length, 8192, "rounded up to the 8 KiB class");
  pool.release(a);
  const b = pool.acquire(6000);
  assert.equal(b, a, "same buffer back");
  pool.release(b);
  const s = pool.stats();
  assert.equal(s.hits, 1);
  assert.equal(s.misses, 1);
  assert.equal(s.returned, 2);
  assert.equal(s.pooled, 1);
  assert.equal(s.leased, 0);
});

test("at most maxPerClass buffers are kept per class; the rest are dropped", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 2 });
  const bufs = [pool.acquire(100), pool.acquire(100), pool.acquire(100)];
  for (const b of bufs) pool.release(b);
  const s = pool.stats();
  assert.equal(s.pooled, 2);
  assert.equal(s.dropped, 1);
  assert.equal(s.returned, 2);
});

test("oversized requests are served but never pooled", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 8, maxClassBytes: 64 * 1024 });
  const big = pool.acquire(100_000);
  assert.ok(big.length >= 100_000);
  pool.release(big);
  assert.equal(pool.stats().pooled, 0);
  assert.equal(pool.stats().dropped, 1);
});

test("the byte bound caps what the pool keeps", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 100, maxPooledBytes: 3 * 4096 });
  const bufs = Array.from({ length: 5 }, () => pool.acquire(4096));
  for (const b of bufs) pool.release(b);
  assert.equal(pool.stats().pooled, 3);
  assert.equal(pool.stats().pooledBytes, 3 * 4096);
});

test("releasing twice, or a foreign buffer, throws", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 2 });
  const a = pool.acquire(10);
  pool.release(a);
  assert.throws(() => pool.release(a), /not leased/);
  assert.throws(() => pool.release(Buffer.alloc(4096)), /not leased/);
});

test("disabled: every acquire allocates fresh and nothing is kept", () => {
  const pool = new BufferPool({ enabled: false, maxPerClass: 4 });
  const a = pool.acquire(100);
  pool.release(a);
  const b = pool.acquire(100);
  assert.notEqual(b, a);
  pool.release(b);
  const s = pool.stats();
  assert.equal(s.hits, 0);
  assert.equal(s.misses, 2);
  assert.equal(s.pooled, 0);
  assert.equal(s.capacity, 0);
});

test("configure shrinks the free lists at once", () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 4 });
  const bufs = Array.from({ length: 4 }, () => pool.acquire(100));
  for (const b of bufs) pool.release(b);
  pool.configure({ enabled: true, maxPerClass: 1 });
  assert.equal(pool.stats().pooled, 1);
  pool.configure({ enabled: false, maxPerClass: 1 });
  assert.equal(pool.stats().pooled, 0);
});

test("concurrent async users never share a buffer", async () => {
  const pool = new BufferPool({ enabled: true, maxPerClass: 3 });
  const owners = new Map<Buffer, number>();
  const worker = async (id: number) => {
    for (let i = 0; i < 50; i++) {
      await pool.with(1000 + ((id * 7 + i) % 3000), async (buf) => {
        assert.equal(owners.has(buf), false, "buffer handed to two calls at once");
        owners.set(buf, id);
        buf.fill(id);
        await new Promise((r) => setTimeout(r, Math.random() * 2));
        assert.ok(
          buf.subarray(0, 1000).every((byte) => byte === id),
          "another call wrote into this buffer",
        );
        owners.delete(buf);
      });
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, i) => worker(i + 1)));
  const s = pool.stats();
  assert.equal(s.leased, 0);
  assert.ok(s.hits > 0, "buffers were reused");
  assert.ok(s.pooled <= 3 * 11);
});
