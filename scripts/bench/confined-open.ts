/**
 * Row h: what reading through a verified folder handle costs (issue #12, item 4). Every read
 * opens its file by name inside a folder handle verified to be the checked folder
 * (src/support/confined-fs.ts) instead of by path; this measures that against a plain
 * `open(path, O_NOFOLLOW)`, side by side in one process, on the corpus's files:
 * - a batch read in one turn (the warm index fill and warm grep's misses: one handle per folder),
 * - one file per turn (a read_file miss),
 * - async, one file after another (the cold grep reader).
 * Each read is open + fstat + read of the first 4 KiB + close.
 */
import { closeSync, constants, fstatSync, readdirSync, openSync, readSync, realpathSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { openConfinedForRead, openConfinedSync, READ_NONBLOCK } from "../../src/support/confined-fs.js";

/** A row's measured part; bench.ts adds its id and goal ("report": a cost, not a target). */
interface Measured {
  figure: string;
  baseline: string;
  result: string;
  ratio: string;
}

const MAX_FILES = 5000;

function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (out.length >= MAX_FILES) return;
      if (e.name === ".git" || e.name === "node_modules") continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(realpathSync(dir));
  return out;
}

const buf = Buffer.alloc(4096);
function readFd(fd: number): void {
  try {
    fstatSync(fd);
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
}
const plainFd = (f: string) => openSync(f, READ_NONBLOCK | constants.O_NOFOLLOW);
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

export async function confinedOpenRows(corpus: string, runs: number): Promise<Measured[]> {
  const files = corpusFiles(corpus);
  const per = (ms: number) => (ms * 1000) / files.length;
  const cases: Array<[string, () => Promise<void> | void, () => Promise<void> | void]> = [
    [
      "batch read in one turn (warm index fill)",
      () => files.forEach((f) => readFd(plainFd(f))),
      () => files.forEach((f) => readFd(openConfinedSync(f))),
    ],
    [
      "one file per turn (a read_file miss)",
      async () => {
        for (const f of files) {
          readFd(plainFd(f));
          await nextTurn();
        }
      },
      async () => {
        for (const f of files) {
          readFd(openConfinedSync(f));
          await nextTurn();
        }
      },
    ],
    [
      "async, one after another (cold grep reader)",
      async () => {
        for (const f of files) {
          const h = await open(f, READ_NONBLOCK | constants.O_NOFOLLOW);
          await h.stat();
          await h.read(buf, 0, buf.length, 0);
          await h.close();
        }
      },
      async () => {
        for (const f of files) {
          const h = await openConfinedForRead(f);
          await h.stat();
          await h.read(buf, 0, buf.length, 0);
          await h.close();
        }
      },
    ],
  ];
  const rows: Measured[] = [];
  for (const [name, plain, confined] of cases) {
    const a: number[] = [];
    const b: number[] = [];
    await plain(); // warm the dentry and page caches
    for (let i = 0; i < Math.max(3, runs); i++) {
      await nextTurn();
      let t = performance.now();
      await plain();
      a.push(performance.now() - t);
      await nextTurn();
      t = performance.now();
      await confined();
      b.push(performance.now() - t);
    }
    const pa = per(median(a));
    const pb = per(median(b));
    rows.push({
      figure: `confined read (verified folder handle, O_NOFOLLOW) vs plain open, ${name}, µs per file of ${files.length}`,
      baseline: `plain open ${pa.toFixed(1)} µs`,
      result: `${pb.toFixed(1)} µs`,
      ratio: `${(pb / pa).toFixed(2)}x`,
    });
  }
  return rows;
}
