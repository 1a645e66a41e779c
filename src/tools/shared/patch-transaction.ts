/**
 * apply_patch's transaction: loads every file a patch touches (checked paths, confined reads),
 * keeps their new contents in memory while the patch is applied, then commits: each changed file
 * is written atomically or removed, in order; if one fails, those already done are undone
 * (restored from their in-memory originals; files and folders it created are removed). Every
 * read, write, delete and undo goes through the confined fs (src/support/confined-fs.ts,
 * fs-atomic.ts): a file or folder swapped for a symlink mid-patch is refused, never followed.
 */
import { readConfined, removeConfined } from "../../support/confined-fs.js";
import {
  mkdirParents,
  removeCreatedDirs,
  writeFileAtomic,
  type WriteAtomicOptions,
} from "../../support/fs-atomic.js";
import { resolveEntry } from "./entry.js";
import { ToolFailure, type ToolContext } from "./types.js";

/** One file of the patch: what it held before, and what it will hold (null: absent). */
export interface FileState {
  readonly abs: string;
  readonly rel: string;
  readonly original: Buffer | null;
  current: Buffer | null;
  mode?: number;
}

/** The file-system calls a commit makes. */
export interface PatchIo {
  writeFile(abs: string, data: Buffer, opts: WriteAtomicOptions): Promise<void>;
  remove(abs: string): Promise<void>;
  mkdirParents(abs: string): Promise<string[]>;
  removeCreatedDirs(dirs: readonly string[]): Promise<void>;
}

/** The confined fs, used by the tool; tests replace members to simulate a failure midway. */
export const patchIo: PatchIo = {
  writeFile: writeFileAtomic,
  remove: (abs) => removeConfined(abs),
  mkdirParents,
  removeCreatedDirs,
};

/** The files a patch has touched so far, by real path (a file touched twice is one state). */
export class PatchFiles {
  private readonly states = new Map<string, FileState>();

  constructor(private readonly ctx: Pick<ToolContext, "workspace" | "config" | "signal">) {}

  /**
   * The state of `userPath`, loaded on first use. `noFollow` (delete, move's source) names the
   * entry itself and refuses a symlink; otherwise a symlink inside the workspace is followed to
   * its target. Either way the path is confined and not protected.
   */
  async load(userPath: string, opts: { noFollow?: boolean } = {}): Promise<FileState> {
    let abs: string;
    let rel: string;
    if (opts.noFollow) {
      const entry = await resolveEntry(this.ctx, userPath);
      if (entry.stats?.isSymbolicLink()) {
        throw new ToolFailure(
          `"${userPath}" is a symlink; apply_patch does not delete or move links: use delete_file. Nothing was written.`,
        );
      }
      ({ abs, rel } = entry);
    } else {
      ({ abs, rel } = await this.ctx.workspace.resolveForWrite(userPath, this.ctx.config, {
        allowMissing: true,
      }));
    }
    const known = this.states.get(abs);
    if (known) return known;
    const loaded = await readConfined(abs, {
      signal: this.ctx.signal,
      check: (st) => {
        if (st.isDirectory())
          throw new ToolFailure(`"${userPath}" is a directory, not a file. Nothing was written.`);
        if (!st.isFile()) throw new ToolFailure(`"${userPath}" is not a regular file. Nothing was written.`);
      },
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
      throw err;
    });
    const original = loaded?.data ?? null;
    const state: FileState = {
      abs,
      rel,
      original,
      current: original,
      ...(loaded ? { mode: loaded.stats.mode & 0o7777 } : {}),
    };
    this.states.set(abs, state);
    return state;
  }

  /** The states whose content changes. */
  changed(): FileState[] {
    return [...this.states.values()].filter((s) => !same(s.original, s.current));
  }
}

function same(a: Buffer | null, b: Buffer | null): boolean {
  return a === b || (a !== null && b !== null && a.equals(b));
}

/**
 * Writes or removes each changed state in order; on a failure undoes those already done, then
 * throws a ToolFailure saying what was restored (or, should an undo fail too, what was not).
 */
export async function commitPatch(
  changed: readonly FileState[],
  io: PatchIo,
  signal: AbortSignal,
): Promise<void> {
  const done: Array<{ state: FileState; createdDirs: string[] }> = [];
  for (const state of changed) {
    let createdDirs: string[] = [];
    try {
      signal.throwIfAborted();
      if (state.current === null) {
        await io.remove(state.abs);
      } else {
        createdDirs = state.original === null ? await io.mkdirParents(state.abs) : [];
        await io.writeFile(state.abs, state.current, {
          signal,
          ...(state.mode !== undefined ? { mode: state.mode } : {}),
          exclusive: state.original === null,
        });
      }
      done.push({ state, createdDirs });
    } catch (err) {
      await io.removeCreatedDirs(createdDirs).catch(() => undefined);
      const notRestored = await undo(done, io);
      const why = signal.aborted ? "the call was cancelled" : (err as Error).message;
      throw new ToolFailure(
        `apply_patch failed while writing "${state.rel}" (${why}); ` +
          (notRestored.length === 0
            ? `the ${done.length} file(s) already written were restored, so nothing changed.`
            : `could NOT restore ${notRestored.map((r) => `"${r}"`).join(", ")}: check them with read_file.`),
        { path: state.rel, rolled_back: done.length - notRestored.length, not_restored: notRestored },
      );
    }
  }
}

/** Undoes committed steps, last first; returns the paths it could not restore. */
async function undo(
  done: ReadonlyArray<{ state: FileState; createdDirs: string[] }>,
  io: PatchIo,
): Promise<string[]> {
  const notRestored: string[] = [];
  for (const { state, createdDirs } of [...done].reverse()) {
    try {
      if (state.original === null) {
        await io.remove(state.abs);
        await io.removeCreatedDirs(createdDirs);
      } else {
        // Not cancellable: the undo must finish even when the call was cancelled.
        await io.writeFile(state.abs, state.original, state.mode !== undefined ? { mode: state.mode } : {});
      }
    } catch {
      notRestored.push(state.rel);
    }
  }
  return notRestored;
}
