/**
 * Where the search tools get a tree from: one interface, two implementations.
 *
 * - `DiskSource` (here): walks the disk (walk.ts) and reads each file through the file cache,
 *   validated by fstat, filling the cache as it goes. It serves every call the index cannot:
 *   while the index is still being built (the first call never waits for it), with the index
 *   off, and for walks into folders the index does not hold (ignored ones).
 * - `IndexedSource` (src/index/indexed-source.ts): the watched tree in memory and the cached
 *   contents, trusted without a stat because the index has synced with its watcher.
 *
 * Both give the same entries in the same order and the same scans (test/warm/*, the property
 * tests of test/unit/search-prefilter.property.test.ts); only the speed differs.
 *
 * A search scans its files with `scanFiles`, which gives the scans out in order a chunk at a time.
 * The disk source hands a large walk whose files are mostly not cached to the cold search's
 * worker threads (cold-search.ts); everything else is scanned on the main thread, in slices.
 */
import { lstatSync } from "node:fs";
import type { BufferPool } from "../support/memory-pool.js";
import { FileTooLargeError, type FileCache, type SharedEntry } from "../cache/file-cache.js";
import type { ColdSearchPool, FillTarget, Scanned, WireScanOptions, WireShared } from "./cold-search.js";
import { BINARY_ANYWHERE, clipLine, MAX_SEARCH_FILE_BYTES, scanWithQuery, TRIGRAMS } from "./file-search.js";
import type { SearchQuery } from "./query.js";
import type { FileScan, ScanOptions } from "./scan-types.js";
import { walkSync, type WalkEntry, type WalkOptions } from "./walk.js";
import { candidateBlocks, fileMayMatch, summarize, summaryBytes } from "./warm-scan.js";

export interface TreeSource {
  readonly kind: "indexed" | "disk";
  /** The entries of a walk of `rootAbs` (walk.ts's rules and order). */
  entries(rootAbs: string, options: WalkOptions, signal?: AbortSignal): Iterable<WalkEntry>;
  /** One file scanned with the compiled query. */
  scan(abs: string, query: SearchQuery, options: ScanOptions): FileScan | Promise<FileScan>;
  /**
   * Every file of `files` scanned, given out in order a chunk at a time. A scan may hold more
   * matches than the caller still wants: `options.stopAfter` is a bound per file, the caller
   * cuts with `limitScan`.
   */
  scanFiles<F extends { readonly abs: string }>(
    files: Iterable<F>,
    query: SearchQuery,
    options: ScanOptions,
    signal?: AbortSignal,
  ): AsyncIterable<Scanned<F>[]>;
  /** The size of a listed file, or undefined when it is gone. */
  size(abs: string): number | undefined;
  /** After a search: lets the source prepare the next one (summaries of what was read). */
  searched(): void;
}

/** Longest the main thread scans before it gives other calls a turn. */
const SCAN_SLICE_MS = 8;

/**
 * `files` scanned one by one on this thread, in chunks of about SCAN_SLICE_MS, with a turn of
 * the event loop between chunks so other connections are served.
 */
export async function* scanInSlices<F>(
  files: Iterable<F>,
  scan: (file: F) => FileScan | Promise<FileScan>,
  signal?: AbortSignal,
): AsyncGenerator<Scanned<F>[]> {
  let chunk: Scanned<F>[] = [];
  let sliceStart = performance.now();
  let sinceCheck = 0;
  for (const file of files) {
    signal?.throwIfAborted();
    // The clock read every 8 files: a warm file costs about a microsecond, a clock read a fifth.
    if (++sinceCheck >= 8 && ((sinceCheck = 0), performance.now() - sliceStart > SCAN_SLICE_MS)) {
      if (chunk.length > 0) yield chunk;
      chunk = [];
      await new Promise((r) => setImmediate(r));
      sliceStart = performance.now();
    }
    // The index scans synchronously: no await (a microtask per file) unless the scan is async.
    const scanned = scan(file);
    chunk.push({ file, scan: scanned instanceof Promise ? await scanned : scanned });
  }
  if (chunk.length > 0) yield chunk;
}

/** The scan options a worker can apply, or undefined when they hold something it cannot (a clip of the caller's own). */
function wireOptions(options: ScanOptions): WireScanOptions | undefined {
  if (options.clip !== undefined && options.clip !== clipLine) return undefined;
  return {
    stopAfter: options.stopAfter ?? 0,
    maxBytes: options.maxBytes ?? MAX_SEARCH_FILE_BYTES,
    contextLines: options.contextLines ?? 0,
    invert: options.invert ?? false,
    clip: options.clip !== undefined,
  };
}

/** The first files of `it` and then the rest, as one iterator. */
function* chain<F>(head: F[], it: Iterator<F>): Generator<F> {
  yield* head;
  for (let n = it.next(); !n.done; n = it.next()) yield n.value;
}

/**
 * Where a cold search's files go after it: the cache, then their summaries; `after` is when
 * they may be read (see FillTarget).
 */
export function fillTarget(
  cache: FileCache,
  after?: () => Promise<void> | undefined,
): FillTarget | undefined {
  if (!cache.enabled) return undefined;
  const fill = cache.beginFill();
  return {
    ...(after ? { after } : {}),
    add: (abs, data, key, summary) =>
      fill.add(
        abs,
        data,
        key,
        summary ? { key: TRIGRAMS, value: summary, bytes: summaryBytes(summary) } : undefined,
      ),
    summaries: true,
    maxFileBytes: cache.maxCachedFileBytes,
    sharedFrom: cache.sharedFromBytes,
    maxBytes: cache.stats().maxBytes,
    wants: (abs) => !cache.has(abs),
    done: () => {
      fill.end();
      summarizeCached(cache);
    },
  };
}

/** How a source scans: one file on this thread, and the pool and cache it may use instead. */
export interface ScanVia<F> {
  readonly scanOne: (file: F) => FileScan | Promise<FileScan>;
  readonly cache: FileCache;
  readonly cold?: ColdSearchPool;
  readonly fillAfter?: () => Promise<void> | undefined;
  /** The source trusts the cache (the index has synced): large cached files may go to the workers. */
  readonly trusted?: boolean;
}

/**
 * About how many blocks `query` would look through in the cache's shared files (the whole cache:
 * a search of a folder may hold fewer), to skip the hand-over when a selective query leaves a
 * worker too little.
 */
function sharedWork(cache: FileCache, workOf: (entry: SharedEntry) => number, enough: number): number {
  let blocks = 0;
  for (const entry of cache.sharedEntries()) {
    blocks += workOf(entry);
    if (blocks >= enough) break;
  }
  return blocks;
}

/**
 * The blocks a scan of a cached file with `query` would look through (see candidateBlocks),
 * remembered for the call: the check of the whole cache and the plan of the walk both ask.
 */
function workOfFor(query: SearchQuery): (entry: SharedEntry) => number {
  const known = new Map<SharedEntry, number>();
  return (entry) => {
    let blocks = known.get(entry);
    if (blocks === undefined) {
      const summary = entry.memo.get(TRIGRAMS);
      // The file-wide filter first: a file the query cannot match costs a few bit tests.
      if (!summary || !query.plan) blocks = Math.ceil(entry.data.length / 4096);
      else blocks = fileMayMatch(summary, query.plan) ? candidateBlocks(summary, query.plan) : 0;
      known.set(entry, blocks);
    }
    return blocks;
  };
}

/**
 * A cached file in shared memory, as a worker scans it (`ColdSearchPool.scanShared`); undefined
 * when it is not in shared memory or its summary leaves little to scan (then it is scanned here).
 */
function sharedContent(
  cache: FileCache,
  abs: string,
  workOf: (entry: SharedEntry) => number,
  minBlocks: number,
): WireShared | undefined {
  const entry = cache.sharedTrusted(abs, (e) => workOf(e) >= minBlocks);
  if (!entry) return undefined;
  return {
    data: entry.data,
    blocks: workOf(entry),
    binary: entry.memo.get(BINARY_ANYWHERE),
    summary: entry.memo.get(TRIGRAMS),
  };
}

/**
 * `TreeSource.scanFiles` of both sources: a walk of at least `cold.minFiles` files most of which
 * the cache lacks goes to the cold search's workers; the rest is scanned here, in slices.
 */
export async function* scanFilesWith<F extends { readonly abs: string }>(
  files: Iterable<F>,
  query: SearchQuery,
  options: ScanOptions,
  signal: AbortSignal | undefined,
  via: ScanVia<F>,
): AsyncGenerator<Scanned<F>[]> {
  const wire = wireOptions(options);
  if (!via.cold?.available || !wire) {
    yield* scanInSlices(files, via.scanOne, signal);
    return;
  }
  // Look at the first files: a small walk, or one the cache mostly holds, stays here.
  const it = files[Symbol.iterator]();
  const head: F[] = [];
  const minFiles = via.cold.minFiles;
  let cached = 0;
  while (head.length < minFiles) {
    const next = it.next();
    if (next.done) break;
    head.push(next.value);
    if (via.cache.has(next.value.abs)) cached++;
  }
  // While an earlier search's files are still being read for the cache (in walk order), the
  // first files being cached says nothing of the rest: go to the workers, which leave the cached
  // batches to this thread.
  const mostlyCached = cached * 2 >= head.length && !via.cold.filling;
  if (minFiles > 0 && (head.length < minFiles || mostlyCached)) {
    // A large warm search: the large files (in shared memory) are scanned on the workers while
    // this thread scans the rest.
    const cold = via.cold;
    const workOf = workOfFor(query);
    if (
      via.trusted &&
      head.length >= minFiles &&
      via.cache.sharedBytes >= cold.shareFromBytes &&
      // A plain literal is found at memchr speed: a worker would save less than the hand-over.
      !query.exact &&
      sharedWork(via.cache, workOf, cold.shareFromBlocks) >= cold.shareFromBlocks &&
      cold.shareReady()
    ) {
      const cache = via.cache;
      yield* cold.scanShared(
        chain(head, it),
        query,
        wire,
        via.scanOne,
        (f) => sharedContent(cache, f.abs, workOf, cold.shareMinBlocks),
        () => cache.countSharedHit(),
        signal,
      );
      return;
    }
    yield* scanInSlices(chain(head, it), via.scanOne, signal);
    return;
  }
  const cache = via.cache;
  yield* via.cold.scan(
    chain(head, it),
    query,
    wire,
    via.scanOne,
    fillTarget(cache, via.fillAfter),
    signal,
    (file) => cache.has(file.abs),
  );
}

/** Builds the trigram summaries of what a search left in the cache, in the background. */
export function summarizeCached(cache: FileCache): void {
  cache.scheduleMemo(TRIGRAMS, (data) => {
    const summary = summarize(data);
    return { value: summary, bytes: summaryBytes(summary) };
  });
}

export class DiskSource implements TreeSource {
  readonly kind = "disk";

  constructor(
    private readonly root: string,
    private readonly cache: FileCache,
    private readonly pool: BufferPool,
    /** The cold search's worker threads, when the daemon runs them. */
    private readonly cold?: ColdSearchPool,
    /** What filling the cache after a cold search waits for (the index's first scan). */
    private readonly fillAfter?: () => Promise<void> | undefined,
  ) {}

  entries(rootAbs: string, options: WalkOptions, signal?: AbortSignal): Iterable<WalkEntry> {
    return walkSync(rootAbs, { ...options, base: this.root }, signal);
  }

  scanFiles<F extends { readonly abs: string }>(
    files: Iterable<F>,
    query: SearchQuery,
    options: ScanOptions,
    signal?: AbortSignal,
  ): AsyncGenerator<Scanned<F>[]> {
    return scanFilesWith(files, query, options, signal, {
      scanOne: (file) => this.scan(file.abs, query, options),
      cache: this.cache,
      ...(this.cold ? { cold: this.cold } : {}),
      ...(this.fillAfter ? { fillAfter: this.fillAfter } : {}),
    });
  }

  async scan(abs: string, query: SearchQuery, options: ScanOptions): Promise<FileScan> {
    const maxBytes = options.maxBytes ?? MAX_SEARCH_FILE_BYTES;
    try {
      return await this.cache.read(abs, (data, _key, memo) => scanWithQuery(data, query, options, memo), {
        maxBytes,
        pool: this.pool,
      });
    } catch (err) {
      if (err instanceof FileTooLargeError) return { kind: "too_large", bytes: err.size };
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === "string") return { kind: "unreadable", error: code };
      throw err;
    }
  }

  size(abs: string): number | undefined {
    return lstatSync(abs, { throwIfNoEntry: false })?.size;
  }

  searched(): void {
    summarizeCached(this.cache);
  }
}
