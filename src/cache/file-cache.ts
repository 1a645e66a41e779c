/**
 * The file content cache: whole-file Buffers shared by every tool, bounded in bytes (lru-cache
 * `maxSize`, `[cache] max_bytes`). It never serves stale content:
 *
 * - `read` (read_file, one file) validates every hit with one `stat` (ino + size + mtimeMs): a
 *   file changed before the call started is seen by the call, whoever changed it.
 * - `readTrusted` (grep over the whole tree) skips that stat. It is only used after the workspace
 *   index has synced with its watcher, whose events `invalidate` every path that changed, so a
 *   cached entry that is still present has not changed since it was read (see
 *   src/index/workspace-index.ts). A per-file stat would cost ~5 µs × every file per search.
 *
 * Reads that cannot be cached (cache off, file larger than the per-file bound) go through the
 * memory pool, so the hot paths allocate nothing per call in steady state.
 */
import { closeSync, fstatSync, statSync } from "node:fs";
import { LRUCache } from "lru-cache";
import { openConfinedForRead, openConfinedSync, readFullySync } from "../support/confined-fs.js";
import { fileBuffer, isShared, SHARED_FROM_BYTES } from "../support/shared-bytes.js";
import type { BufferPool } from "../support/memory-pool.js";
import { FileMemo, type BuiltMemo, type MemoKey } from "./file-memo.js";
import type { FileCacheStats } from "../protocol/methods.js";

/** What identifies one version of a file. */
export interface FileKey {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

interface Entry {
  readonly data: Buffer;
  readonly key: FileKey;
  /** Facts callers derived from `data` (file-memo.ts), kept as long as the entry. */
  readonly memo: FileMemo;
  /** Bytes of memos built by `scheduleMemo`; counted against max_bytes with the data. */
  memoBytes?: number;
}

/**
 * A batch of files read elsewhere (the cold search's worker threads) on their way into the cache.
 * See `FileCache.beginFill`.
 */
export interface CacheFill {
  /**
   * Caches `data` as the content of `abs` at `key` (its stat, taken before the read), unless
   * `abs` was invalidated since the fill began, is cached already, or is too large to cache;
   * with `memo`, one memo built already (counted against max_bytes as `scheduleMemo`'s are).
   */
  add<T>(abs: string, data: Buffer, key: FileKey, memo?: BuiltMemo<T>): void;
  /** No more adds; forgets what was invalidated meanwhile. */
  end(): void;
}

/** What a pending fill must not insert: the paths and folders invalidated since it began. */
interface FillGuard {
  readonly paths: Set<string>;
  readonly prefixes: string[];
  /** The cache was cleared or resized: nothing read before that goes in. */
  dead: boolean;
}

/** Builds one memo for a file's bytes and says how much memory it holds. */
export type MemoBuilder<T> = (data: Buffer) => { value: T; bytes: number };

/** Longest synchronous slice of background memo building. */
const MEMO_SLICE_MS = 6;

/** The `fileCache` section of `daemon/stats`, declared once in the protocol. */
export type { FileCacheStats };

export interface FileCacheOptions {
  maxBytes: number;
  /** Default: a quarter of maxBytes, at most 16 MiB. */
  maxFileBytes?: number;
  /** Files of this size or more are kept in shared memory (support/shared-bytes.ts); tests lower it. */
  sharedFromBytes?: number;
}

/** A cached file in shared memory, for a worker thread to scan (see `sharedTrusted`). */
export interface SharedEntry {
  readonly data: Buffer;
  readonly memo: FileMemo;
}

/** Thrown when a file is over the caller's size limit; carries the size for the message. */
export class FileTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`file is ${size} bytes, over the limit of ${limit}`);
    this.name = "FileTooLargeError";
  }
}

export interface ReadOptions {
  /** Refuse (FileTooLargeError) files larger than this. */
  maxBytes?: number;
  /** Used for reads that are not kept in the cache. */
  pool?: BufferPool;
  signal?: AbortSignal;
}

function sameKey(a: FileKey, b: FileKey): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

function keyOf(st: { ino: number; size: number; mtimeMs: number }): FileKey {
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
}

const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
/**
 * Files up to this size are read synchronously on a miss: from the page cache 8 MiB take a few
 * milliseconds, less than the thread-pool round trips of an asynchronous read, during which the
 * loop idles (a first search spent a sixth of its time idle waiting on large reads).
 */
const SYNC_READ_MAX_BYTES = 8 * 1024 * 1024;

export class FileCache {
  private lru: LRUCache<string, Entry> | undefined;
  private maxBytes: number;
  private maxFileBytes: number;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;
  private memoBytes = 0;
  /** The cached entries whose data is in shared memory (a few large files), by path. */
  private readonly shared = new Map<string, Entry>();
  private sharedDataBytes = 0;
  /** See FileCacheOptions.sharedFromBytes. */
  readonly sharedFromBytes: number;
  private readonly memoJobs = new Map<MemoKey<unknown>, MemoBuilder<unknown>>();
  /** Cached files that may lack a memo of a job (added when cached). */
  private readonly memoPending = new Set<string>();
  private memoRunning = false;
  /** Fills in progress (`beginFill`): every invalidation is recorded in each. */
  private readonly fills = new Set<FillGuard>();

  constructor(options: FileCacheOptions) {
    this.maxBytes = options.maxBytes;
    this.maxFileBytes =
      options.maxFileBytes ?? Math.min(DEFAULT_MAX_FILE_BYTES, Math.floor(options.maxBytes / 4));
    this.sharedFromBytes = options.sharedFromBytes ?? SHARED_FROM_BYTES;
    this.lru = this.newLru(options.maxBytes);
  }

  private newLru(maxBytes: number): LRUCache<string, Entry> | undefined {
    if (maxBytes <= 0) return undefined;
    return new LRUCache<string, Entry>({
      maxSize: maxBytes,
      // +64: an empty file still costs its entry; keeps `bytes` honest for many tiny files.
      sizeCalculation: (entry) => entry.data.length + 64,
      dispose: (value, key, reason) => {
        if (reason === "evict") this.evictions++;
        if (reason !== "set") this.memoPending.delete(key);
        this.memoBytes -= value.memoBytes ?? 0;
        if (this.shared.get(key) === value) {
          this.shared.delete(key);
          this.sharedDataBytes -= value.data.length;
        }
      },
    });
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** Largest file the cache keeps (0 when it is off). */
  get maxCachedFileBytes(): number {
    return this.lru ? this.maxFileBytes : 0;
  }

  /** Whether `abs` is cached (fresh or not), without touching its recency. */
  has(abs: string): boolean {
    return this.lru?.has(abs) ?? false;
  }

  /** Applies `[cache] max_bytes` at run time; shrinking evicts the least recently used at once. */
  configure(maxBytes: number): void {
    if (maxBytes === this.maxBytes) return;
    for (const fill of this.fills) fill.dead = true;
    const old = this.lru;
    this.maxBytes = maxBytes;
    this.maxFileBytes = Math.min(DEFAULT_MAX_FILE_BYTES, Math.floor(maxBytes / 4));
    this.lru = this.newLru(maxBytes);
    if (old && this.lru) {
      // Oldest first, so the most recently used survive a shrink.
      for (const [k, v] of [...old.rentries()] as [string, Entry][]) {
        if (v.data.length <= this.maxFileBytes) this.lru.set(k, v);
      }
    }
    old?.clear();
    // Disposing the old map dropped every shared entry; note again those that moved over.
    this.shared.clear();
    this.sharedDataBytes = 0;
    for (const [k, v] of this.lru?.entries() ?? []) this.noteShared(k, v);
    for (const k of this.lru?.keys() ?? []) this.memoPending.add(k);
    // Disposing the old map subtracted every memo; count again what moved over.
    this.memoBytes = 0;
    for (const entry of this.lru?.values() ?? []) this.memoBytes += entry.memoBytes ?? 0;
    if (this.lru)
      while (this.lru.size > 0 && this.lru.calculatedSize + this.memoBytes > this.maxBytes) this.lru.pop();
  }

  /** Drops a path (a file that changed or went away). Cheap when it is not cached. */
  invalidate(abs: string): void {
    for (const fill of this.fills) fill.paths.add(abs);
    if (this.lru?.delete(abs)) this.invalidations++;
  }

  /** Drops every path below a folder (the folder was removed or renamed). */
  invalidateUnder(absDir: string): void {
    const prefix = absDir.endsWith("/") ? absDir : `${absDir}/`;
    for (const fill of this.fills) fill.prefixes.push(prefix);
    if (!this.lru) return;
    for (const k of [...this.lru.keys()]) {
      if (k.startsWith(prefix)) this.invalidate(k);
    }
  }

  clear(): void {
    for (const fill of this.fills) fill.dead = true;
    this.lru?.clear();
    this.memoJobs.clear();
    this.memoPending.clear();
  }

  /**
   * Starts taking in files read outside the cache. The reader took each file's stat before
   * reading it, but the bytes arrive later: a change seen meanwhile (the index's watcher calls
   * `invalidate`) must keep the old bytes out, or a trusted read (`readTrusted`) would serve
   * them. So every invalidation from now on is recorded, and `add` skips what it names.
   */
  beginFill(): CacheFill {
    const guard: FillGuard = { paths: new Set(), prefixes: [], dead: false };
    this.fills.add(guard);
    return {
      add: (abs, data, key, memo) => {
        const lru = this.lru;
        if (!lru || guard.dead || data.length !== key.size || !this.cacheable(key.size)) return;
        if (guard.paths.has(abs) || lru.has(abs)) return;
        for (const prefix of guard.prefixes) if (abs.startsWith(prefix)) return;
        if (!memo) {
          this.put(abs, { data, key, memo: new FileMemo() });
          return;
        }
        this.memoBytes += memo.bytes;
        const facts = new FileMemo();
        facts.set(memo.key, memo.value);
        this.put(abs, { data, key, memo: facts, memoBytes: memo.bytes });
      },
      end: () => void this.fills.delete(guard),
    };
  }

  /**
   * Builds the memo under `key` for every cached file that lacks it, in the background: slices of a few
   * milliseconds between turns of the event loop, so calls keep answering. Memos count against
   * max_bytes: least recently used files are evicted to make room. Idempotent while running.
   */
  scheduleMemo<T>(key: MemoKey<T>, build: MemoBuilder<T>): void {
    if (!this.lru) return;
    this.memoJobs.set(key as MemoKey<unknown>, build);
    if (this.memoRunning || this.memoPending.size === 0) return;
    this.memoRunning = true;
    // Only the files cached since the last pass (`memoPending`): a search that found every memo
    // built costs nothing here (a pass over every key once cost ~100 ms per search).
    const slice = () => {
      const lru = this.lru;
      if (!lru || this.memoJobs.size === 0) {
        this.memoRunning = false;
        return;
      }
      const started = performance.now();
      for (const key of this.memoPending) {
        if (performance.now() - started >= MEMO_SLICE_MS) break;
        this.memoPending.delete(key);
        const entry = lru.peek(key);
        if (!entry) continue;
        for (const [memoKey, builder] of this.memoJobs) {
          if (entry.memo.get(memoKey) !== undefined) continue;
          const { value, bytes } = builder(entry.data);
          entry.memo.set(memoKey, value);
          entry.memoBytes = (entry.memoBytes ?? 0) + bytes;
          this.memoBytes += bytes;
        }
        while (lru.size > 0 && lru.calculatedSize + this.memoBytes > this.maxBytes) lru.pop();
      }
      if (this.memoPending.size === 0) {
        this.memoRunning = false;
        return;
      }
      setImmediate(slice);
    };
    setImmediate(slice);
  }

  /**
   * Runs `fn` on the current content of `abs`, validated by stat. The buffer is only valid during
   * `fn` (it may be a pooled buffer that is reused afterwards): copy what you keep.
   */
  async read<T>(
    abs: string,
    fn: (data: Buffer, key: FileKey, memo?: FileMemo) => T | Promise<T>,
    opts: ReadOptions = {},
  ): Promise<T> {
    const cached = this.lru?.get(abs);
    if (cached) {
      // statSync: ~5 µs in the loop, against a thread-pool round trip for the async one.
      const st = statSync(abs);
      if (sameKey(cached.key, st)) {
        this.hits++;
        this.checkSize(st.size, opts.maxBytes);
        return fn(cached.data, cached.key, cached.memo);
      }
      this.invalidate(abs);
    }
    this.misses++;
    // Small files (most source files) are read synchronously: one open, fstat, read and close in
    // this turn costs less than four thread-pool round trips. Large ones go asynchronously.
    // `abs` is a checked real path: opened through a verified handle of its folder, non-blocking
    // and never following a link swapped in since (src/support/confined-fs.ts).
    const fd = openConfinedSync(abs);
    let open_ = true;
    const close = () => {
      if (open_) closeSync(fd);
      open_ = false;
    };
    let data: Buffer;
    let key: FileKey;
    let pooled: Buffer | undefined;
    let memo: FileMemo | undefined;
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) {
        const err = new Error(`${abs} is not a regular file`) as NodeJS.ErrnoException;
        err.code = st.isDirectory() ? "EISDIR" : "EINVAL";
        throw err;
      }
      this.checkSize(st.size, opts.maxBytes);
      opts.signal?.throwIfAborted();
      if (st.size > SYNC_READ_MAX_BYTES) {
        close();
        return await this.readLarge(abs, fn, opts);
      }
      key = keyOf(st);
      if (this.cacheable(st.size)) {
        const buf = fileBuffer(st.size, this.sharedFromBytes);
        const filled = readFullySync(fd, buf, st.size);
        data = filled === st.size ? buf : buf.subarray(0, filled);
        if (filled === st.size) {
          memo = new FileMemo();
          this.put(abs, { data, key, memo });
        }
      } else {
        pooled = opts.pool
          ? opts.pool.acquire(Math.max(st.size, 1))
          : Buffer.allocUnsafe(Math.max(st.size, 1));
        data = pooled.subarray(0, readFullySync(fd, pooled, st.size));
      }
    } catch (err) {
      if (pooled && opts.pool) opts.pool.release(pooled);
      throw err;
    } finally {
      close();
    }
    try {
      return await fn(data, key, memo);
    } finally {
      if (pooled && opts.pool) opts.pool.release(pooled);
    }
  }

  private async readLarge<T>(
    abs: string,
    fn: (data: Buffer, key: FileKey) => T | Promise<T>,
    opts: ReadOptions,
  ): Promise<T> {
    const handle = await openConfinedForRead(abs);
    try {
      const st = await handle.stat();
      this.checkSize(st.size, opts.maxBytes);
      opts.signal?.throwIfAborted();
      const key = keyOf(st);
      if (this.cacheable(st.size)) {
        const data = fileBuffer(st.size, this.sharedFromBytes);
        const filled = await readFully(handle, data, st.size);
        const exact = filled === st.size ? data : data.subarray(0, filled);
        if (filled === st.size) this.put(abs, { data: exact, key, memo: new FileMemo() });
        return await fn(exact, key);
      }
      const pool = opts.pool;
      const buf = pool ? pool.acquire(Math.max(st.size, 1)) : Buffer.allocUnsafe(Math.max(st.size, 1));
      try {
        const filled = await readFully(handle, buf, st.size);
        return await fn(buf.subarray(0, filled), key);
      } finally {
        if (pool) pool.release(buf);
      }
    } finally {
      await handle.close();
    }
  }

  /**
   * The content of `abs` without validating a cached entry by stat: only for callers that have
   * synced with the watcher (see the module comment). Synchronous, so that the searcher reads a
   * batch of files in one turn of the event loop and no watcher event can slip in between the
   * read and the `set`. Returns undefined for a file that is gone or is not a regular file.
   */
  readTrusted<T>(
    abs: string,
    fn: (data: Buffer, memo: FileMemo | undefined) => T,
    pool?: BufferPool,
  ): T | undefined {
    // `peek`: a search over the tree reads every file; moving each to the front of the recency
    // list cost ~0.5 µs a file (a tenth of a warm search) and says nothing about which files
    // matter. Reads by read_file (`read`) still count.
    const cached = this.lru?.peek(abs);
    if (cached) {
      this.hits++;
      return fn(cached.data, cached.memo);
    }
    this.misses++;
    let fd: number;
    try {
      fd = openConfinedSync(abs); // never through a link swapped in; a FIFO does not block
    } catch {
      return undefined;
    }
    try {
      const st = fstatSync(fd);
      if (!st.isFile()) return undefined;
      if (this.cacheable(st.size)) {
        const data = fileBuffer(st.size, this.sharedFromBytes);
        const filled = readFullySync(fd, data, st.size);
        const exact = filled === st.size ? data : data.subarray(0, filled);
        const memo = new FileMemo();
        if (filled === st.size) this.put(abs, { data: exact, key: keyOf(st), memo });
        return fn(exact, memo);
      }
      const buf = pool ? pool.acquire(Math.max(st.size, 1)) : Buffer.allocUnsafe(Math.max(st.size, 1));
      try {
        return fn(buf.subarray(0, readFullySync(fd, buf, st.size)), undefined);
      } finally {
        if (pool) pool.release(buf);
      }
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The size of a cached file without touching the disk or its recency: only for callers that
   * have synced with the watcher, as `readTrusted`.
   */
  trustedSize(abs: string): number | undefined {
    return this.lru?.peek(abs)?.key.size;
  }

  /** True when `abs` is cached and its key still matches the file on disk (for tests and stats). */
  isFresh(abs: string): boolean {
    const cached = this.lru?.peek(abs);
    if (!cached) return false;
    try {
      return sameKey(cached.key, statSync(abs));
    } catch {
      return false;
    }
  }

  /**
   * The cached content of `abs` when it is in shared memory (a large file) and `wanted` takes it,
   * for a worker thread to scan; undefined otherwise. Counts no hit: a file a worker scans is
   * counted with `countSharedHit` once it has, and one that ends up scanned here after all goes
   * through `readTrusted`, which counts it (once, not twice). Trusted as `readTrusted` is: only
   * for callers that have synced with the watcher. Touches neither the disk nor recency.
   */
  sharedTrusted(abs: string, wanted: (entry: SharedEntry) => boolean = () => true): SharedEntry | undefined {
    const entry = this.shared.get(abs);
    return entry && wanted(entry) ? entry : undefined;
  }

  /** A hit on an entry from `sharedTrusted` that a worker thread scanned where it lies. */
  countSharedHit(): void {
    this.hits++;
  }

  /** The cached entries in shared memory (trusted as `sharedTrusted`). */
  sharedEntries(): IterableIterator<SharedEntry> {
    return this.shared.values();
  }

  /** Bytes of cached content in shared memory. */
  get sharedBytes(): number {
    return this.sharedDataBytes;
  }

  private noteShared(abs: string, entry: Entry): void {
    if (!isShared(entry.data)) return;
    this.shared.set(abs, entry);
    this.sharedDataBytes += entry.data.length;
  }

  /** Adds an entry, then evicts until data and memos together fit in max_bytes. */
  private put(abs: string, entry: Entry): void {
    const lru = this.lru;
    if (!lru) return;
    lru.set(abs, entry);
    if (lru.peek(abs) === entry) this.noteShared(abs, entry);
    this.memoPending.add(abs);
    while (lru.size > 1 && lru.calculatedSize + this.memoBytes > this.maxBytes) lru.pop();
  }

  private cacheable(size: number): boolean {
    return this.lru !== undefined && size <= this.maxFileBytes;
  }

  private checkSize(size: number, limit: number | undefined): void {
    if (limit !== undefined && size > limit) throw new FileTooLargeError(size, limit);
  }

  stats(): FileCacheStats {
    return {
      enabled: this.enabled,
      entries: this.lru?.size ?? 0,
      bytes: (this.lru?.calculatedSize ?? 0) + this.memoBytes,
      memoBytes: this.memoBytes,
      summarizing: this.memoRunning,
      maxBytes: this.maxBytes,
      maxFileBytes: this.maxFileBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
    };
  }
}

async function readFully(
  handle: import("node:fs/promises").FileHandle,
  buf: Buffer,
  size: number,
): Promise<number> {
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}
