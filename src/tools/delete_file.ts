/** delete_file: removes a file, a symlink (never its target) or, with `recursive`, a folder. */
import { Type } from "@sinclair/typebox";
import { removeConfined } from "../support/confined-fs.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";
import { resolveEntry } from "./shared/entry.js";

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
  changes: (args) => [{ path: args.path, entry: true, tree: args.recursive === true }],
  async handler(args, ctx) {
    const entry = await resolveEntry(ctx, args.path, { recursive: args.recursive ?? false });
    if (!entry.stats) {
      throw new ToolFailure(
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
        throw new ToolFailure(
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
