/**
 * The journal: every change made through toold's tools, with what each path was before, so it can
 * be undone. One file per workspace under the user's state folder (src/journal/store.ts).
 *
 * A call whose tool declares `changes` runs inside `record()`: the paths are resolved as the tool
 * will resolve them, their before-images are appended and fsynced ("begin"), the tool runs, and
 * the after-states are appended ("commit"), or a "drop" when nothing changed. Calls that change
 * files run one at a time, so each entry's before and after are exact. A crash between begin and
 * commit leaves an "interrupted" entry: its before-images are sound, its result unknown (undo
 * needs --force). Undo restores every path of an entry through the confined fs, all or nothing,
 * and is itself an entry.
 */
import { chmod, lstat, mkdir, readdir, readFile, symlink, unlink, writeFile } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import type { Logger } from "pino";
import { ErrorCodes, ProtocolError } from "../protocol/errors.js";
import type {
  JournalStats,
  JournalEntrySummary,
  JournalListResult,
  JournalPathKind,
  JournalUndoResult,
  WorkspaceChangeKind,
} from "../protocol/methods.js";
import type { Config } from "../config/schema.js";
import { removeConfined } from "../support/confined-fs.js";
import { mkdirParents, writeFileAtomic } from "../support/fs-atomic.js";
import { PathError } from "../support/path-error.js";
import { stateDir, workspaceId } from "../workspace/locate.js";
import { isWithin, type Workspace } from "../workspace/workspace.js";
import { Capture, captureRoot, firstDifference, isUnder, stateOf } from "./capture.js";
import { encodeFrame } from "./frames.js";
import { JournalFile } from "./store.js";
import type { ChangeTarget, ItemImage, ItemState, RootRecord } from "./types.js";

/** A journal/undo refusal or failure: a JSON-RPC error with its code and `data` (id, path). */
class JournalError extends ProtocolError {}

/** The journal could not record a change: the change is not made. `code` lets tools report it plainly. */
class JournalWriteError extends Error {
  readonly code = "EJOURNAL";
}

export interface StateEnv {
  readonly TOOLD_STATE_DIR?: string | undefined;
  readonly XDG_STATE_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}

/** `$TOOLD_STATE_DIR`, else `$XDG_STATE_HOME/toold`, else `~/.local/state/toold` (one definition, with the logs'). */
export const stateDirFor: (env: StateEnv) => string = stateDir;

/** The journal folder of one workspace. */
export function journalDirFor(workspaceRoot: string, env: StateEnv): string {
  return path.join(stateDirFor(env), "journal", workspaceId(workspaceRoot));
}

/** What the dispatcher tells the journal about a call. */
export interface ChangeMeta {
  readonly tool: string;
  readonly client: string | undefined;
}

/** Hooks the live feed (src/journal/feed.ts) gives the journal to attribute changes. */
export interface ChangeListener {
  expect(roots: readonly string[], id: number): void;
  settle(
    roots: readonly string[],
    id: number,
    changes: readonly { path: string; kind: WorkspaceChangeKind }[],
  ): void;
}

export interface JournalOptions {
  readonly workspace: Workspace;
  /** The journal folder (journalDirFor). */
  readonly dir: string;
  readonly config: () => Config;
  readonly log?: Logger;
  readonly listener?: ChangeListener;
}

interface Span {
  offset: number;
  length: number;
}

interface Entry {
  readonly id: number;
  readonly time: string;
  readonly tool: string;
  readonly client: string | null;
  readonly undoes?: number;
  readonly roots: readonly RootRecord[];
  readonly items: readonly ItemImage[];
  begin: Span;
  commit?: Span;
  after?: readonly ItemState[];
}

interface ResolvedRoot extends RootRecord {
  readonly abs: string;
}

const FILE_NAME = "journal.bin";

function kindOf(items: readonly ItemState[] | undefined, p: string): JournalPathKind {
  return items?.find((i) => i.path === p)?.kind ?? "missing";
}

/** True for a stored relative path the journal may act on: no empty, ".", ".." or absolute parts. */
function safeRel(p: unknown): p is string {
  return (
    typeof p === "string" &&
    p.length > 0 &&
    !path.isAbsolute(p) &&
    p.split("/").every((part) => part !== "" && part !== "." && part !== "..")
  );
}

export class Journal {
  private file: JournalFile | undefined;
  private readonly entries = new Map<number, Entry>();
  private nextId = 1;
  /** Why the journal cannot be used (set when opening failed). */
  private unavailable: string | undefined;
  /** Serialises changes: each entry's before and after are exact. */
  private chain: Promise<unknown> = Promise.resolve();
  private opened: Promise<void> | undefined;
  private lockFile: string | undefined;
  private recorded = 0;
  private dropped = 0;
  private undone = 0;

  constructor(private readonly opts: JournalOptions) {}

  /** Opens the journal (idempotent); never throws: a failure makes it unavailable, with the reason logged. */
  open(): Promise<void> {
    this.opened ??= this.load().catch((err: unknown) => {
      this.unavailable = `the journal at ${this.opts.dir} cannot be used: ${(err as Error).message}`;
      this.opts.log?.warn(
        { dir: this.opts.dir, err: (err as Error).message },
        "journal unavailable; changes are not recorded",
      );
    });
    return this.opened;
  }

  private get config(): Config["journal"] {
    return this.opts.config().journal;
  }

  /** On in the config and usable. */
  get enabled(): boolean {
    return this.config.enabled && this.unavailable === undefined && this.file !== undefined;
  }

  private async load(): Promise<void> {
    const { dir, workspace } = this.opts;
    if (isWithin(workspace.root, dir)) {
      throw new Error(
        `it is inside the workspace; set $XDG_STATE_HOME or $TOOLD_STATE_DIR to a folder outside ${workspace.root}`,
      );
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const st = await lstat(dir);
    if (!st.isDirectory() || (typeof process.getuid === "function" && st.uid !== process.getuid())) {
      throw new Error("it is not a folder of this user");
    }
    if ((st.mode & 0o077) !== 0) await chmod(dir, 0o700);
    await this.lock(path.join(dir, "lock"));
    // A compaction a crash interrupted leaves its temp file; the journal itself is intact.
    for (const name of await readdir(dir)) {
      if (/^\..*\.\d+\.tmp$/.test(name)) await unlink(path.join(dir, name)).catch(() => undefined);
    }
    await writeFile(path.join(dir, "workspace"), `${workspace.root}\n`, { mode: 0o600 }).catch(
      () => undefined,
    );
    const { journal, load } = await JournalFile.open(path.join(dir, FILE_NAME));
    this.file = journal;
    if (load.truncatedBytes > 0) {
      this.opts.log?.warn(
        { bytes: load.truncatedBytes },
        "journal: a torn or corrupt last entry was found and cut off (a crash while writing it); it is never applied",
      );
    }
    for (const frame of load.frames) this.apply(frame.record, { offset: frame.offset, length: frame.length });
    this.opts.log?.info({ entries: this.entries.size, bytes: journal.size, dir }, "journal open");
  }

  /** One daemon writes a workspace's journal: a second one (another socket) runs without it. */
  private async lock(file: string): Promise<void> {
    const mine = `${process.pid}\n`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(file, mine, {
          flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
          mode: 0o600,
        });
        this.lockFile = file;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const owner = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
      let alive = false;
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid) {
        try {
          process.kill(owner, 0);
          alive = true;
        } catch (err) {
          alive = (err as NodeJS.ErrnoException).code === "EPERM";
        }
      }
      // A pid reused by an unrelated process since the owner died does not hold the lock.
      if (alive) {
        const cmdline = await readFile(`/proc/${owner}/cmdline`, "utf8").catch(() => undefined);
        if (cmdline !== undefined && !/toold|daemon[/\\]entry/.test(cmdline)) alive = false;
      }
      if (alive) throw new Error(`another toold daemon (pid ${owner}) records this workspace's journal`);
      await unlink(file).catch(() => undefined);
    }
    throw new Error("could not take the journal's lock");
  }

  /** Applies one stored record to the in-memory index. */
  private apply(record: Record<string, unknown>, span: Span): void {
    const id = typeof record.id === "number" ? record.id : undefined;
    switch (record.t) {
      case "head":
        if (typeof record.nextId === "number") this.nextId = Math.max(this.nextId, record.nextId);
        return;
      case "begin": {
        if (id === undefined || !Array.isArray(record.items) || !Array.isArray(record.roots)) return;
        this.entries.set(id, {
          id,
          time: String(record.time),
          tool: String(record.tool),
          client: typeof record.client === "string" ? record.client : null,
          ...(typeof record.undoes === "number" ? { undoes: record.undoes } : {}),
          roots: record.roots as RootRecord[],
          items: record.items as ItemImage[],
          begin: span,
        });
        this.nextId = Math.max(this.nextId, id + 1);
        return;
      }
      case "commit": {
        const entry = id === undefined ? undefined : this.entries.get(id);
        if (entry && Array.isArray(record.after)) {
          entry.commit = span;
          entry.after = record.after as ItemState[];
        }
        return;
      }
      case "drop":
        if (id !== undefined) this.entries.delete(id);
        return;
    }
  }

  /** Runs `fn` after every change queued before it: one change at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Runs a tool call that may change `targets`, journaling it. When the journal is off, or the
   * call names no path it can resolve, the call simply runs.
   */
  async record<T>(
    meta: ChangeMeta,
    targets: () => Promise<readonly ChangeTarget[]> | readonly ChangeTarget[],
    run: () => Promise<T>,
  ): Promise<T> {
    await this.open();
    if (!this.enabled) return run();
    let named: readonly ChangeTarget[];
    try {
      named = await targets();
    } catch {
      named = []; // the tool rejects these arguments itself
    }
    if (named.length === 0) return run();
    return this.serial(async () => {
      const roots = await this.resolveTargets(named);
      if (roots.length === 0) return run();
      return (await this.recordLocked({ tool: meta.tool, client: meta.client }, roots, run)).result;
    });
  }

  /** Resolves what a tool named into the roots to record (see ChangeTarget). */
  private async resolveTargets(named: readonly ChangeTarget[]): Promise<ResolvedRoot[]> {
    const { workspace } = this.opts;
    const roots: ResolvedRoot[] = [];
    for (const target of named) {
      let abs: string;
      let exists: boolean;
      try {
        ({ abs, exists } = await workspace.resolveForWrite(target.path, this.opts.config(), {
          allowMissing: true,
          followSymlink: !target.entry,
        }));
      } catch (err) {
        if (err instanceof PathError) continue; // refused: the tool refuses it too, with its message
        throw err;
      }
      let tree = target.tree ?? false;
      if (!exists) {
        // A created path may bring missing folders with it: record the topmost one, as a tree.
        while (
          path.dirname(abs) !== workspace.root &&
          !(await lstat(path.dirname(abs)).then(
            () => true,
            () => false,
          ))
        ) {
          abs = path.dirname(abs);
        }
        tree = true;
      }
      roots.push({ path: workspace.relative(abs), abs, tree });
    }
    // A root inside a folder recorded with its contents is already covered by it.
    const unique = new Map(roots.map((r) => [r.path, r]));
    return [...unique.values()].filter(
      (r) => ![...unique.values()].some((o) => o !== r && o.tree && isUnder(o.path, r.path)),
    );
  }

  private async captureAll(roots: readonly ResolvedRoot[], withContent: boolean): Promise<Capture> {
    const capture = new Capture(
      withContent
        ? { maxFileBytes: this.config.max_file_bytes, budget: Math.floor(this.config.max_bytes / 4) }
        : undefined,
      this.config.max_file_bytes,
    );
    const rel = (abs: string) => this.opts.workspace.relative(abs);
    for (const root of roots) await captureRoot(capture, root.abs, root.tree, rel);
    return capture;
  }

  private async append(record: object, blobs: readonly Buffer[], sync: boolean): Promise<Span> {
    const file = this.file;
    if (!file) throw new JournalWriteError("the journal is not open");
    try {
      return await file.append(encodeFrame(record, blobs), { sync });
    } catch (err) {
      throw new JournalWriteError(
        `the journal could not record this change (${(err as Error).message}); nothing was changed. ` +
          "Free some space, or set [journal] enabled = false in vtcode.toml to work without undo.",
      );
    }
  }

  /** Begin, run, commit (or drop). The caller holds the serial lock. */
  private async recordLocked<T>(
    meta: { tool: string; client: string | undefined; undoes?: number },
    roots: readonly ResolvedRoot[],
    run: (before: Capture) => Promise<T>,
  ): Promise<{ result: T; id: number | undefined }> {
    const before = await this.captureAll(roots, true);
    const id = this.nextId++;
    const entry: Entry = {
      id,
      time: new Date().toISOString(),
      tool: meta.tool,
      client: meta.client ?? null,
      ...(meta.undoes !== undefined ? { undoes: meta.undoes } : {}),
      roots: roots.map((r) => ({ path: r.path, tree: r.tree })),
      items: before.items,
      begin: { offset: 0, length: 0 },
    };
    const { begin: _span, ...stored } = entry;
    // Written and on disk before anything changes.
    entry.begin = await this.append({ t: "begin", ...stored }, before.blobs, true);
    this.entries.set(id, entry);
    const rootPaths = entry.roots.map((r) => r.path);
    this.opts.listener?.expect(rootPaths, id);
    let result: T;
    try {
      result = await run(before);
    } finally {
      await this.finish(entry, roots, before).catch((err: unknown) =>
        this.opts.log?.error(
          { err: (err as Error).message, id },
          "journal: could not record the result of a change",
        ),
      );
    }
    return { result, id: this.entries.has(id) ? id : undefined };
  }

  private async finish(entry: Entry, roots: readonly ResolvedRoot[], before: Capture): Promise<void> {
    const after = await this.captureAll(roots, false);
    const rootPaths = entry.roots.map((r) => r.path);
    if (!before.incomplete && !after.incomplete && firstDifference(before.items, after.items) === undefined) {
      this.entries.delete(entry.id);
      this.dropped++;
      this.opts.listener?.settle(rootPaths, entry.id, []);
      await this.append({ t: "drop", id: entry.id }, [], false);
      return;
    }
    const afterStates = after.items.map(stateOf);
    entry.commit = await this.append({ t: "commit", id: entry.id, after: afterStates }, [], true);
    entry.after = afterStates;
    this.recorded++;
    this.opts.listener?.settle(rootPaths, entry.id, changesBetween(before.items, afterStates));
    if (this.file && this.file.size > this.config.max_bytes) await this.compact();
  }

  /** Drops the oldest entries until the journal holds about three quarters of max_bytes. */
  private async compact(): Promise<void> {
    const file = this.file;
    if (!file) return;
    const target = Math.floor((this.config.max_bytes * 3) / 4);
    const newestFirst = [...this.entries.values()].sort((a, b) => b.id - a.id);
    const keep: Entry[] = [];
    let total = 0;
    for (const entry of newestFirst) {
      const size = entry.begin.length + (entry.commit?.length ?? 0);
      if (total + size > target) break;
      keep.push(entry);
      total += size;
    }
    keep.reverse();
    const spans: Span[] = [];
    for (const e of keep) spans.push(e.begin, ...(e.commit ? [e.commit] : []));
    const head = encodeFrame({ t: "head", nextId: this.nextId });
    const offsets = await file.rewrite(head, spans);
    let i = 0;
    for (const e of keep) {
      e.begin = { offset: offsets[i++]!, length: e.begin.length };
      if (e.commit) e.commit = { offset: offsets[i++]!, length: e.commit.length };
    }
    const kept = new Set(keep.map((e) => e.id));
    const before = this.entries.size;
    for (const id of [...this.entries.keys()]) if (!kept.has(id)) this.entries.delete(id);
    this.opts.log?.info(
      { dropped: before - kept.size, kept: kept.size, bytes: file.size },
      "journal: oldest entries dropped ([journal] max_bytes)",
    );
  }

  private summary(entry: Entry): JournalEntrySummary {
    return {
      id: entry.id,
      time: entry.time,
      tool: entry.tool,
      client: entry.client,
      status: entry.after ? "complete" : "interrupted",
      ...(entry.undoes !== undefined ? { undoes: entry.undoes } : {}),
      paths: entry.roots.map((root) => {
        const under = entry.items.filter((i) => isUnder(root.path, i.path));
        const afterUnder = entry.after?.filter((i) => isUnder(root.path, i.path)) ?? [];
        const blocked = under.find((i) => i.notUndoable !== undefined);
        const count = new Set([...under, ...afterUnder].map((i) => i.path)).size;
        return {
          path: root.path,
          before: kindOf(entry.items, root.path),
          after: entry.after ? kindOf(entry.after, root.path) : "unknown",
          ...(root.tree && count > 1 ? { items: count } : {}),
          undoable: blocked === undefined,
          ...(blocked ? { reason: `${blocked.path}: ${blocked.notUndoable}` } : {}),
        };
      }),
      bytes: entry.begin.length + (entry.commit?.length ?? 0),
    };
  }

  async list(limit?: number): Promise<JournalListResult> {
    await this.open();
    const all = [...this.entries.values()].sort((a, b) => b.id - a.id);
    const reason =
      this.unavailable ?? (this.config.enabled ? undefined : "[journal] enabled = false in vtcode.toml");
    return {
      enabled: this.enabled,
      entries: all.slice(0, limit ?? all.length).map((e) => this.summary(e)),
      total: all.length,
      bytes: this.file?.size ?? 0,
      maxBytes: this.config.max_bytes,
      ...(reason ? { reason } : {}),
    };
  }

  /** Restores every path of entry `id` (the newest when absent) as it was before; see the module comment. */
  async undo(params: {
    id?: number;
    force?: boolean;
    client: string | undefined;
  }): Promise<JournalUndoResult> {
    await this.open();
    if (!this.enabled) {
      throw new JournalError(
        ErrorCodes.NotUndoable,
        `the journal is off: ${this.unavailable ?? "[journal] enabled = false in vtcode.toml"}`,
      );
    }
    return this.serial(() => this.undoLocked(params));
  }

  private async undoLocked(params: {
    id?: number;
    force?: boolean;
    client: string | undefined;
  }): Promise<JournalUndoResult> {
    const force = params.force === true;
    const entry =
      params.id === undefined
        ? [...this.entries.values()].sort((a, b) => b.id - a.id)[0]
        : this.entries.get(params.id);
    if (!entry) {
      throw new JournalError(
        ErrorCodes.NotUndoable,
        params.id === undefined
          ? "the journal is empty: nothing to undo"
          : `no journal entry ${params.id}: \`toold history\` lists the entries (the oldest are dropped past [journal] max_bytes)`,
      );
    }
    const blocked = entry.items.find((i) => i.notUndoable !== undefined);
    if (blocked) {
      throw new JournalError(
        ErrorCodes.NotUndoable,
        `entry ${entry.id} cannot be undone: ${blocked.path} was not recorded (${blocked.notUndoable})`,
        { id: entry.id, path: blocked.path },
      );
    }
    if (!entry.after && !force) {
      throw new JournalError(
        ErrorCodes.JournalConflict,
        `entry ${entry.id} (${entry.tool}) was interrupted: the daemon stopped while it was being applied, so its result is unknown. ` +
          "Check the files, then pass --force (force: true) to restore them as they were before it.",
        { id: entry.id, interrupted: true },
      );
    }
    for (const root of entry.roots) {
      if (
        !safeRel(root.path) ||
        !entry.items.every((i) => safeRel(i.path) && entry.roots.some((r) => isUnder(r.path, i.path)))
      ) {
        throw new JournalError(
          ErrorCodes.NotUndoable,
          `entry ${entry.id} is damaged (a path outside its roots); it is not applied`,
        );
      }
    }
    // Resolved afresh, confined: nothing stored in the journal file can point a write outside.
    const roots: ResolvedRoot[] = [];
    for (const root of entry.roots) {
      try {
        const target = await this.opts.workspace.resolveForWrite(root.path, this.opts.config(), {
          allowMissing: true,
          followSymlink: false,
          recursive: root.tree,
        });
        roots.push({ ...root, abs: target.abs });
      } catch (err) {
        if (err instanceof PathError)
          throw new JournalError(ErrorCodes.NotUndoable, `cannot undo entry ${entry.id}: ${err.message}`, {
            id: entry.id,
            path: root.path,
          });
        throw err;
      }
    }
    if (entry.after && !force) {
      const current = await this.captureAll(roots, false);
      const changed = firstDifference(entry.after, current.items);
      if (changed !== undefined) {
        throw new JournalError(
          ErrorCodes.JournalConflict,
          `cannot undo entry ${entry.id} (${entry.tool}): ${changed} has changed since; nothing was restored. ` +
            "Look at it, then pass --force (force: true) to restore the entry anyway (the undo is journaled, so it can be undone too).",
          { id: entry.id, path: changed },
        );
      }
    }
    const frame = await this.file!.read(entry.begin.offset);
    if (!frame || frame.record.id !== entry.id) {
      throw new JournalError(
        ErrorCodes.NotUndoable,
        `entry ${entry.id} is damaged on disk (checksum mismatch); it is not applied`,
        { id: entry.id },
      );
    }
    const images = entry.items;
    const blobs = frame.blobs;
    const { result, id } = await this.recordLocked(
      { tool: "undo", client: params.client, undoes: entry.id },
      roots,
      async (current) => {
        try {
          await restore(roots, images, blobs, current.items);
        } catch (err) {
          // All or nothing: put back what was already restored, from the undo's own before-images.
          const now = await this.captureAll(roots, false).catch(() => undefined);
          if (now) {
            await restore(roots, current.items, Buffer.concat(current.blobs), now.items).catch(
              (rollbackErr: unknown) =>
                this.opts.log?.error(
                  { err: (rollbackErr as Error).message },
                  "journal: rolling back a failed undo failed",
                ),
            );
          }
          throw new JournalError(
            ErrorCodes.InternalError,
            `undo of entry ${entry.id} failed (${(err as Error).message}); the paths already restored were put back`,
            { id: entry.id },
          );
        }
        return roots.map((r) => r.path);
      },
    );
    this.undone++;
    return { undone: entry.id, ...(id !== undefined ? { changeId: id } : {}), paths: result };
  }

  stats(): JournalStats {
    return {
      enabled: this.enabled,
      entries: this.entries.size,
      bytes: this.file?.size ?? 0,
      maxBytes: this.config.max_bytes,
      recorded: this.recorded,
      dropped: this.dropped,
      undone: this.undone,
    };
  }

  /** Waits (up to `waitMs`) for the change in progress to be recorded, then closes the file. */
  async close(waitMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    // A handler that ignores its abort signal must not hold the daemon's exit for ever; its entry
    // then stays "interrupted" (before-images on disk, result unknown), as after a crash.
    await Promise.race([this.chain.catch(() => undefined), timeout]);
    clearTimeout(timer);
    await this.file?.close();
    this.file = undefined;
    if (this.lockFile) await unlink(this.lockFile).catch(() => undefined);
  }
}

/** The feed's view of an entry: which recorded paths were created, changed or deleted. */
function changesBetween(
  before: readonly ItemState[],
  after: readonly ItemState[],
): { path: string; kind: WorkspaceChangeKind }[] {
  const b = new Map(before.map((i) => [i.path, i]));
  const a = new Map(after.map((i) => [i.path, i]));
  const out: { path: string; kind: WorkspaceChangeKind }[] = [];
  for (const p of [...new Set([...b.keys(), ...a.keys()])].sort()) {
    const was = b.get(p)?.kind ?? "missing";
    const now = a.get(p)?.kind ?? "missing";
    if (was === "missing" && now !== "missing") out.push({ path: p, kind: "created" });
    else if (was !== "missing" && now === "missing") out.push({ path: p, kind: "deleted" });
    else if (firstDifference([b.get(p)!], [a.get(p)!]) !== undefined) out.push({ path: p, kind: "changed" });
  }
  return out;
}

/**
 * Makes each root's tree equal to `want` (images whose bytes are in `blobs`), given its current
 * state `now`. A file replaced by a file is written atomically; anything else is removed and
 * rebuilt, parents first. Every write goes through the confined fs.
 */
async function restore(
  roots: readonly ResolvedRoot[],
  want: readonly ItemImage[],
  blobs: Buffer,
  now: readonly ItemState[],
): Promise<void> {
  const bytesOf = (item: ItemImage): Buffer => {
    if (!item.blob) throw new Error(`${item.path} has no recorded content`);
    const [offset, length] = item.blob;
    if (offset < 0 || length < 0 || offset + length > blobs.length)
      throw new Error(`${item.path}: recorded content out of range`);
    return blobs.subarray(offset, offset + length);
  };
  for (const root of roots) {
    const wanted = want
      .filter((i) => isUnder(root.path, i.path))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const current = now.filter((i) => isUnder(root.path, i.path));
    if (firstDifference(wanted, current) === undefined) continue;
    const rootWant = wanted.find((i) => i.path === root.path);
    const rootNow = current.find((i) => i.path === root.path);
    const absOf = (p: string) =>
      p === root.path ? root.abs : path.join(root.abs, p.slice(root.path.length + 1));
    if (rootWant?.kind === "file" && rootNow?.kind === "file") {
      await writeFileAtomic(
        root.abs,
        bytesOf(rootWant),
        rootWant.mode !== undefined ? { mode: rootWant.mode } : {},
      );
      continue;
    }
    if (rootNow && rootNow.kind !== "missing")
      await removeConfined(root.abs, { recursive: rootNow.kind === "dir" });
    if (rootWant && rootWant.kind !== "missing") await mkdirParents(root.abs);
    const dirModes: [string, number][] = [];
    for (const item of wanted) {
      const abs = absOf(item.path);
      if (item.kind === "dir") {
        await mkdir(abs);
        if (item.mode !== undefined) dirModes.push([abs, item.mode]);
      } else if (item.kind === "file") {
        await writeFileAtomic(abs, bytesOf(item), {
          exclusive: true,
          ...(item.mode !== undefined ? { mode: item.mode } : {}),
        });
      } else if (item.kind === "symlink") {
        await symlink(bytesOf(item).toString("utf8"), abs);
      }
    }
    // Deepest first, once their contents are back: a read-only folder would refuse them.
    for (const [abs, mode] of dirModes.reverse()) await chmod(abs, mode);
  }
}
