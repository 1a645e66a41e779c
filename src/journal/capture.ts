/**
 * Images of the paths a change touches: before a change, each path's kind, mode, content hash and
 * (within the limits) its bytes; after it, the same without the bytes. A folder recorded as a
 * tree is walked without following links, bounded by MAX_TREE_ITEMS. Reads go through a verified
 * folder handle with O_NOFOLLOW (src/support/confined-fs.ts), so a link swapped in cannot make the
 * journal copy a file from outside the workspace (which an undo would then write into it).
 */
import { createHash } from "node:crypto";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import { openConfinedForRead } from "../support/confined-fs.js";
import type { ItemImage, ItemState } from "./types.js";

/** Entries recorded below one folder; a bigger tree is recorded as not undoable. */
export const MAX_TREE_ITEMS = 10_000;
const READ_CHUNK = 1024 * 1024;

export interface ContentLimits {
  /** Files larger than this are recorded without their bytes, as not undoable. */
  readonly maxFileBytes: number;
  /** Bytes of content this entry may still keep (shared by all of its paths). */
  budget: number;
}

/** What a capture collects: the items and, for before-images, the blob area they point into. */
export class Capture {
  readonly items: ItemImage[] = [];
  readonly blobs: Buffer[] = [];
  blobBytes = 0;
  /** A tree held more than MAX_TREE_ITEMS entries: the capture is incomplete. */
  incomplete = false;

  constructor(
    /** Present for before-images: keep the bytes within these limits. */
    readonly content: ContentLimits | undefined,
    /**
     * Files larger than this are identified by size, mtime and inode instead of a content hash
     * (in before and after alike), so a change to a huge file never reads it whole.
     */
    readonly hashLimit: number,
  ) {}

  addBlob(bytes: Buffer): readonly [number, number] {
    const at = [this.blobBytes, bytes.length] as const;
    this.blobs.push(bytes);
    this.blobBytes += bytes.length;
    if (this.content) this.content.budget -= bytes.length;
    return at;
  }
}

function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function lstatOrMissing(abs: string) {
  return lstat(abs).catch((err: unknown) => {
    const code = errnoCode(err);
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw err;
  });
}

/** Reads a regular file through a confined handle: its hash, and its bytes when `keep`. */
async function readFileImage(
  abs: string,
  keep: boolean,
): Promise<{ hash: string; size: number; bytes?: Buffer }> {
  const handle = await openConfinedForRead(abs);
  try {
    const hash = createHash("sha256");
    const chunks: Buffer[] = [];
    let position = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await handle.read(buf, 0, READ_CHUNK, position);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      hash.update(chunk);
      if (keep) chunks.push(chunk);
      position += bytesRead;
    }
    return { hash: hash.digest("hex"), size: position, ...(keep ? { bytes: Buffer.concat(chunks) } : {}) };
  } finally {
    await handle.close();
  }
}

/**
 * Adds the state of `rootAbs` (and, for a folder with `tree`, of everything in it) to `capture`.
 * `rel` turns an absolute path into the workspace-relative name stored in the journal.
 */
export async function captureRoot(
  capture: Capture,
  rootAbs: string,
  tree: boolean,
  rel: (abs: string) => string,
): Promise<void> {
  const stack: string[] = [rootAbs];
  let seen = 0;
  while (stack.length > 0) {
    const abs = stack.pop() as string;
    const st = await lstatOrMissing(abs);
    const name = rel(abs);
    if (!st) {
      capture.items.push({ path: name, kind: "missing" });
      continue;
    }
    if (++seen > MAX_TREE_ITEMS) {
      capture.incomplete = true;
      const root = capture.items.findIndex((i) => i.path === rel(rootAbs));
      if (root >= 0) {
        capture.items[root] = {
          ...capture.items[root]!,
          notUndoable: `the folder holds more than ${MAX_TREE_ITEMS} entries, more than the journal records`,
        };
      }
      return;
    }
    if (st.isSymbolicLink()) {
      const text = await readlink(abs);
      const bytes = Buffer.from(text, "utf8");
      const hash = createHash("sha256").update(bytes).digest("hex");
      capture.items.push({
        path: name,
        kind: "symlink",
        hash,
        size: bytes.length,
        ...(capture.content ? { blob: capture.addBlob(bytes) } : {}),
      });
    } else if (st.isDirectory()) {
      capture.items.push({ path: name, kind: "dir", mode: st.mode & 0o7777 });
      if (tree) {
        const names = (await readdir(abs)).sort().reverse();
        for (const child of names) stack.push(path.join(abs, child));
      }
    } else if (st.isFile()) {
      const limits = capture.content;
      const tooBig = limits !== undefined && st.size > limits.maxFileBytes;
      const overBudget = limits !== undefined && !tooBig && st.size > limits.budget;
      const keep = limits !== undefined && !tooBig && !overBudget;
      const image =
        st.size > capture.hashLimit
          ? { hash: `stat:${st.size}:${st.mtimeMs}:${st.ino}`, size: st.size }
          : await readFileImage(abs, keep);
      const base = {
        path: name,
        kind: "file" as const,
        mode: st.mode & 0o7777,
        hash: image.hash,
        size: image.size,
      };
      if (tooBig) {
        capture.items.push({
          ...base,
          notUndoable: `it was ${st.size} bytes, above [journal] max_file_bytes (${limits.maxFileBytes})`,
        });
      } else if (overBudget) {
        capture.items.push({
          ...base,
          notUndoable: "the change was larger than one journal entry may hold ([journal] max_bytes / 4)",
        });
      } else {
        capture.items.push({ ...base, ...(image.bytes ? { blob: capture.addBlob(image.bytes) } : {}) });
      }
    } else {
      capture.items.push({
        path: name,
        kind: "file",
        notUndoable: "it is not a regular file, folder or symlink (a device, socket or FIFO)",
      });
    }
  }
}

/** The state alone, as compared and stored after a change. */
export function stateOf(item: ItemState): ItemState {
  return {
    path: item.path,
    kind: item.kind,
    ...(item.mode !== undefined ? { mode: item.mode } : {}),
    ...(item.hash !== undefined ? { hash: item.hash } : {}),
    ...(item.size !== undefined ? { size: item.size } : {}),
  };
}

function sameItem(a: ItemState | undefined, b: ItemState | undefined): boolean {
  const ak = a?.kind ?? "missing";
  const bk = b?.kind ?? "missing";
  if (ak !== bk) return false;
  if (ak === "missing") return true;
  return a!.hash === b!.hash && a!.mode === b!.mode;
}

/**
 * The first path whose state differs between two captures (a path absent from one is "missing"
 * there), or undefined when they are the same.
 */
export function firstDifference(a: readonly ItemState[], b: readonly ItemState[]): string | undefined {
  const left = new Map(a.map((i) => [i.path, i]));
  const right = new Map(b.map((i) => [i.path, i]));
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  return paths.find((p) => !sameItem(left.get(p), right.get(p)));
}

/** True when `item` is `root` or below it. */
export function isUnder(root: string, item: string): boolean {
  return item === root || item.startsWith(`${root}/`);
}
