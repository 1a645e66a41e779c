/** QuietCollector: one collection after a burst, only once calls stop, only when the heap grew. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { QuietCollector } from "../../src/daemon/quiet-collector.js";

const MB = 1024 * 1024;

function harness(opts: { heap: number; busy?: boolean; quietMs?: number }) {
  const state = { heap: opts.heap, busy: opts.busy ?? false, collected: 0 };
  const collector = new QuietCollector({
    quietMs: opts.quietMs ?? 40,
    minGrowthBytes: 32 * MB,
    busy: () => state.busy,
    heapUsed: () => state.heap,
    collect: () => {
      state.collected++;
      state.heap = 10 * MB;
    },
  });
  return { state, collector };
}

describe("QuietCollector", () => {
  it("collects once after a burst that grew the heap, when the calls stop", async () => {
    const { state, collector } = harness({ heap: 10 * MB });
    state.heap = 120 * MB;
    collector.noteWork();
    await sleep(120);
    assert.equal(state.collected, 1);
    assert.equal(collector.collections, 1);
    await sleep(100);
    assert.equal(state.collected, 1, "no second collection without new work");
    collector.dispose();
  });

  it("waits while calls keep coming and while one runs", async () => {
    const { state, collector } = harness({ heap: 10 * MB, quietMs: 60 });
    state.heap = 120 * MB;
    for (let i = 0; i < 6; i++) {
      collector.noteWork();
      await sleep(20);
    }
    assert.equal(state.collected, 0, "calls 20 ms apart are not a quiet moment");
    state.busy = true;
    await sleep(150);
    assert.equal(state.collected, 0, "a call in flight is not a quiet moment");
    state.busy = false;
    await sleep(150);
    assert.equal(state.collected, 1);
    collector.dispose();
  });

  it("leaves a heap that grew less than the threshold alone", async () => {
    const { state, collector } = harness({ heap: 10 * MB });
    state.heap = 30 * MB;
    collector.noteWork();
    await sleep(120);
    assert.equal(state.collected, 0);
    collector.dispose();
  });

  it("collects nothing after dispose", async () => {
    const { state, collector } = harness({ heap: 10 * MB });
    state.heap = 120 * MB;
    collector.noteWork();
    collector.dispose();
    await sleep(120);
    assert.equal(state.collected, 0);
  });

  it("finds V8's gc without --expose-gc and frees a dropped heap", async () => {
    let reported = 0; // the heap it is told about: it decides, the real gc does the work
    const collector = new QuietCollector({ quietMs: 10, busy: () => false, heapUsed: () => reported });
    let garbage: unknown[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `x${i}` }));
    const before = process.memoryUsage().heapUsed;
    assert.equal(garbage.length, 300_000);
    garbage = undefined;
    reported = 100 * MB;
    collector.noteWork();
    await sleep(80);
    assert.equal(garbage, undefined);
    assert.equal(collector.collections, 1);
    assert.ok(process.memoryUsage().heapUsed < before - 5 * MB, "the dropped objects were collected");
    collector.dispose();
  });
});
