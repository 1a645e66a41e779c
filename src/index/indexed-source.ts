/**
 * The indexed TreeSource (see src/search/tree-source.ts) and the choice between it and the disk,
 * made once per call by `SearchTrees.open`.
 */
import { lstatSync } from "node:fs";
import type { BufferPool } from "../support/memory-pool.js";
import type { FileCache } from "../cache/file-cache.js";
import { DiskSource, scanFilesWith, summarizeCached, type TreeSource } from "../search/tree-source.js";
import type { ColdSearchPool } from "../search/cold-search.js";
import { scanWithQuery } from "../search/file-search.js";
import type { SearchQuery } from "../search/query.js";
import type { FileScan, ScanOptions } from "../search/scan-types.js";
import type { WalkEntry, WalkOptions } from "../search/walk.js";
import type { WorkspaceIndex } from "./workspace-index.js";

/** The warm tree: valid only after `index.sync()` said yes, for the call that synced. */
class IndexedSource implements TreeSource {
  readonly kind = "indexed";

  constructor(
    private readonly index: WorkspaceIndex,
    private readonly cache: FileCache,
    private readonly pool: BufferPool,
    private readonly walked: readonly WalkEntry[],
    private readonly cold: ColdSearchPool | undefined,
  ) {}

  entries(): Iterable<WalkEntry> {
    return this.walked;
  }

  /** Synchronous: a batch of files is read in one turn, so no watcher event slips in between. */
  scan(abs: string, query: SearchQuery, options: ScanOptions): FileScan {
    const scan = this.cache.readTrusted(
      abs,
      (data, memo) => scanWithQuery(data, query, options, memo),
      this.pool,
    );
    return scan ?? { kind: "unreadable", error: "ENOENT" };
  }

  /** The cache may lack most files (the index was built before a first search read them): then the workers read. */
  scanFiles<F extends { readonly abs: string }>(
    files: Iterable<F>,
    query: SearchQuery,
    options: ScanOptions,
    signal?: AbortSignal,
  ) {
    return scanFilesWith(files, query, options, signal, {
      scanOne: (file) => this.scan(file.abs, query, options),
      cache: this.cache,
      trusted: true,
      ...(this.cold ? { cold: this.cold } : {}),
    });
  }

  size(abs: string): number | undefined {
    return this.cache.trustedSize(abs) ?? lstatSync(abs, { throwIfNoEntry: false })?.size;
  }

  searched(): void {
    summarizeCached(this.cache);
  }
}

/** A source chosen for one call, with the entries of the walk it was chosen for. */
export interface OpenTree {
  readonly source: TreeSource;
  readonly entries: Iterable<WalkEntry>;
}

export interface SearchTreesDeps {
  /** The workspace root (the base of every walk's ignore files). */
  readonly root: string;
  readonly files: FileCache;
  readonly pool: BufferPool;
  /** The watched index, when `[cache] watch` is on (read at each call: a reload may swap it). */
  readonly index?: () => WorkspaceIndex | undefined;
  /** The cold search's worker threads (the daemon's; absent in tests that do not start them). */
  readonly cold?: ColdSearchPool;
}

/** Picks the tree a call searches: the index when it is built, synced and covers the walk, else the disk. */
export class SearchTrees {
  private readonly disk: DiskSource;

  constructor(private readonly deps: SearchTreesDeps) {
    // The cache is filled after a cold search only once the index has built (every folder
    // watched), so no file is cached from a read that a change before its watch made stale.
    this.disk = new DiskSource(deps.root, deps.files, deps.pool, deps.cold, () => {
      const index = deps.index?.();
      return index && !index.built ? index.start() : undefined;
    });
  }

  /** The cold search pool the disk source uses, if any. */
  get cold(): ColdSearchPool | undefined {
    return this.deps.cold;
  }

  async open(rootAbs: string, options: WalkOptions, signal?: AbortSignal): Promise<OpenTree> {
    const index = this.deps.index?.();
    // The first call never waits for the index: while it is being built, the disk answers (and
    // fills the cache the index will serve from).
    if (index && (index.built || (void index.start(), false)) && (await index.sync(signal))) {
      const walked = index.entries(rootAbs, options, signal);
      if (walked)
        return {
          source: new IndexedSource(index, this.deps.files, this.deps.pool, walked, this.deps.cold),
          entries: walked,
        };
    }
    return { source: this.disk, entries: this.disk.entries(rootAbs, options, signal) };
  }
}
