/**
 * Experiment behind the d2 analysis in docs/benchmarks.md: a first-pass literal search of a
 * corpus, reading every file on the main thread (as the disk source does) vs on 1 or 2 worker
 * threads (batches of 64 paths, buffers transferred back, no copy), each run next to rg.
 * Usage: tsx scripts/bench/probe-readahead.ts [CORPUS]
 */
import { Worker } from "node:worker_threads";
import { openSync, fstatSync, readSync, closeSync, constants } from "node:fs";
import { execSync } from "node:child_process";
const corpus = process.argv[2] ?? "/work/corpus";
const files = execSync(`rg --files ${corpus}`, { maxBuffer: 1e9 }).toString().trim().split("\n");
const needle = Buffer.from("createElement");
function scan(buf: Buffer): number {
  if (buf.includes(0)) return 0;
  let n = 0,
    at = -1;
  while ((at = buf.indexOf(needle, at + 1)) !== -1) n++;
  return n;
}
function readOne(f: string): Buffer {
  const fd = openSync(f, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    const b = Buffer.allocUnsafeSlow(st.size);
    let o = 0;
    while (o < st.size) {
      const n = readSync(fd, b, o, st.size - o, o);
      if (!n) break;
      o += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}
function mainOnly(): number {
  let hits = 0;
  const keep: Buffer[] = [];
  for (const f of files) {
    const b = readOne(f);
    keep.push(b);
    hits += scan(b);
  }
  return hits;
}
const workerCode = `
const { parentPort } = require("node:worker_threads");
const { openSync, fstatSync, readSync, closeSync, constants } = require("node:fs");
parentPort.on("message", (paths) => {
  const out = []; const transfer = [];
  for (const f of paths) {
    try {
      const fd = openSync(f, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
      try { const st = fstatSync(fd); const ab = new ArrayBuffer(st.size); const b = Buffer.from(ab); let o = 0; while (o < st.size) { const n = readSync(fd, b, o, st.size - o, o); if (!n) break; o += n; } out.push([f, ab]); transfer.push(ab); } finally { closeSync(fd); }
    } catch (e) { out.push([f, null]); }
  }
  parentPort.postMessage(out, transfer);
});`;
async function withWorkers(nw: number): Promise<number> {
  const ws = Array.from({ length: nw }, () => new Worker(workerCode, { eval: true }));
  let hits = 0;
  const keep: Buffer[] = [];
  const B = 64;
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += B) batches.push(files.slice(i, i + B));
  let next = 0;
  let pending = 0;
  await new Promise<void>((resolve) => {
    const send = (w: Worker): void => {
      if (next < batches.length) {
        pending++;
        w.postMessage(batches[next++]);
      } else if (pending === 0) resolve();
    };
    for (const w of ws) {
      w.on("message", (out: [string, ArrayBuffer | null][]) => {
        pending--;
        for (const [, ab] of out)
          if (ab) {
            const b = Buffer.from(ab);
            keep.push(b);
            hits += scan(b);
          }
        send(w);
        if (next >= batches.length && pending === 0) resolve();
      });
      send(w);
      send(w);
    }
  });
  for (const w of ws) await w.terminate();
  return hits;
}
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  const a = mainOnly();
  const tm = performance.now() - t;
  t = performance.now();
  const b = await withWorkers(1);
  const tw = performance.now() - t;
  t = performance.now();
  const c = await withWorkers(2);
  const tw2 = performance.now() - t;
  t = performance.now();
  execSync(`rg -c -F createElement ${corpus} || true`);
  const trg = performance.now() - t;
  console.log(
    `main-thread reads ${tm.toFixed(0)} ms (${a}) | 1 worker ${tw.toFixed(0)} ms (${b}) | 2 workers ${tw2.toFixed(0)} ms (${c}) | rg ${trg.toFixed(0)} ms`,
  );
}
