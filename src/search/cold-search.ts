/**
 * The cold search: a whole-tree search while the index is not ready (or the cache lacks most of
 * the files) done the way ripgrep does it, on every core. The main thread walks (walk.ts, the
 * same entries in the same order) and hands batches of files to a small pool of worker threads
 * (cold-worker.ts), each of which opens, reads and scans its files with the call's query; the
 * scans come back and are given out in walk order, so results, their order and the caller's
 * max_results cut are those of the single-thread path. Once no search is running, the workers
 * read the files again for the file cache (`CacheFill`): the first call's answer never waits for
 * the cache, and the next call is warm.
 *
 * The pool is made by the composition root at daemon start (a worker takes tens of milliseconds
 * to start, which must not be on the first call's path), waits idle otherwise, and is ended at
 * shutdown. A worker that dies is replaced; the calls it was serving finish on the main thread.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { FileKey } from "../cache/file-cache.js";
import type { Summary } from "./warm-scan.js";
import type { SearchQuery } from "./query.js";
import type { FileScan } from "./scan-types.js";
import type {
  ColdWorkerData,
  FromWorker,
  ToWorker,
  WireFill,
  WireScanOptions,
  WireShared,
} from "./cold-worker.js";

export type { WireScanOptions, WireShared };

/** A file of a search and its scan. */
export interface Scanned<F> {
  readonly file: F;
  readonly scan: FileScan;
}

/** Files per batch: enough to make a message cheap against its work, few enough to balance. */
const BATCH_FILES = 48;
/** Batches sent to one worker and not yet answered: keeps it busy while the main thread waits. */
const IN_FLIGHT_PER_WORKER = 4;
/** Longest the main thread walks before it lets answers (and other calls) in. */
const WALK_SLICE_MS = 4;
/** Longest a warm search scans on the main thread before it lets answers (and other calls) in. */
const SCAN_SLICE_MS = 8;
const CANCEL_SLOTS = 256;

/** Batches of one warm search that can be taken back from a worker (see `scanShared`). */
const CLAIM_SLOTS = 4096;
const DEFAULT_MIN_FILES = 200;
const DEFAULT_SHARE_FROM_BYTES = 4 * 1024 * 1024;
const DEFAULT_SHARE_MIN_BLOCKS = 64;
const DEFAULT_SHARE_FROM_BLOCKS = 4096;
/** A worker that dies more often than this (per minute) is not replaced. */
const MAX_RESTARTS_PER_MINUTE = 3;

/**
 * Idle this long with nothing left to read for the cache, the workers end and their heaps go back
 * (tens of MB): they exist for the first searches, and once the cache holds the tree a search
 * stays on the main thread. A search that needs them again starts them again.
 */
const RETIRE_AFTER_MS = 2000;

const NO_MATCH: FileScan = Object.freeze({ kind: "no_match", bytes: 0 }) as FileScan;

export interface ColdSearchOptions {
  /** Worker threads (os.availableParallelism() in the daemon). */
  readonly threads: number;
  /**
   * A walk goes to the workers once it has this many files and the cache lacks most of them
   * (below that, thread round trips cost more than they save). 0: every walk (tests). Default 200.
   */
  readonly minFiles?: number;
  /** See RETIRE_AFTER_MS (the default). */
  readonly retireAfterMs?: number;
  /**
   * A warm search hands its large files to the workers (`scanShared`) once the cache holds this
   * many bytes in shared memory: with less, the thread round trips cost more than they save.
   * Default 4 MiB; 0 in tests.
   */
  readonly shareFromBytes?: number;
  /**
   * Only a file whose summary leaves at least this many 4 KiB blocks to look through goes to a
   * worker: fewer are scanned on the main thread in less time than the hand-over costs. Default
   * 64 (256 KiB); 0 in tests.
   */
  readonly shareMinBlocks?: number;
  /**
   * A warm search hands files to a worker only when they hold, together, at least this many
   * blocks to look through: with less, the hand-over and the wait for the worker's last file cost
   * about what they save. Default 4096 (16 MiB); 0 in tests.
   */
  readonly shareFromBlocks?: number;
  log?: Logger;
}

/** The cache a search fills, and what to do once its reads are in. */
export interface FillTarget {
  /** Puts one file read for the cache (with its summary, when `summaries`). */
  readonly add: (abs: string, data: Buffer, key: FileKey, summary: Summary | undefined) => void;
  /** The workers build each file's trigram summary too. */
  readonly summaries: boolean;
  /** Larger files are not kept. */
  readonly maxFileBytes: number;
  /** Files of this size or more are read into shared memory (FileCache.sharedFromBytes). */
  readonly sharedFrom: number;
  /** Reading stops past this many bytes (the cache's size: more would only evict). */
  readonly maxBytes: number;
  /** Whether a file still needs reading (not cached meanwhile). */
  readonly wants: (abs: string) => boolean;
  /** Called once every batch is in. */
  readonly done: () => void;
  /**
   * A promise to wait for before reading (the index's first scan: a file re-read before its
   * folder is watched could change unseen), or undefined to read now.
   */
  readonly after?: () => Promise<void> | undefined;
}

/** A finished search's files, being read for the cache. */
interface FillWork {
  readonly target: FillTarget;
  readonly batches: string[][];
  next: number;
  inFlight: number;
  bytes: number;
  /** Waiting for `target.after`. */
  gated: boolean;
}

interface Slot {
  worker: Worker | undefined;
  /** Batches sent and not answered yet, all jobs together. */
  inFlight: number;
  /** The fill batch it is reading, if any. */
  filling: FillWork | undefined;
  /** Resolves when its worker has loaded its modules (or is gone). */
  loaded: Promise<void>;
  markLoaded: () => void;
  /** Its worker has loaded its modules and is up. */
  isLoaded: boolean;
}

interface Batch<F> {
  readonly files: F[];
  /** The worker scanning it; undefined for a batch scanned on the main thread (cached files). */
  readonly slot: Slot | undefined;
  scans: [number, FileScan][] | undefined;
  /** Called once a worker has answered the batch with its scans (not cancelled, not taken back). */
  readonly onScanned?: () => void;
}

/** A search in progress. */
class Job {
  readonly batches = new Map<number, Batch<unknown>>();
  /** The next batch to give out (batches are given out in order). */
  nextOut = 0;
  failed: string | undefined;
  /** Workers told about this job (only they get its batches). */
  readonly open = new Set<Slot>();
  private wake: (() => void) | undefined;

  constructor(readonly id: number) {}

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** The files of the answered batches from `nextOut` on, in order, with their scans. */
  answered<F>(): Scanned<F>[] {
    const out: Scanned<F>[] = [];
    for (let b = this.batches.get(this.nextOut); b?.scans; b = this.batches.get(this.nextOut)) {
      const batch = b as Batch<F>;
      const scans = batch.scans!;
      let k = 0;
      for (let i = 0; i < batch.files.length; i++) {
        const hit = k < scans.length && scans[k]![0] === i ? scans[k++]![1] : NO_MATCH;
        out.push({ file: batch.files[i]!, scan: hit });
      }
      this.batches.delete(this.nextOut);
      this.nextOut++;
    }
    return out;
  }

  /** Resolves at the next answer for this job (or failure). */
  next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }
}

/** The worker entry next to this module: the built .js, or the .ts source under tsx (tests). */
function workerEntry(): { url: URL; typescript: boolean } {
  const here = fileURLToPath(import.meta.url);
  const typescript = here.endsWith(".ts");
  return { url: new URL(typescript ? "./cold-worker.ts" : "./cold-worker.js", import.meta.url), typescript };
}

function spawnWorker(data: ColdWorkerData): Worker {
  const { url, typescript } = workerEntry();
  if (!typescript) return new Worker(url, { workerData: data });
  // Running from source (the tests, under tsx): the worker registers tsx itself.
  const api = import.meta.resolve("tsx/esm/api");
  if (!existsSync(fileURLToPath(url))) throw new Error(`no worker entry at ${url.href}`);
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(url.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: data });
}

export class ColdSearchPool {
  private readonly slots: Slot[] = [];
  private readonly cancel = new SharedArrayBuffer(4 * CANCEL_SLOTS);
  private readonly cancelled = new Int32Array(this.cancel);
  private readonly jobs = new Map<number, Job>();
  private nextJob = 1;
  /** Searches iterating now. */
  private searches = 0;
  private idleWaiters: (() => void)[] = [];
  private disposed = false;
  private readonly restarts: number[] = [];
  private sharedSent = 0;
  /** Finished searches whose files are read for the cache while no search runs. */
  private readonly fillQueue: FillWork[] = [];
  private fillSeq = 0;
  /** The workers were ended for idleness (`RETIRE_AFTER_MS`); the next search starts them. */
  private retired = false;
  private retireTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ColdSearchOptions) {}

  /** Logs from now on go to `log` (the pool may start before the daemon's logger exists). */
  useLog(log: Logger): void {
    this.options.log = log;
  }

  /** Starts the workers (they load their modules in the background). */
  start(): void {
    if (this.disposed || this.slots.length > 0) return;
    for (let i = 0; i < Math.max(1, this.options.threads); i++) {
      const slot: Slot = {
        worker: undefined,
        inFlight: 0,
        filling: undefined,
        loaded: Promise.resolve(),
        markLoaded: () => undefined,
        isLoaded: false,
      };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  /** At least one worker is up (or starting). */
  get available(): boolean {
    return !this.disposed && (this.retired || this.slots.some((s) => s.worker !== undefined));
  }

  /** Ends the workers once nothing has run or been filled for `RETIRE_AFTER_MS`. */
  private scheduleRetire(): void {
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = undefined;
    if (this.disposed || this.retired || this.searches > 0 || this.filling) return;
    this.retireTimer = setTimeout(() => {
      this.retireTimer = undefined;
      if (this.disposed || this.searches > 0 || this.filling || this.slots.some((s) => s.inFlight > 0))
        return;
      const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
      // Unset first: the exit handler then knows this end was asked for and starts no other.
      for (const slot of this.slots) {
        slot.worker = undefined;
        slot.isLoaded = false;
      }
      this.retired = true;
      for (const worker of workers) void worker.terminate();
      this.options.log?.debug({ workers: workers.length }, "cold search workers ended (idle)");
    }, this.options.retireAfterMs ?? RETIRE_AFTER_MS);
    this.retireTimer.unref();
  }

  /** Starts the workers again after they retired. */
  private revive(): void {
    if (!this.retired || this.disposed) return;
    this.retired = false;
    for (const slot of this.slots) if (!slot.worker) this.spawn(slot);
  }

  /**
   * A promise that resolves when no search runs on the workers, or undefined when none does:
   * background work (the index's first scan) waits on it.
   */
  idle(): Promise<void> | undefined {
    if (this.searches === 0) return undefined;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Resolves once every worker has loaded (or failed to), or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    const all = Promise.all(this.slots.map((s) => s.loaded));
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      void all.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Files of finished searches are still being read for the cache. */
  get filling(): boolean {
    return this.fillQueue.length > 0 || this.slots.some((s) => s.filling !== undefined);
  }

  /** See ColdSearchOptions.shareFromBytes. */
  get shareFromBytes(): number {
    return this.options.shareFromBytes ?? DEFAULT_SHARE_FROM_BYTES;
  }

  /** See ColdSearchOptions.shareFromBlocks. */
  get shareFromBlocks(): number {
    return this.options.shareFromBlocks ?? DEFAULT_SHARE_FROM_BLOCKS;
  }

  /** See ColdSearchOptions.shareMinBlocks. */
  get shareMinBlocks(): number {
    return this.options.shareMinBlocks ?? DEFAULT_SHARE_MIN_BLOCKS;
  }

  /** See ColdSearchOptions.minFiles. */
  get minFiles(): number {
    return this.options.minFiles ?? DEFAULT_MIN_FILES;
  }

  /** Files handed to the workers by warm searches so far (for tests). */
  get sharedBatches(): number {
    return this.sharedSent;
  }

  /** Workers alive (for stats and tests). */
  get threads(): number {
    return this.slots.filter((s) => s.worker !== undefined).length;
  }

  /** Ends every worker; searches still running finish on the main thread. */
  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.retireTimer) clearTimeout(this.retireTimer);
    const workers = this.slots.map((s) => s.worker).filter((w): w is Worker => w !== undefined);
    for (const slot of this.slots) this.lose(slot, "the pool was disposed");
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private spawn(slot: Slot): void {
    slot.isLoaded = false;
    slot.loaded = new Promise((resolve) => (slot.markLoaded = resolve));
    let worker: Worker;
    try {
      worker = spawnWorker({ cancel: this.cancel });
    } catch (err) {
      this.options.log?.warn({ err: (err as Error).message }, "cold search worker could not start");
      slot.markLoaded();
      return;
    }
    slot.worker = worker;
    worker.on("message", (m: FromWorker) => this.onMessage(slot, m));
    worker.on("error", (err) => {
      this.options.log?.warn({ err: err.message }, "cold search worker failed");
    });
    worker.on("exit", (code) => {
      if (slot.worker !== worker) return;
      this.lose(slot, `a search worker exited (code ${code})`);
      if (this.disposed) return;
      const now = Date.now();
      while (this.restarts.length > 0 && now - this.restarts[0]! > 60_000) this.restarts.shift();
      if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
        this.options.log?.error("cold search workers keep dying; searches stay on the main thread");
        return;
      }
      this.restarts.push(now);
      this.spawn(slot);
    });
    // An idle pool does not keep the process alive (see `updateRefs`).
    if (this.searches === 0) worker.unref();
  }

  /** A worker is gone: every job it was serving fails over to the main thread. */
  private lose(slot: Slot, why: string): void {
    slot.markLoaded();
    slot.isLoaded = false;
    slot.worker = undefined;
    slot.inFlight = 0;
    const work = slot.filling;
    slot.filling = undefined;
    if (work) this.fillAnswered(work, 0);
    for (const job of this.jobs.values()) {
      const served = [...job.batches.values()].some((b) => b.slot === slot && b.scans === undefined);
      if (served) job.failed ??= why;
      job.open.delete(slot);
      job.notify();
    }
  }

  private onMessage(slot: Slot, m: FromWorker): void {
    if (m.t === "ready") {
      slot.isLoaded = slot.worker !== undefined;
      slot.markLoaded();
      return;
    }
    if (m.t === "filled") {
      const work = slot.filling;
      slot.filling = undefined;
      if (work) this.fillAnswered(work, this.putFill(work.target, m.fill));
      this.pumpFill();
      this.updateRefs();
      return;
    }
    slot.inFlight = Math.max(0, slot.inFlight - 1);
    const job = this.jobs.get(m.job);
    if (job && m.t === "failed") {
      job.failed ??= m.error;
      this.options.log?.warn({ err: m.error }, "cold search batch failed; finishing on the main thread");
    } else if (job && m.t === "batch") {
      const batch = job.batches.get(m.seq);
      if (batch && !m.cancelled && !m.taken) {
        batch.scans = m.scans;
        batch.onScanned?.();
      }
    }
    // Every search waiting for room on a worker may go on (searches at once share the workers).
    for (const waiting of this.jobs.values()) waiting.notify();
  }

  private leastLoaded(job: Job): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of job.open) {
      if (slot.worker && slot.inFlight < IN_FLIGHT_PER_WORKER && (!best || slot.inFlight < best.inFlight))
        best = slot;
    }
    return best;
  }

  /**
   * Scans `files` (walk order) with `query` on the workers, giving out the scans in that order,
   * a chunk at a time. `fallback` scans a file on the main thread: it takes over when a worker
   * fails. Each scan stops at `options.stopAfter` matches (the caller cuts further with
   * `limitScan`). Stopping the iteration (break, or `signal`) cancels the workers' part.
   */
  async *scan<F extends { readonly abs: string }>(
    files: Iterator<F>,
    query: SearchQuery,
    options: WireScanOptions,
    fallback: (file: F) => FileScan | Promise<FileScan>,
    target: FillTarget | undefined,
    signal?: AbortSignal,
    /** Files the cache holds: a batch mostly of those is scanned here, from the cache. */
    cached?: (file: F) => boolean,
  ): AsyncGenerator<Scanned<F>[]> {
    this.revive();
    const began = performance.now();
    let walkedAt = 0;
    let firstAnswerAt = 0;
    /** What the workers read, to read again for the cache afterwards. */
    const read: string[][] = [];
    const job = this.beginJob();
    const id = job.id;
    this.tellJob(job, this.slots, query, options);
    let seq = 0;
    let walked = false;
    let completed = false;
    try {
      while (job.failed === undefined) {
        signal?.throwIfAborted();
        // Walk and send until every worker has enough to do (or a slice is up).
        const sliceStart = performance.now();
        let sliced = false;
        for (let slot = this.leastLoaded(job); slot && !walked; slot = this.leastLoaded(job)) {
          const batch: F[] = [];
          while (batch.length < BATCH_FILES) {
            const next = files.next();
            if (next.done) {
              walked = true;
              walkedAt = performance.now();
              break;
            }
            batch.push(next.value);
          }
          if (batch.length === 0) break;
          if (cached && batch.filter(cached).length * 2 >= batch.length) {
            // Mostly cached (a fill under way, or a tree searched before): cheaper here.
            const scans: [number, FileScan][] = [];
            for (let i = 0; i < batch.length; i++) {
              const scan = await fallback(batch[i]!);
              if (scan.kind !== "no_match") scans.push([i, scan]);
            }
            job.batches.set(seq++, { files: batch, slot: undefined, scans });
          } else {
            job.batches.set(seq, { files: batch, slot, scans: undefined });
            slot.inFlight++;
            const paths = batch.map((f) => f.abs);
            slot.worker!.postMessage({ t: "batch", job: id, seq, files: paths } satisfies ToWorker);
            if (target) read.push(paths);
            seq++;
          }
          if (performance.now() - sliceStart > WALK_SLICE_MS) {
            sliced = true;
            break;
          }
        }
        const out = job.answered<F>();
        if (out.length > 0) {
          firstAnswerAt ||= performance.now();
          yield out;
        }
        if (walked && job.nextOut === seq) {
          completed = true;
          return;
        }
        if (job.failed !== undefined) break;
        if (sliced || job.batches.get(job.nextOut)?.scans) {
          // Let answers (and other calls) in, then walk on.
          await new Promise((r) => setImmediate(r));
        } else if (![...job.open].some((slot) => slot.worker)) {
          job.failed = "no search worker";
        } else {
          // Every worker has enough to do (for this search or another), or the walk is done:
          // wait for an answer.
          await job.next();
        }
      }
      // A worker failed: the files not given out yet are scanned here, in order.
      this.options.log?.warn({ reason: job.failed }, "cold search continues on the main thread");
      const rest: F[] = [];
      for (let s = job.nextOut; s < seq; s++) rest.push(...((job.batches.get(s)?.files ?? []) as F[]));
      job.batches.clear();
      let chunk: Scanned<F>[] = [];
      let sliceStart = performance.now();
      const each = function* (): Generator<F> {
        yield* rest;
        for (let n = files.next(); !n.done; n = files.next()) yield n.value;
      };
      for (const file of each()) {
        signal?.throwIfAborted();
        if (performance.now() - sliceStart > 8) {
          if (chunk.length > 0) yield chunk;
          chunk = [];
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        chunk.push({ file, scan: await fallback(file) });
      }
      if (chunk.length > 0) yield chunk;
      completed = true;
    } finally {
      this.options.log?.debug(
        {
          batches: seq,
          completed,
          failed: job.failed,
          ms: Math.round(performance.now() - began),
          // Only what happened: a search cancelled mid-walk has no walk time (it showed negative).
          ...(walked ? { walkMs: Math.round(walkedAt - began) } : {}),
          ...(firstAnswerAt > 0 ? { firstMs: Math.round(firstAnswerAt - began) } : {}),
        },
        "cold search",
      );
      // Queued before the job ends: its end lets the fill start.
      if (target)
        this.fillQueue.push({ target, batches: read, next: 0, inFlight: 0, bytes: 0, gated: false });
      this.endJob(job, completed);
    }
  }

  /**
   * Whether a warm search may hand files to the workers now (`scanShared`): some are up and have
   * loaded. Workers that retired are started again, for the next search: the one asking goes on
   * without them rather than wait for a start.
   */
  shareReady(): boolean {
    if (this.disposed) return false;
    if (this.retired) {
      this.revive();
      this.scheduleRetire();
      return false;
    }
    return this.slots.some((s) => s.worker !== undefined && s.isLoaded);
  }

  /**
   * A warm search (every file cached, in walk order) with the large files on the workers: `shared`
   * gives the cached content of a file in shared memory (or undefined), which a worker scans where
   * it lies while this thread scans the others with `here`; the scans come back in walk order, as
   * `scan` gives them. One worker fewer than the cores takes part: this thread is busy too. The
   * large files are all handed out first, so the worker starts at once wherever they lie in the
   * walk; this thread then scans its part and takes back, from the last, what no worker has begun.
   */
  async *scanShared<F extends { readonly abs: string }>(
    files: Iterator<F>,
    query: SearchQuery,
    options: WireScanOptions,
    here: (file: F) => FileScan | Promise<FileScan>,
    shared: (file: F) => WireShared | undefined,
    /** A file from `shared` that a worker scanned (one scanned here after all goes through `here`). */
    scannedThere: (file: F) => void,
    signal?: AbortSignal,
  ): AsyncGenerator<Scanned<F>[]> {
    const job = this.beginJob();
    const id = job.id;
    const claimBuffer = new SharedArrayBuffer(4 * CLAIM_SLOTS);
    const claims = new Int32Array(claimBuffer);
    let seq = 0;
    let completed = false;
    /** This thread's batches, in walk order (not scanned yet). */
    const mine: Batch<F>[] = [];
    /** Scans a batch here. */
    const scanHere = async (b: Batch<F>) => {
      const scans: [number, FileScan][] = [];
      for (let i = 0; i < b.files.length; i++) {
        const scanned = here(b.files[i]!);
        const scan = scanned instanceof Promise ? await scanned : scanned;
        if (scan.kind !== "no_match") scans.push([i, scan]);
      }
      b.scans = scans;
    };
    /** Scans here a worker's batch: one whose worker failed or died, or (`steal`) one it has not begun. */
    const rescue = async (steal = false) => {
      for (let s = seq - 1; s >= job.nextOut; s--) {
        const b = job.batches.get(s) as Batch<F> | undefined;
        if (!b || b.scans || !b.slot) continue;
        const lost = !b.slot.worker || job.failed !== undefined;
        if (!lost && !(steal && s < CLAIM_SLOTS && Atomics.compareExchange(claims, s, 0, 2) === 0)) continue;
        await scanHere(b);
      }
    };
    try {
      // Plan the walk: runs of files for this thread, and the shared files for a worker.
      const planned: { batch: Batch<F>; content: WireShared | undefined }[] = [];
      let run: F[] = [];
      const closeRun = () => {
        if (run.length === 0) return;
        planned.push({ batch: { files: run, slot: undefined, scans: undefined }, content: undefined });
        run = [];
      };
      let weight = 0;
      let count = 0;
      for (let n = files.next(); !n.done; n = files.next()) {
        const file = n.value;
        if ((++count & 1023) === 0) signal?.throwIfAborted();
        const content = shared(file);
        if (content) {
          closeRun();
          planned.push({ batch: { files: [file], slot: undefined, scans: undefined }, content });
          weight += content.blocks;
          continue;
        }
        run.push(file);
        if (run.length >= BATCH_FILES) closeRun();
      }
      closeRun();
      // Posted now, so the worker starts at once wherever they lie in the walk; too little for a
      // worker (a selective query), and everything is scanned here.
      const worthIt = weight >= this.shareFromBlocks;
      if (worthIt) {
        const helpers = this.slots.filter((s) => s.isLoaded).slice(0, Math.max(1, this.slots.length - 1));
        this.tellJob(job, helpers, query, options, claimBuffer);
      }
      for (const { batch, content } of planned) {
        const slot = worthIt && content ? this.leastBusy(job) : undefined;
        if (content && slot) {
          const file = batch.files[0]!;
          job.batches.set(seq, { ...batch, slot, onScanned: () => scannedThere(file) });
          slot.inFlight++;
          slot.worker!.postMessage({ t: "shared", job: id, seq, files: [content] } satisfies ToWorker);
          this.sharedSent++;
        } else {
          job.batches.set(seq, batch);
          mine.push(batch);
        }
        seq++;
      }
      // This thread's part, in order, giving out what is answered between slices.
      let sliceStart = performance.now();
      for (const batch of mine) {
        if (performance.now() - sliceStart > SCAN_SLICE_MS) {
          signal?.throwIfAborted();
          await rescue();
          const out = job.answered<F>();
          if (out.length > 0) yield out;
          // Let other calls in, then scan on.
          await new Promise((r) => setImmediate(r));
          sliceStart = performance.now();
        }
        await scanHere(batch);
      }
      await rescue(true);
      while (job.nextOut < seq) {
        await rescue();
        const out = job.answered<F>();
        if (out.length > 0) {
          yield out;
          continue;
        }
        signal?.throwIfAborted();
        await job.next();
      }
      completed = true;
    } finally {
      this.endJob(job, completed);
    }
  }

  /** A new search: the workers stay (no retiring) and keep the process alive until `endJob`. */
  private beginJob(): Job {
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = undefined;
    const job = new Job(this.nextJob++);
    this.jobs.set(job.id, job);
    this.hold(+1);
    return job;
  }

  /** Tells the workers of `slots` (those up) what `job` is: only they get its batches. */
  private tellJob(
    job: Job,
    slots: Iterable<Slot>,
    query: SearchQuery,
    options: WireScanOptions,
    claims?: SharedArrayBuffer,
  ): void {
    const start: ToWorker = {
      t: "job",
      job: job.id,
      query: { ...query.options },
      scan: options,
      ...(claims ? { claims } : {}),
    };
    for (const slot of slots) {
      if (!slot.worker) continue;
      slot.worker.postMessage(start);
      job.open.add(slot);
    }
  }

  /** A search is over: its workers forget it, and one that did not complete is cancelled there. */
  private endJob(job: Job, completed: boolean): void {
    if (!completed) Atomics.store(this.cancelled, job.id % CANCEL_SLOTS, job.id);
    job.batches.clear();
    this.jobs.delete(job.id);
    for (const slot of job.open) slot.worker?.postMessage({ t: "end", job: job.id } satisfies ToWorker);
    this.hold(-1);
  }

  /** The job's worker with the fewest batches waiting, whatever their number. */
  private leastBusy(job: Job): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of job.open) if (slot.worker && (!best || slot.inFlight < best.inFlight)) best = slot;
    return best;
  }

  /** Workers keep the process alive only while a search runs (an idle pool never does). */
  private hold(delta: number): void {
    const before = this.searches;
    this.searches += delta;
    if ((before === 0) === (this.searches === 0)) return;
    this.updateRefs();
    if (this.searches > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    setImmediate(() => {
      this.pumpFill();
      this.scheduleRetire();
    });
  }

  /** A worker keeps the process alive only while it has work (a search, or a fill batch). */
  private updateRefs(): void {
    for (const slot of this.slots) {
      if (this.searches > 0 || slot.filling) slot.worker?.ref();
      else slot.worker?.unref();
    }
  }

  /**
   * Sends fill batches to idle workers while no search runs (a search's batches would queue
   * behind them): one batch per worker at a time, so a search that starts waits for at most one.
   */
  private pumpFill(): void {
    if (this.searches > 0 || this.disposed) return;
    for (const slot of this.slots) {
      if (!slot.worker || slot.filling || slot.inFlight > 0) continue;
      const work = this.fillQueue[0];
      if (!work) return;
      const gate = work.target.after?.();
      if (gate) {
        if (!work.gated) {
          work.gated = true;
          void gate.then(() => {
            work.gated = false;
            this.pumpFill();
          });
        }
        return;
      }
      let files: string[] = [];
      while (files.length === 0 && work.next < work.batches.length && work.bytes < work.target.maxBytes)
        files = work.batches[work.next++]!.filter(work.target.wants);
      if (files.length === 0) {
        this.fillQueue.shift();
        if (work.inFlight === 0) this.fillDone(work);
        else work.next = work.batches.length;
        continue;
      }
      work.inFlight++;
      slot.filling = work;
      slot.worker.postMessage({
        t: "fill",
        seq: this.fillSeq++,
        files,
        maxFileBytes: work.target.maxFileBytes,
        summarize: work.target.summaries,
        sharedFrom: work.target.sharedFrom,
      } satisfies ToWorker);
      slot.worker.ref();
    }
  }

  /** A fill batch of `work` came back (or was lost with its worker). */
  private fillAnswered(work: FillWork, bytes: number): void {
    work.inFlight--;
    work.bytes += bytes;
    const finished = work.next >= work.batches.length || work.bytes >= work.target.maxBytes;
    if (finished && work.inFlight === 0) {
      const at = this.fillQueue.indexOf(work);
      if (at !== -1) this.fillQueue.splice(at, 1);
      this.fillDone(work);
    }
  }

  private fillDone(work: FillWork): void {
    work.target.done();
    this.scheduleRetire();
  }

  /** Puts a fill batch's files in the cache; returns its bytes. */
  private putFill(target: FillTarget, fill: WireFill): number {
    const { bytes, at, paths, summaries, shared } = fill;
    let total = bytes.byteLength;
    for (let i = 0; i < paths.length; i++) {
      const o = i * 4;
      const size = at[o + 1]!;
      const key = { size, ino: at[o + 2]!, mtimeMs: at[o + 3]! };
      const own = shared?.[i];
      if (own) total += own.byteLength;
      const data = own
        ? Buffer.from(own.buffer, own.byteOffset, own.byteLength)
        : Buffer.from(bytes, at[o]!, size);
      target.add(paths[i]!, data, key, summaries?.[i]);
    }
    return total;
  }
}
