/** The journal's framing and the change feed's bounds, in memory (fast-check properties). */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeFrames, encodeFrame } from "../../src/journal/frames.js";
import { ChangeFeed } from "../../src/journal/feed.js";
import type { WorkspaceDidChangeParams } from "../../src/protocol/methods.js";

const record = fc.record(
  { t: fc.constantFrom("begin", "commit", "drop"), id: fc.nat(), note: fc.string() },
  { noNullPrototype: true },
);
const blob = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));

test("frames round-trip; any torn tail is cut off and the good prefix kept", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(record, fc.array(blob, { maxLength: 3 })), { maxLength: 8 }),
      fc.nat(),
      (items, cutSeed) => {
        const frames = items.map(([r, b]) => encodeFrame(r, b));
        const whole = Buffer.concat(frames);
        const decoded = decodeFrames(whole);
        assert.equal(decoded.goodBytes, whole.length);
        assert.deepEqual(
          decoded.frames.map((f) => f.record),
          items.map(([r]) => r),
        );
        decoded.frames.forEach((f, i) => assert.deepEqual(f.blobs, Buffer.concat(items[i]![1])));
        if (frames.length === 0) return;
        // Tear the last frame anywhere: it is never decoded, every earlier one is.
        const last = frames[frames.length - 1]!;
        const cut = whole.length - 1 - (cutSeed % last.length);
        const torn = decodeFrames(whole.subarray(0, cut));
        assert.equal(torn.frames.length, frames.length - 1);
        assert.equal(torn.goodBytes, whole.length - last.length);
      },
    ),
  );
});

test("a flipped byte in the last frame makes it unreadable, never a different record", () => {
  fc.assert(
    fc.property(
      record,
      blob,
      record,
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (first, b, second, at, xor) => {
        const a = encodeFrame(first, [b]);
        const z = encodeFrame(second);
        const data = Buffer.concat([a, z]);
        data[a.length + (at % z.length)]! ^= xor;
        const decoded = decodeFrames(data);
        assert.deepEqual(
          decoded.frames.map((f) => f.record),
          [first],
        );
      },
    ),
  );
});

test("the feed coalesces per path, collapses past max_pending_paths, and drops a reader past max_backlog_bytes", async () => {
  const limits = { coalesceMs: 1, maxPendingPaths: 3, maxBacklogBytes: 300 };
  const feed = new ChangeFeed(
    () => limits,
    () => true,
  );
  const sent: WorkspaceDidChangeParams[] = [];
  const stuck: WorkspaceDidChangeParams[] = [];
  const reader = {};
  const nonReader = {};
  feed.subscribe(reader, async (p) => void sent.push(p));
  feed.subscribe(nonReader, (p) => {
    stuck.push(p);
    return new Promise<void>(() => {}); // never written: the client does not read
  });
  feed.expect(["src"], 7);
  feed.publish([
    { path: "src/a.ts", kind: "created" },
    { path: "src/a.ts", kind: "changed" },
    { path: ".a.ts.toold-0123456789ab.tmp", kind: "created" },
  ]);
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(sent, [{ changes: [{ path: "src/a.ts", kind: "created", changeId: 7 }] }]);

  feed.publish(["a", "b", "c", "d"].map((p) => ({ path: p, kind: "changed" as const })));
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(sent[1], { changes: [{ path: ".", kind: "overflow" }] });

  for (let i = 0; i < 20 && feed.stats().subscribers === 2; i++) {
    feed.publish([{ path: `file-${"x".repeat(40)}-${i}`, kind: "changed" }]);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(feed.stats().subscribers, 1, "the non-reader was dropped");
  assert.equal(feed.stats().dropped, 1);
  assert.match(stuck[stuck.length - 1]!.dropped!, /too slowly/);
  const stuckBytes = stuck.reduce((n, p) => n + JSON.stringify(p).length, 0);
  assert.ok(stuckBytes <= limits.maxBacklogBytes + 300, `${stuckBytes} bytes queued for the non-reader`);
  feed.dispose();
});
