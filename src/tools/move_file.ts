/** move_file: renames a file, symlink or folder inside the workspace, atomically (rename(2)). */
import path from "node:path";
import { removeCreatedDirs } from "../support/fs-atomic.js";
import { renameConfined } from "../support/confined-fs.js";
import { resolveEntry } from "./shared/entry.js";
import {
  kindOf,
  makeParents,
  resolveDestination,
  transferFailure,
  transferSchema,
  TRANSFER_ALIASES,
} from "./shared/transfer.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";

export const inputSchema = transferSchema("move");

export const moveFileTool = defineTool({
  name: "move_file",
  aliases: ["rename_file"],
  description:
    "Move or rename a file, symlink or folder inside the workspace (one atomic rename; a symlink moves itself, never " +
    "its target). destination is the new path. An existing destination is refused unless overwrite: true (files and " +
    "empty folders only). Missing parent folders are created. Protected paths cannot be moved or replaced.",
  inputSchema,
  example: { source: "src/old_name.ts", destination: "src/new_name.ts" },
  annotations: {
    title: "Move file",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  argumentAliases: TRANSFER_ALIASES,
  // Both ends, each as the entry itself and with what is below it, so an undo restores both.
  changes: (args) => [
    { path: args.source, entry: true, tree: true },
    { path: args.destination, entry: true, tree: true },
  ],
  async handler(args, ctx) {
    if (path.resolve(ctx.workspace.root, args.source) === ctx.workspace.root) {
      throw new ToolFailure(
        `"${args.source}" is the workspace root; it cannot be moved: name a file or folder inside it`,
      );
    }
    // The entry itself (a link is moved, not followed); with everything below it checked against
    // protected_paths, since moving a folder moves what is in it.
    const src = await resolveEntry(ctx, args.source, { recursive: true });
    if (!src.stats) {
      throw new ToolFailure(
        `no such file or folder: "${args.source}" (paths are relative to the workspace root); nothing moved`,
      );
    }
    const kind = kindOf(src.stats);
    if (!kind)
      throw new ToolFailure(
        `"${args.source}" is a device, socket or FIFO; move_file moves files, links and folders`,
      );
    const overwrite = args.overwrite ?? false;
    const dest = await resolveDestination(
      ctx,
      args.destination,
      { abs: src.abs, rel: src.rel, kind },
      overwrite,
      "move",
    );
    ctx.signal.throwIfAborted();
    const created = await makeParents(dest);
    try {
      await renameConfined(src.abs, dest.abs, { noReplace: !overwrite, isDir: kind === "dir" });
    } catch (err) {
      await removeCreatedDirs(created);
      throw transferFailure(err, src.rel, dest.rel, "move");
    }
    const what = kind === "dir" ? "folder" : kind;
    const replaced = dest.existing !== undefined;
    return textResult(
      `Moved ${what} ${src.rel} to ${dest.rel}${replaced ? " (replaced what was there)" : ""}`,
      {
        source: src.rel,
        destination: dest.rel,
        type: kind,
        overwritten: replaced,
      },
    );
  },
});
