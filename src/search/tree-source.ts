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
 */
import { lstatSync } from "node:fs";
import type { BufferPool } from "../support/memory-pool.js";
import { FileTooLargeError, type FileCache } from "../cache/file-cache.js";
import { scanContent, MAX_SEARCH_FILE_BYTES, TRIGRAM_MEMO } from "./file-search.js";
import type { SearchQuery } from "./query.js";
import type { FileScan, ScanOptions } from "./scan-types.js";
import { walkSync, type WalkEntry, type WalkOptions } from "./walk.js";
import { fileMayMatch, scanByLiteral, summarize, summaryBytes, type Summary } from "./warm-scan.js";

export interface TreeSource {
  readonly kind: "indexed" | "disk";
  /** The entries of a walk of `rootAbs` (walk.ts's rules and order). */
  entries(rootAbs: string, options: WalkOptions, signal?: AbortSignal): Iterable<WalkEntry>;
  /** One file scanned with the compiled query. */
  scan(abs: string, query: SearchQuery, options: ScanOptions): FileScan | Promise<FileScan>;
  /** The size of a listed file, or undefined when it is gone. */
  size(abs: string): number | undefined;
  /** After a search: lets the source prepare the next one (summaries of what was read). */
  searched(): void;
}

/** Per-file facts kept with a cached file. */
interface SearchMemo {
  binary?: boolean;
  trigrams?: Summary;
}

/** A query's scan of one file's bytes: the literal plan's fast path when there is one. */
export function scanWithQuery(
  content: Buffer,
  query: SearchQuery,
  options: ScanOptions,
  memo?: Record<string, unknown>,
): FileScan {
  const maxBytes = options.maxBytes ?? MAX_SEARCH_FILE_BYTES;
  if (content.length > maxBytes) return { kind: "too_large", bytes: content.length };
  const m = memo as SearchMemo | undefined;
  const binary = m?.binary ?? content.includes(0);
  if (m) m.binary = binary;
  if (binary) return { kind: "binary", bytes: content.length };
  if (options.invert) return scanContent(content, query.lineMatcher, options);
  if (query.plan) {
    // Without a summary yet (a first search), one pass of the plan's needle test (Buffer.indexOf
    // or a literal RE2) rejects most files before any probe or window scan.
    if (m?.trigrams ? !fileMayMatch(m.trigrams, query.plan) : !query.plan.test(content))
      return { kind: "no_match", bytes: content.length };
    return scanByLiteral(content, query.plan, query.matcher, { ...options, exact: query.exact }, m?.trigrams);
  }
  return scanContent(content, query.matcher, options);
}

/** Builds the trigram summaries of what a search left in the cache, in the background. */
export function summarizeCached(cache: FileCache): void {
  cache.scheduleMemo(TRIGRAM_MEMO, (data) => {
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
  ) {}

  entries(rootAbs: string, options: WalkOptions, signal?: AbortSignal): Iterable<WalkEntry> {
    return walkSync(rootAbs, { ...options, base: this.root }, signal);
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
