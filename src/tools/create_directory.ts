/** create_directory: makes a folder and any missing parents (`mkdir -p`), confined. */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { mkdirParents } from "../support/fs-atomic.js";
import { isWithin } from "../workspace/workspace.js";
import { assertNoFileAbove } from "./shared/transfer.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";

export const inputSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "Folder to create, relative to the workspace root. Missing parents are created too.",
    }),
  },
  { additionalProperties: false },
);

export const createDirectoryTool = defineTool({
  name: "create_directory",
  aliases: ["mkdir"],
  description:
    "Create a folder in the workspace, with any missing parent folders. A folder that already exists is fine " +
    "(nothing changes, created: false); a file in the way is an error.",
  inputSchema,
  example: { path: "src/components/forms" },
  annotations: {
    title: "Create directory",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  argumentAliases: { dir_path: "path", directory: "path" },
  // The topmost folder the call will create, with what goes below it, so an undo removes the
  // parents it made too.
  async changes(args, ctx) {
    let top = path.resolve(ctx.workspace.root, args.path);
    for (
      let up = path.dirname(top);
      up !== top && isWithin(ctx.workspace.root, up) && up !== ctx.workspace.root;
      up = path.dirname(up)
    ) {
      if (
        await lstat(up).then(
          () => true,
          () => false,
        )
      )
        break;
      top = up;
    }
    return [{ path: top, entry: true, tree: true }];
  },
  async handler(args, ctx) {
    // Confined, not protected, never through a dangling link; a link to a folder inside is followed.
    const target = await ctx.workspace.resolveForWrite(args.path, ctx.config, { allowMissing: true });
    if (target.exists) {
      const st = await lstat(target.abs);
      if (!st.isDirectory()) {
        throw new ToolFailure(`"${args.path}" already exists and is not a folder; nothing created`, {
          path: target.rel,
        });
      }
      return textResult(`Folder ${target.rel} already exists; nothing created`, {
        path: target.rel,
        created: false,
        created_dirs: [],
      });
    }
    await assertNoFileAbove(ctx, target.abs);
    ctx.signal.throwIfAborted();
    // mkdirParents makes every missing folder above a path, each through a verified handle of its
    // parent: given a name inside the new folder, that is the folder and its parents.
    const created = await mkdirParents(path.join(target.abs, "entry"));
    const rels = created.map((d) => ctx.workspace.relative(d));
    return textResult(
      `Created folder ${target.rel}${rels.length > 1 ? ` (and ${rels.length - 1} parent${rels.length === 2 ? "" : "s"})` : ""}`,
      { path: target.rel, created: true, created_dirs: rels },
    );
  },
});
