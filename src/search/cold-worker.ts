/**
 * A worker thread of the cold search (see cold-search.ts). For each batch of files it is sent it
 * does what DiskSource does for one file on the main thread: opens the file confined (a verified
 * handle of its folder, O_NOFOLLOW: src/support/confined-fs.ts), takes its stat, reads it and
 * scans it with the call's query, compiled here from the same options, by the same functions
 * (`scanWithQuery`). It answers with the scans of the files that are not plain misses.
 *
 * A search reads every file into one reused buffer: nothing is allocated per file, and fresh
 * memory (a page fault per 4 KiB) is not touched while a caller waits. Filling the cache is a
 * separate, later job ("fill"): the files are read again, a batch into one ArrayBuffer, which is
 * transferred to the main thread (not copied) and becomes the cache's entries.
 */
import { closeSync, fstatSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { openConfinedSync, readFullySync } from "../support/confined-fs.js";
import { fileBuffer, isShared } from "../support/shared-bytes.js";
import { FileMemo } from "../cache/file-memo.js";
import { BINARY_ANYWHERE, clipLine, scanWithQuery, TRIGRAMS } from "./file-search.js";
import { compileQuery, type QueryOptions, type SearchQuery } from "./query.js";
import type { FileScan, ScanOptions } from "./scan-types.js";
import { summarize, type Summary } from "./warm-scan.js";

/** The parts of ScanOptions that cross to a worker (`clip` is grep_file's clipLine or none). */
export interface WireScanOptions {
  readonly stopAfter: number;
  readonly maxBytes: number;
  readonly contextLines: number;
  readonly invert: boolean;
  readonly clip: boolean;
}

/**
 * Files read for the cache, one after another in `bytes`: `at` holds four numbers per file
 * (offset, size, ino, mtimeMs), `paths` their paths. A large file is in shared memory instead
 * (`shared`, by its index; its offset is -1), so that warm searches can hand it to a worker.
 */
export interface WireFill {
  readonly bytes: ArrayBuffer;
  readonly at: Float64Array;
  readonly paths: string[];
  readonly shared?: Record<number, Uint8Array>;
  /** Each file's trigram summary (warm-scan.ts), when asked for. */
  readonly summaries?: Summary[];
}

export type ToWorker =
  | {
      readonly t: "job";
      readonly job: number;
      readonly query: QueryOptions;
      readonly scan: WireScanOptions;
      /**
       * For `shared` batches: an Int32 per batch number; a worker scans a batch only if it sets
       * that slot from 0 to 1 first (the main thread takes back a batch by setting it to 2).
       */
      readonly claims?: SharedArrayBuffer;
    }
  | { readonly t: "batch"; readonly job: number; readonly seq: number; readonly files: string[] }
  | { readonly t: "end"; readonly job: number }
  /** Read these files for the cache, those up to `maxFileBytes` (and summarise them). */
  | {
      readonly t: "fill";
      readonly seq: number;
      readonly files: string[];
      readonly maxFileBytes: number;
      readonly summarize: boolean;
      /** Files of this size or more go to shared memory (FileCache.sharedFromBytes). */
      readonly sharedFrom: number;
    }
  /** Scan these cached files (in shared memory: nothing is copied) for a job. */
  | { readonly t: "shared"; readonly job: number; readonly seq: number; readonly files: WireShared[] };

/** A cached file in shared memory with what the cache knows of it (file-search.ts SearchMemo). */
export interface WireShared {
  readonly data: Uint8Array;
  /** About how many 4 KiB blocks the scan will look through (warm-scan.ts candidateBlocks). */
  readonly blocks: number;
  readonly binary: boolean | undefined;
  readonly summary: Summary | undefined;
}

export type FromWorker =
  | { readonly t: "ready" }
  | {
      readonly t: "batch";
      readonly job: number;
      readonly seq: number;
      /** [index in the batch, scan] of each file that is not a plain miss. */
      readonly scans: [number, FileScan][];
      /** The batch was cancelled part way: `scans` is incomplete. */
      readonly cancelled: boolean;
      /** The main thread took the batch back before this worker began it: `scans` is empty. */
      readonly taken?: boolean;
    }
  | { readonly t: "failed"; readonly job: number; readonly seq: number; readonly error: string }
  | { readonly t: "filled"; readonly seq: number; readonly fill: WireFill };

export interface ColdWorkerData {
  /** Int32 slots: slot `job % length` holds `job` once the main thread cancelled that job. */
  readonly cancel: SharedArrayBuffer;
}

/**
 * The scratch buffer is dropped after a job when it grew past this size: a large file read once
 * must not stay in each idle worker's memory (it showed in the daemon's RSS).
 */
const SCRATCH_KEEP_BYTES = 1024 * 1024;

interface Job {
  readonly query: SearchQuery;
  readonly options: ScanOptions;
  readonly contextLines: number;
  readonly claims: Int32Array | undefined;
}

const port = parentPort;
const cancel = new Int32Array((workerData as ColdWorkerData).cancel);
const jobs = new Map<number, Job>();
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

function cancelled(job: number): boolean {
  return Atomics.load(cancel, job % cancel.length) === job;
}

/** An error with an errno code is what DiskSource reports as "unreadable"; anything else is a bug. */
function unreadable(err: unknown): FileScan {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === "string") return { kind: "unreadable", error: code };
  throw err;
}

/** What DiskSource.scan (through FileCache.read) answers for `abs`. */
function scanFile(abs: string, job: Job): FileScan {
  let fd: number;
  try {
    fd = openConfinedSync(abs);
  } catch (err) {
    return unreadable(err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: "unreadable", error: st.isDirectory() ? "EISDIR" : "EINVAL" };
    const size = st.size;
    if (size > job.options.maxBytes!) return { kind: "too_large", bytes: size };
    if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2));
    const filled = readFullySync(fd, scratch, size);
    return scanWithQuery(scratch.subarray(0, filled), job.query, job.options);
  } catch (err) {
    return unreadable(err);
  } finally {
    closeSync(fd);
  }
}

/**
 * Only the lines grep_file reads (each hit's and its context) cross back: a scan without a
 * literal plan holds every line of the file.
 */
function pruneLines(scan: FileScan, context: number): FileScan {
  if (scan.kind !== "match") return scan;
  const lines: string[] = [];
  for (const hit of scan.hits) {
    const end = Math.min(scan.lines.length, hit.index + context + 1);
    for (let i = Math.max(0, hit.index - context); i < end; i++)
      if (i in scan.lines) lines[i] = scan.lines[i]!;
  }
  lines.length = scan.lines.length;
  return { ...scan, lines };
}

/** The scan of a cached file in shared memory, as the main thread would scan it (`scanWithQuery` with its memo). */
function scanShared(file: WireShared, job: Job): FileScan {
  const data = Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength);
  const memo = new FileMemo();
  if (file.binary !== undefined) memo.set(BINARY_ANYWHERE, file.binary);
  if (file.summary) memo.set(TRIGRAMS, file.summary);
  return scanWithQuery(data, job.query, job.options, memo);
}

function runBatch<T>(
  jobId: number,
  seq: number,
  files: readonly T[],
  scanOne: (file: T, job: Job) => FileScan,
): void {
  const job = jobs.get(jobId);
  if (!job) {
    port!.postMessage({ t: "failed", job: jobId, seq, error: "unknown job" } satisfies FromWorker);
    return;
  }
  const scans: [number, FileScan][] = [];
  let stopped = false;
  try {
    for (let i = 0; i < files.length; i++) {
      if (cancelled(jobId)) {
        stopped = true;
        break;
      }
      const scan = scanOne(files[i]!, job);
      if (scan.kind !== "no_match") scans.push([i, pruneLines(scan, job.contextLines)]);
    }
  } catch (err) {
    port!.postMessage({
      t: "failed",
      job: jobId,
      seq,
      error: String((err as Error)?.stack ?? err),
    } satisfies FromWorker);
    return;
  }
  port!.postMessage({ t: "batch", job: jobId, seq, scans, cancelled: stopped } satisfies FromWorker);
}

/**
 * Reads `files` for the cache into one ArrayBuffer: each is opened confined and its stat taken
 * before it is read (the cache checks entries by it); a file that is gone, not a regular file,
 * too large or shorter than its stat said is left out.
 */
function fillBatch(
  seq: number,
  files: string[],
  maxFileBytes: number,
  summaries: boolean,
  sharedFrom: number,
): void {
  const open: { abs: string; fd: number; size: number; ino: number; mtimeMs: number }[] = [];
  let total = 0;
  try {
    for (const abs of files) {
      let fd: number;
      try {
        fd = openConfinedSync(abs);
      } catch {
        continue;
      }
      try {
        const st = fstatSync(fd);
        if (!st.isFile() || st.size > maxFileBytes) {
          closeSync(fd);
          continue;
        }
        open.push({ abs, fd, size: st.size, ino: st.ino, mtimeMs: st.mtimeMs });
        if (st.size < sharedFrom) total += st.size;
      } catch {
        closeSync(fd);
      }
    }
    const bytes = new ArrayBuffer(total);
    const at: number[] = [];
    const paths: string[] = [];
    const summed: Summary[] = [];
    const shared: Record<number, Uint8Array> = {};
    let offset = 0;
    for (const f of open) {
      const own = f.size >= sharedFrom;
      const data = own ? fileBuffer(f.size, sharedFrom) : Buffer.from(bytes, offset, f.size);
      try {
        if (readFullySync(f.fd, data, f.size) !== f.size) continue;
      } catch {
        continue;
      }
      if (own) shared[paths.length] = data;
      at.push(own ? -1 : offset, f.size, f.ino, f.mtimeMs);
      paths.push(f.abs);
      // The summaries a warm search needs, built here rather than on the main thread (a second
      // of its time for a large tree).
      if (summaries) summed.push(summarize(data));
      if (!own) offset += f.size;
    }
    const fill: WireFill = {
      bytes,
      at: Float64Array.from(at),
      paths,
      ...(summaries ? { summaries: summed } : {}),
      ...(Object.keys(shared).length > 0 ? { shared } : {}),
    };
    // Everything is transferred or shared, not copied: the worker keeps nothing of a fill.
    const moved: ArrayBuffer[] = [bytes, fill.at.buffer as ArrayBuffer];
    for (const s of summed) {
      for (const a of [s.bits, s.fileBits, s.lineMarks, s.unitMarks])
        if (a && !isShared(a) && !moved.includes(a.buffer as ArrayBuffer))
          moved.push(a.buffer as ArrayBuffer);
    }
    port!.postMessage({ t: "filled", seq, fill } satisfies FromWorker, moved);
  } finally {
    for (const f of open) closeSync(f.fd);
  }
}

port?.on("message", (m: ToWorker) => {
  if (m.t === "job") {
    const options: ScanOptions = {
      stopAfter: m.scan.stopAfter,
      maxBytes: m.scan.maxBytes,
      contextLines: m.scan.contextLines,
      ...(m.scan.invert ? { invert: true } : {}),
      ...(m.scan.clip ? { clip: clipLine } : {}),
    };
    // The main thread compiled the same options already: this cannot throw a PatternError.
    jobs.set(m.job, {
      query: compileQuery(m.query),
      options,
      contextLines: m.scan.contextLines,
      claims: m.claims ? new Int32Array(m.claims) : undefined,
    });
  } else if (m.t === "batch") {
    runBatch(m.job, m.seq, m.files, scanFile);
  } else if (m.t === "shared") {
    const claims = jobs.get(m.job)?.claims;
    if (claims && m.seq < claims.length && Atomics.compareExchange(claims, m.seq, 0, 1) !== 0) {
      port!.postMessage({
        t: "batch",
        job: m.job,
        seq: m.seq,
        scans: [],
        cancelled: false,
        taken: true,
      } satisfies FromWorker);
      return;
    }
    runBatch(m.job, m.seq, m.files, scanShared);
  } else if (m.t === "fill") {
    fillBatch(m.seq, m.files, m.maxFileBytes, m.summarize, m.sharedFrom);
  } else {
    jobs.delete(m.job);
    if (scratch.length > SCRATCH_KEEP_BYTES) scratch = Buffer.allocUnsafeSlow(64 * 1024);
  }
});
port?.postMessage({ t: "ready" } satisfies FromWorker);
