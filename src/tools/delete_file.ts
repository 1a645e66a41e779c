/** delete_file: removes a file, a symlink (never its target) or, with `recursive`, a folder. */
import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { removeConfined } from "../workspace/confined-fs.js";
import { defineTool, textResult, ToolError, type ToolContext } from "./types.js";

export const inputSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "File, symlink or folder to delete, relative to the workspace root.",
    }),
    recursive: Type.Optional(
      Type.Boolean({
        description: "Required to delete a folder: deletes it with everything in it. Default false.",
      }),
    ),
  },
  { additionalProperties: false },
);

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
    throw new ToolError(
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

export const deleteFileTool = defineTool({
  name: "delete_file",
  description:
    "Delete a file or symlink in the workspace (a symlink is removed itself, never its target). " +
    "A folder is deleted, with its contents, only with recursive: true. The workspace root is never deleted.",
  inputSchema,
  annotations: {
    title: "Delete file",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: true,
    openWorldHint: false,
  },
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const entry = await resolveEntry(ctx, args.path, { recursive: args.recursive ?? false });
    if (!entry.stats) {
      throw new ToolError(
        `no such file or folder: "${args.path}" (paths are relative to the workspace root); nothing deleted`,
        {
          path: entry.rel,
        },
      );
    }
    ctx.signal.throwIfAborted();
    let deleted: "file" | "dir" | "symlink";
    // Through a verified handle of the folder: a folder swapped for a link since the check cannot
    // redirect the delete (src/workspace/confined-fs.ts).
    if (entry.stats.isSymbolicLink()) {
      await removeConfined(entry.abs);
      deleted = "symlink";
    } else if (entry.stats.isDirectory()) {
      if (!args.recursive) {
        throw new ToolError(
          `"${args.path}" is a folder: pass recursive: true to delete it with everything in it; nothing deleted`,
          { path: entry.rel, type: "dir" },
        );
      }
      // rm removes symlinks inside the folder as links; it never follows them.
      await removeConfined(entry.abs, { recursive: true });
      deleted = "dir";
    } else {
      await removeConfined(entry.abs);
      deleted = "file";
    }
    const what = deleted === "dir" ? "folder" : deleted;
    return textResult(`Deleted ${what} ${entry.rel}`, { path: entry.rel, deleted });
  },
});
