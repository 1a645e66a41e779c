/**
 * The journal's vocabulary, shared with the tools (a tool names the paths a call may change) and
 * the dispatcher. No I/O here.
 */

/**
 * A path a tool call may change, as the tool declares it (`ToolDefinition.changes`). The journal
 * resolves it the way the tool will (confined, never through a dangling link) and takes its
 * before-image before the handler runs.
 */
export interface ChangeTarget {
  /** As the caller gave it: relative to the workspace root, or absolute inside it. */
  readonly path: string;
  /** The entry itself, not what a final symlink points to (delete, move source). Default false. */
  readonly entry?: boolean;
  /** A folder here is recorded with everything in it (recursive delete, move, copy). Default false. */
  readonly tree?: boolean;
}

export type ItemKind = "file" | "dir" | "symlink" | "missing";

/** One path's state: enough to tell whether it changed (kind, mode, content hash). */
export interface ItemState {
  /** Relative to the workspace root, `/`-separated. */
  readonly path: string;
  readonly kind: ItemKind;
  /** Permission bits (files and folders). */
  readonly mode?: number;
  /** sha256 of the content (files) or of the link text (symlinks). */
  readonly hash?: string;
  readonly size?: number;
}

/** A before-image: the state plus where its bytes are, or why they were not kept. */
export interface ItemImage extends ItemState {
  /** Offset and length of the content in the record's blob area. */
  readonly blob?: readonly [number, number];
  /** Set when the bytes were not kept (too large, unreadable): the path cannot be undone. */
  readonly notUndoable?: string;
}

/** A root the journal recorded: a path a tool named, or the topmost folder it created. */
export interface RootRecord {
  readonly path: string;
  readonly tree: boolean;
}
