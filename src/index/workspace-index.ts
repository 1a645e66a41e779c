/**
 * The warm workspace index: every folder and entry of the workspace (except `.git`) in memory,
 * with each folder's ignore files parsed, kept current by one inotify watch per folder
 * (`fs.watch`, non-recursive). list_files and grep_file walk this tree instead of the disk; the
 * walk applies the same rules, in the same order, as src/search/walk.ts (it reuses its ignore
 * stack, globs and sort order), so the answers are the same, only faster.
 *
 * Why `fs.watch` per folder and not @parcel/watcher: parcel batches events on a timer before
 * delivering them, while libuv hands inotify events to the loop as soon as they are read, so
 * `sync()` (below) costs one cookie round trip instead of a debounce interval; and it adds no
 * native dependency.
 *
 * Freshness: `sync()` creates a cookie file in a watched folder and waits for its event. inotify
 * delivers one queue in order, so when the cookie arrives every change made before `sync()` was
 * called has been delivered, applied to the tree, and invalidated in the file cache. This is how
 * a change made by any program before a call starts is seen by that call, without a stat per
 * file (watchman uses the same trick). When a watch cannot be set up (inotify limits) or the
 * cookie cannot be written, the index reports itself unhealthy and callers fall back to the disk.
 *
 * Known limit: if the kernel's inotify queue overflows (fs.inotify.max_queued_events, 16384 by
 * default, between two reads of the loop) libuv drops the overflow marker, so lost events cannot
 * be detected here; a burst of 10,000 changes stays well within it (test/warm/daemon-warm.test.ts).
 * read_file is not exposed to this: it validates every cached file by stat.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  unlinkSync,
  watch,
  type Dirent,
  type FSWatcher,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "pino";
import type { FileCache } from "../cache/file-cache.js";
import type { IndexStats } from "../protocol/methods.js";
import { EntryFilter } from "../search/entry-filter.js";
import {
  IGNORE_FILE_NAMES,
  IgnoreStack,
  loadIgnoreLevelSync,
  type IgnoreLevel,
} from "../search/ignore-rules.js";
import { compareByteOrder, type EntryType, type WalkEntry, type WalkOptions } from "../search/walk.js";

interface Child {
  readonly name: string;
  readonly type: EntryType;
  /** Folders sort as "name/", as in walk.ts. */
  readonly key: string;
}

interface DirNode {
  readonly rel: string;
  readonly children: Map<string, EntryType>;
  sorted: Child[] | undefined;
  level: IgnoreLevel | undefined;
  watcher: FSWatcher | undefined;
}

export interface WorkspaceIndexOptions {
  root: string;
  cache?: FileCache;
  log?: Logger;
  /** How long `sync()` waits for its cookie before declaring the watcher unhealthy. */
  syncTimeoutMs?: number;
  /** An unhealthy index rebuilds itself at most this often (ms). Default 30 s. */
  recoverEveryMs?: number;
  /**
   * A private folder (0700, outside the workspace) in which the index makes its own cookie folder;
   * default the system temp folder. Never the workspace or `.git`: a tool could plant a symlink
   * there (see `sync`).
   */
  privateDir?: string;
  /** Told every batch of changes the watcher applied (any writer): the `workspace/didChange` feed. */
  onChange?: (changes: readonly IndexChange[]) => void;
  /**
   * While this returns a promise (a first search runs on the cold search's threads), scanning the
   * tree waits for it: on a machine with few cores the search, which a caller waits for, gets them.
   */
  yieldTo?: () => Promise<void> | undefined;
}

/** A path the watcher saw created, changed or deleted ("." for the root). */
export interface IndexChange {
  readonly path: string;
  readonly kind: "created" | "changed" | "deleted";
}

const COOKIE_PREFIX = "cookie-";
/** Thrown inside a walk that needs a folder the index does not hold (see `entries`). */
const NOT_COVERED = new Error("the walk enters a folder the index does not hold");
/** Yield to the event loop after this long of synchronous scanning, so calls keep answering. */
const SLICE_MS = 8;

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf("/");
  return slash === -1 ? "" : rel.slice(0, slash);
}

function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}

function typeOfDirent(d: Dirent, abs: string): EntryType | undefined {
  if (d.isDirectory()) return "dir";
  if (d.isFile()) return "file";
  if (d.isSymbolicLink()) return "symlink";
  if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) return undefined;
  return typeOfPath(abs);
}

function typeOfPath(abs: string): EntryType | undefined {
  try {
    const st = lstatSync(abs);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : undefined;
  } catch {
    return undefined;
  }
}

export class WorkspaceIndex {
  readonly root: string;
  private readonly dirs = new Map<string, DirNode>();
  /** Folders the ignore files exclude: listed in their parent, not entered nor watched. */
  private readonly unindexed = new Set<string>();
  private readonly cache: FileCache | undefined;
  private readonly log: Logger | undefined;
  private readonly syncTimeoutMs: number;
  private readonly recoverEveryMs: number;
  private lastRecovery = 0;
  private readonly privateDir: string;
  private readonly onChange: ((changes: readonly IndexChange[]) => void) | undefined;
  private readonly yieldTo: (() => Promise<void> | undefined) | undefined;
  private readyPromise: Promise<void> | undefined;
  private isReady = false;
  private healthy = true;
  private disposed = false;
  private fileCount = 0;
  /** Bumped on every change to the tree; keys the memo of the last walk. */
  private generation = 0;
  private lastWalk: { key: string; generation: number; entries: WalkEntry[] } | undefined;
  private events = 0;
  private syncs = 0;
  private rebuilds = 0;
  private buildMs = 0;
  /** Paths (relative) with a pending event; "" stands for the root. */
  private pending = new Set<string>();
  /** Folders whose event said "something changed here" without a name. */
  private pendingRescan = new Set<string>();
  /** The root's `.git/info/exclude` changed since the last flush. */
  private excludeChanged = false;
  /** Cookies whose event arrived: their waiters are released after the events before them. */
  private pendingCookies = new Set<string>();
  private flushScheduled = false;
  private flushChain: Promise<void> = Promise.resolve();
  private cookieSeq = 0;
  private readonly cookieWaiters = new Map<string, () => void>();
  private cookieDir: string | undefined;
  private cookieWatcher: FSWatcher | undefined;
  /** `.git/info` of the root repository, whose `exclude` holds ignore rules. */
  private gitInfoWatcher: FSWatcher | undefined;

  constructor(options: WorkspaceIndexOptions) {
    this.root = options.root;
    this.cache = options.cache;
    this.log = options.log;
    this.syncTimeoutMs = options.syncTimeoutMs ?? 2000;
    this.recoverEveryMs = options.recoverEveryMs ?? 30_000;
    this.privateDir = options.privateDir ?? os.tmpdir();
    this.onChange = options.onChange;
    this.yieldTo = options.yieldTo;
  }

  /** Scans the tree and sets up the watches; idempotent. Resolves when the index is usable. */
  start(): Promise<void> {
    this.readyPromise ??= this.build().catch((err: unknown) => {
      this.healthy = false;
      this.log?.warn({ err: (err as Error).message }, "workspace index failed to build; tools read the disk");
    });
    return this.readyPromise;
  }

  /** Its watches work (it may still be building): every change is seen. */
  get watching(): boolean {
    return this.healthy && !this.disposed;
  }

  /**
   * An unhealthy index (a watch failed, a cookie was lost, applying events threw) no longer stays
   * so: at most every `recoverEveryMs` it closes its watches, forgets the tree and the cached
   * contents it vouched for (events may have been missed), and scans again in the background.
   * Calls read the disk meanwhile.
   */
  private recover(): void {
    if (this.healthy || this.disposed || !this.isReady) return;
    if (Date.now() - this.lastRecovery < this.recoverEveryMs) return;
    this.lastRecovery = Date.now();
    this.rebuilds++;
    this.log?.info("rebuilding the workspace index after it became unhealthy");
    for (const node of this.dirs.values()) node.watcher?.close();
    this.dirs.clear();
    this.unindexed.clear();
    this.fileCount = 0;
    this.generation++;
    this.lastWalk = undefined;
    this.cache?.clear();
    this.healthy = true;
    this.isReady = false;
    const started = performance.now();
    this.readyPromise = this.scanTree("")
      .then(() => {
        this.buildMs = performance.now() - started;
        this.isReady = true;
      })
      .catch((err: unknown) => {
        this.healthy = false;
        this.isReady = true;
        this.log?.warn(
          { err: (err as Error).message },
          "workspace index failed to rebuild; tools read the disk",
        );
      });
  }

  /** The initial scan is done (it may still be unhealthy: see `usable`). */
  get built(): boolean {
    return this.isReady;
  }

  get usable(): boolean {
    return this.isReady && this.healthy && !this.disposed;
  }

  private async build(): Promise<void> {
    const started = performance.now();
    this.setUpCookies();
    this.watchGitInfo();
    await this.scanTree("");
    this.buildMs = performance.now() - started;
    this.isReady = true;
    this.log?.info(
      { dirs: this.dirs.size, files: this.fileCount, ms: Math.round(this.buildMs) },
      "workspace index ready",
    );
  }

  /**
   * Cookies go in a folder of their own, made with mkdtemp (0700, a random name) in a private
   * folder outside the workspace: no tool can write there, so nobody can plant a symlink under a
   * cookie's name (which once sat in the workspace or `.git` with a guessable name, and a planted
   * link made a read-only grep truncate a file outside). libuv reads every watch of the loop from
   * one inotify descriptor, so a cookie's event still comes after every workspace event before it.
   */
  private setUpCookies(): void {
    const dir = mkdtempSync(path.join(this.privateDir, "toold-index-"));
    this.cookieDir = dir;
    this.cookieWatcher = this.watchDir(dir, (_event, name) => {
      if (name?.startsWith(COOKIE_PREFIX)) this.enqueueCookie(name);
    });
  }

  /**
   * The root's `.git/info/exclude` holds ignore rules too: one more watch, on `.git/info`, so an
   * edit to it applies at the next call like an edit to `.gitignore`.
   */
  private watchGitInfo(): void {
    const info = path.join(this.root, ".git", "info");
    try {
      if (!lstatSync(info).isDirectory()) return;
    } catch {
      return;
    }
    this.gitInfoWatcher = this.watchDir(info, (_event, name) => {
      if (name === "exclude" || name === null) this.enqueueExcludeChange();
    });
  }

  private enqueueExcludeChange(): void {
    this.excludeChanged = true;
    this.scheduleFlush();
  }

  private watchDir(
    abs: string,
    onEvent: (event: string, name: string | null) => void,
  ): FSWatcher | undefined {
    try {
      const w = watch(abs, { persistent: false, encoding: "utf8" }, (event, name) => onEvent(event, name));
      w.on("error", (err) => this.onWatchError(abs, err));
      return w;
    } catch (err) {
      this.onWatchError(abs, err as Error);
      return undefined;
    }
  }

  private onWatchError(abs: string, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // A folder that vanished between readdir and watch is normal; anything else (ENOSPC: the
    // inotify watch limit) means changes could be missed: stop trusting the index.
    if (code === "ENOENT" || code === "ENOTDIR") return;
    if (this.healthy) {
      this.log?.warn(
        { dir: abs, err: err.message, code },
        "file watch failed; the index is no longer trusted",
      );
    }
    this.healthy = false;
  }

  /**
   * Scans `rel` and everything below it (a folder new to the index), yielding now and then.
   * Folders the ignore files exclude are not entered nor watched (`unindexed`): rg would not
   * search them, and a checkout's node_modules alone can hold thousands of folders. Their parent
   * is watched, and its ignore files with it, so a rule change that re-includes one is seen.
   */
  private async scanTree(rel: string): Promise<void> {
    const stack: [string, IgnoreStack][] = [[rel, this.stackAbove(rel)]];
    let sliceStart = performance.now();
    while (stack.length > 0) {
      if (this.disposed) return;
      const [dirRel, above] = stack.pop()!;
      const node = this.scanDir(dirRel);
      if (!node) continue;
      const here = above.push(node.level);
      for (const [name, type] of node.children) {
        if (type !== "dir" || name === ".git") continue;
        const childRel = join(dirRel, name);
        if (here.verdict(childRel, true) === "ignore") this.unindexed.add(childRel);
        else stack.push([childRel, here]);
      }
      const wait = this.yieldTo?.();
      if (wait || performance.now() - sliceStart > SLICE_MS) {
        await (wait ?? new Promise((r) => setImmediate(r)));
        sliceStart = performance.now();
      }
    }
  }

  /** The ignore levels of the folders above `rel` (its own excluded), shallowest first. */
  private stackAbove(rel: string): IgnoreStack {
    let stack = IgnoreStack.EMPTY;
    if (rel === "") return stack;
    let dirRel = "";
    for (const part of rel.split("/")) {
      stack = stack.push(this.dirs.get(dirRel)?.level);
      dirRel = join(dirRel, part);
    }
    return stack;
  }

  /**
   * After an ignore rule changed in `rel`: drops the folders below it that are now ignored and
   * scans the ones that no longer are.
   */
  private async reconcileIgnored(rel: string): Promise<void> {
    const node = this.dirs.get(rel);
    if (!node) return;
    const work: [DirNode, IgnoreStack][] = [[node, this.stackAbove(rel)]];
    const toScan: string[] = [];
    while (work.length > 0) {
      const [n, above] = work.pop()!;
      const here = above.push(n.level);
      for (const [name, type] of n.children) {
        if (type !== "dir" || name === ".git") continue;
        const childRel = join(n.rel, name);
        const ignored = here.verdict(childRel, true) === "ignore";
        const child = this.dirs.get(childRel);
        if (ignored) {
          if (child) this.removeDir(childRel);
          this.unindexed.add(childRel);
        } else if (child) {
          work.push([child, here]);
        } else if (this.unindexed.delete(childRel)) {
          toScan.push(childRel);
        }
      }
    }
    for (const r of toScan) await this.scanTree(r);
    this.generation++;
  }

  /** (Re)reads one folder: watch first, so nothing created during the read is missed. */
  private scanDir(rel: string): DirNode | undefined {
    const abs = rel === "" ? this.root : path.join(this.root, rel);
    let node = this.dirs.get(rel);
    if (!node) {
      node = { rel, children: new Map(), sorted: undefined, level: undefined, watcher: undefined };
      node.watcher = this.watchDir(abs, (_event, name) => this.onEvent(rel, name));
      this.dirs.set(rel, node);
    }
    let dirents: Dirent[];
    try {
      dirents = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (rel !== "" && (code === "ENOENT" || code === "ENOTDIR" || code === "EACCES" || code === "EPERM")) {
        if (code === "ENOENT" || code === "ENOTDIR") this.removeDir(rel);
        return undefined;
      }
      throw err;
    }
    const seen = new Set<string>();
    for (const d of dirents) {
      const type = typeOfDirent(d, path.join(abs, d.name));
      if (!type) continue;
      seen.add(d.name);
      this.setChild(node, d.name, type);
    }
    for (const name of [...node.children.keys()]) {
      if (!seen.has(name)) this.deleteChild(node, name);
    }
    if ([...IGNORE_FILE_NAMES, ".git"].some((n) => seen.has(n)) || node.level) {
      node.level = this.loadLevel(abs, rel, seen);
      this.generation++;
    }
    return node;
  }

  /** A folder's ignore files; one that cannot be applied is logged and skipped, never fatal. */
  private loadLevel(abs: string, rel: string, names: ReadonlySet<string>): IgnoreLevel | undefined {
    return loadIgnoreLevelSync(abs, rel, names, (file, reason) =>
      this.log?.warn({ file, reason }, "ignore file not applied"),
    );
  }

  private setChild(node: DirNode, name: string, type: EntryType): void {
    const prev = node.children.get(name);
    if (prev === type) return;
    if (prev === "dir") this.removeDir(join(node.rel, name));
    if (prev === "file") this.fileCount--;
    if (type === "file") this.fileCount++;
    node.children.set(name, type);
    node.sorted = undefined;
    this.generation++;
  }

  private deleteChild(node: DirNode, name: string): void {
    const prev = node.children.get(name);
    if (prev === undefined) return;
    const rel = join(node.rel, name);
    if (prev === "dir") this.removeDir(rel);
    if (prev === "file") this.fileCount--;
    node.children.delete(name);
    node.sorted = undefined;
    this.generation++;
    this.cache?.invalidate(path.join(this.root, rel));
  }

  /** Forgets a folder and everything below it, closing their watches. */
  private removeDir(rel: string): void {
    const prefix = `${rel}/`;
    for (const u of this.unindexed) if (u === rel || u.startsWith(prefix)) this.unindexed.delete(u);
    for (const [key, node] of this.dirs) {
      if (key === rel || key.startsWith(prefix)) {
        node.watcher?.close();
        for (const type of node.children.values()) if (type === "file") this.fileCount--;
        this.dirs.delete(key);
      }
    }
    this.cache?.invalidateUnder(path.join(this.root, rel));
  }

  private onEvent(dirRel: string, name: string | null): void {
    if (this.disposed) return;
    if (name === null) this.pendingRescan.add(dirRel);
    else this.enqueue(join(dirRel, name));
  }

  private enqueueCookie(name: string): void {
    this.pendingCookies.add(name);
    this.scheduleFlush();
  }

  private enqueue(rel: string): void {
    this.pending.add(rel);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Applies pending events; serialised, so two flushes never interleave. */
  private flush(): Promise<void> {
    this.flushScheduled = false;
    this.flushChain = this.flushChain
      .then(() => this.applyPending())
      .catch((err: unknown) => {
        this.healthy = false;
        this.log?.error({ err }, "applying file events failed; the index is no longer trusted");
      });
    return this.flushChain;
  }

  private async applyPending(): Promise<void> {
    if (!this.isReady) {
      // The initial scan is still running; it reads the folders afresh. Events for folders it
      // already read are applied once it is done.
      await this.readyPromise;
    }
    const paths = this.pending;
    const rescans = this.pendingRescan;
    const cookies = this.pendingCookies;
    this.pending = new Set();
    this.pendingRescan = new Set();
    this.pendingCookies = new Set();
    const ignoreChanged = new Set<string>();
    if (this.excludeChanged) ignoreChanged.add("");
    this.excludeChanged = false;
    const changes: IndexChange[] = [];
    for (const rel of paths) {
      const name = baseName(rel);
      this.events++;
      const parent = this.dirs.get(parentOf(rel));
      if (!parent) continue; // below .git, or a folder already gone
      const abs = path.join(this.root, rel);
      const type = typeOfPath(abs);
      const known = parent.children.has(name);
      if (type === undefined) {
        if (known) changes.push({ path: rel, kind: "deleted" });
        this.deleteChild(parent, name);
      } else {
        changes.push({ path: rel, kind: known ? "changed" : "created" });
        this.setChild(parent, name, type);
        if (type === "file") this.cache?.invalidate(abs);
        if (type === "dir" && name !== ".git" && !this.dirs.has(rel) && !this.unindexed.has(rel)) {
          if (this.stackAbove(rel).verdict(rel, true) === "ignore") this.unindexed.add(rel);
          else await this.scanTree(rel);
        }
      }
      if (type !== "dir") this.unindexed.delete(rel);
      if (IGNORE_FILE_NAMES.has(name) || name === ".git") ignoreChanged.add(parent.rel);
    }
    for (const rel of rescans) {
      if (this.dirs.has(rel)) {
        changes.push({ path: rel === "" ? "." : rel, kind: "changed" });
        this.rebuilds++;
        this.scanDir(rel);
      }
    }
    for (const rel of ignoreChanged) {
      const node = this.dirs.get(rel);
      if (node) {
        const abs = rel === "" ? this.root : path.join(this.root, rel);
        node.level = this.loadLevel(abs, rel, new Set(node.children.keys()));
        this.generation++;
        await this.reconcileIgnored(rel);
      }
    }
    if (changes.length > 0) {
      try {
        this.onChange?.(changes);
      } catch (err) {
        this.log?.error({ err }, "change listener failed");
      }
    }
    for (const name of cookies) this.cookieWaiters.get(name)?.();
  }

  /**
   * Waits until every change made before this call is in the index (see the module comment).
   * Returns false when the index cannot vouch for that; the caller then reads the disk.
   */
  async sync(signal?: AbortSignal): Promise<boolean> {
    await this.start();
    if (!this.usable || !this.cookieDir) {
      this.recover();
      return false;
    }
    this.syncs++;
    // A random name: nothing else can predict it (it once showed in `status` and `stats`).
    const name = `${COOKIE_PREFIX}${++this.cookieSeq}-${randomBytes(6).toString("hex")}`;
    const file = path.join(this.cookieDir, name);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const arrived = new Promise<boolean>((resolve) => {
      this.cookieWaiters.set(name, () => resolve(true));
      timer = setTimeout(() => resolve(false), this.syncTimeoutMs);
      onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      // Created exclusively and never followed: an existing name or a link fails, nothing is opened.
      closeSync(
        openSync(
          file,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        ),
      );
      unlinkSync(file);
    } catch (err) {
      this.cookieWaiters.delete(name);
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      this.log?.warn(
        { err: (err as Error).message },
        "cannot write the sync cookie; the index is no longer trusted",
      );
      this.healthy = false;
      return false;
    }
    const ok = await arrived;
    this.cookieWaiters.delete(name);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    signal?.throwIfAborted();
    if (!ok) {
      this.log?.warn(
        { timeoutMs: this.syncTimeoutMs },
        "watcher did not deliver the sync cookie; the index is no longer trusted",
      );
      this.healthy = false;
    }
    return ok && this.usable;
  }

  private sortedChildren(node: DirNode): Child[] {
    if (!node.sorted) {
      const list: Child[] = [];
      for (const [name, type] of node.children)
        list.push({ name, type, key: type === "dir" ? `${name}/` : name });
      list.sort((a, b) => compareByteOrder(a.key, b.key));
      node.sorted = list;
    }
    return node.sorted;
  }

  /**
   * The same entries, in the same order, as `walk(rootAbs, options)` of src/search/walk.ts, from
   * memory. `options.base` must be the index root (or absent). Throws ENOTDIR / ENOENT like the
   * walk when `rootAbs` is not an indexed folder. Undefined when the walk needs a folder the index
   * does not hold (an ignored one, with `respectIgnoreFiles: false` or a glob that re-includes
   * it): the caller reads the disk then.
   */
  entries(
    rootAbs: string,
    options: WalkOptions = {},
    signal?: AbortSignal,
  ): readonly WalkEntry[] | undefined {
    // Paged callers (list_files page 2, 3…) ask for the same walk again: answer from the memo
    // while the tree has not changed.
    const key = JSON.stringify([
      rootAbs,
      options.includeHidden,
      options.respectIgnoreFiles,
      options.maxDepth,
      options.globs,
      options.types,
    ]);
    if (this.lastWalk && this.lastWalk.key === key && this.lastWalk.generation === this.generation) {
      return this.lastWalk.entries;
    }
    const generation = this.generation;
    let entries: WalkEntry[];
    try {
      entries = this.walkTree(rootAbs, options, signal);
    } catch (err) {
      if (err === NOT_COVERED) return undefined;
      throw err;
    }
    this.lastWalk = { key, generation, entries };
    return entries;
  }

  private walkTree(rootAbs: string, options: WalkOptions, signal?: AbortSignal): WalkEntry[] {
    const maxDepth = options.maxDepth ?? Infinity;
    const rootRel = path.relative(this.root, rootAbs).split(path.sep).join("/");
    if (options.base !== undefined && path.resolve(options.base) !== this.root) {
      throw new Error(`entries: base ${options.base} is not the index root ${this.root}`);
    }
    if (rootRel.startsWith("..") || path.isAbsolute(rootRel)) {
      throw new Error(`entries: ${rootAbs} is outside the index root ${this.root}`);
    }
    const start = this.dirs.get(rootRel);
    if (!start && this.insideUnindexed(rootRel)) throw NOT_COVERED;
    if (!start) {
      const parent = this.dirs.get(parentOf(rootRel));
      const type = rootRel === "" ? undefined : parent?.children.get(baseName(rootRel));
      const err = new Error(
        `${type ? "ENOTDIR: not a directory" : "ENOENT: no such file or directory"}, ${rootAbs}`,
      ) as NodeJS.ErrnoException;
      err.code = type ? "ENOTDIR" : "ENOENT";
      throw err;
    }
    const filter = new EntryFilter(options, rootRel);
    const respectIgnore = filter.respectIgnore;
    const stack = respectIgnore ? this.stackAbove(rootRel) : IgnoreStack.EMPTY;
    const out: WalkEntry[] = [];
    let checked = 0;
    const visit = (node: DirNode, rel: string, depth: number, ignores: IgnoreStack): void => {
      if ((++checked & 255) === 0) signal?.throwIfAborted();
      const here = respectIgnore ? ignores.push(node.level) : ignores;
      for (const child of this.sortedChildren(node)) {
        const childRel = join(rel, child.name);
        const isDir = child.type === "dir";
        if (!filter.included(childRel, child.name, isDir, here)) continue;
        out.push({ path: childRel, type: child.type });
        if (isDir && depth < maxDepth) {
          const subRel = join(node.rel, child.name);
          const sub = this.dirs.get(subRel);
          if (sub) visit(sub, childRel, depth + 1, here);
          else if (this.unindexed.has(subRel)) throw NOT_COVERED;
        }
      }
    };
    visit(start, "", 1, stack);
    return out;
  }

  private insideUnindexed(rel: string): boolean {
    for (let r = rel; r !== ""; r = parentOf(r)) if (this.unindexed.has(r)) return true;
    return false;
  }

  stats(): IndexStats {
    let watches = 0;
    for (const node of this.dirs.values()) if (node.watcher) watches++;
    return {
      ready: this.isReady,
      healthy: this.healthy,
      dirs: this.dirs.size,
      files: this.fileCount,
      watches: watches + (this.cookieWatcher ? 1 : 0) + (this.gitInfoWatcher ? 1 : 0),
      unindexed: this.unindexed.size,
      events: this.events,
      syncs: this.syncs,
      rebuilds: this.rebuilds,
      buildMs: Math.round(this.buildMs),
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const node of this.dirs.values()) node.watcher?.close();
    this.cookieWatcher?.close();
    this.gitInfoWatcher?.close();
    if (this.cookieDir) rmSync(this.cookieDir, { recursive: true, force: true });
    this.dirs.clear();
    for (const resolve of this.cookieWaiters.values()) resolve();
    this.cookieWaiters.clear();
  }
}
