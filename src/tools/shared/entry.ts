/** Resolving an entry for removal or move: its own name never followed. */
import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { ToolFailure, type ToolContext } from "./types.js";

export interface EntryPath {
  /** Absolute path of the entry itself: its folder realpathed, its own name not followed. */
  abs: string;
  rel: string;
  /** lstat of the entry; undefined when it does not exist. */
  stats: Stats | undefined;
}

/**
 * Resolves a path for removal WITHOUT following its last component (a symlink names the link),
 * through `workspace.resolveForWrite`: confined, never the root, not covered by
 * `[tools] protected_paths` (with `recursive`, nothing protected below it either).
 */
export async function resolveEntry(
  ctx: Pick<ToolContext, "workspace" | "config">,
  input: string,
  opts: { recursive?: boolean } = {},
): Promise<EntryPath> {
  if (path.resolve(ctx.workspace.root, input) === ctx.workspace.root) {
    throw new ToolFailure(
      `"${input}" is the workspace root; it cannot be deleted: name a file or folder inside it`,
    );
  }
  const target = await ctx.workspace.resolveForWrite(input, ctx.config, {
    allowMissing: true,
    followSymlink: false,
    recursive: opts.recursive ?? false,
  });
  const stats = await lstat(target.abs).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
    throw err;
  });
  return { abs: target.abs, rel: target.rel, stats };
}
