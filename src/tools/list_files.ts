/** list_files: the entries of a folder in the workspace, optionally recursive. */
import { opendir } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { defineTool, textResult, ToolError } from "./types.js";

export const DEFAULT_MAX_ITEMS = 1000;

export const inputSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ description: 'Folder, relative to the workspace root. Default ".".' })),
    recursive: Type.Optional(Type.Boolean({ description: "List every file below the folder. Default false." })),
    max_items: Type.Optional(
      Type.Integer({ minimum: 1, description: `Most entries to return. Default ${DEFAULT_MAX_ITEMS}.` }),
    ),
  },
  { additionalProperties: false },
);

interface Entry {
  path: string;
  type: "file" | "dir" | "symlink" | "other";
}

/** Folders never worth walking into. */
const SKIPPED_DIRS = new Set([".git", "node_modules"]);

export const listFilesTool = defineTool({
  name: "list_files",
  description:
    "List the files and folders in a workspace folder (sorted; folders end with /). With `recursive`, every file below it.",
  inputSchema,
  annotations: { title: "List files", readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const target = await ctx.workspace.resolve(args.path ?? ".");
    const maxItems = args.max_items ?? DEFAULT_MAX_ITEMS;
    const entries: Entry[] = [];
    const walk = async (absDir: string): Promise<void> => {
      ctx.signal.throwIfAborted();
      let dir;
      try {
        dir = await opendir(absDir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOTDIR") {
          throw new ToolError(`"${args.path}" is a file, not a folder: use read_file to read it`);
        }
        throw err;
      }
      const children: Entry[] = [];
      for await (const dirent of dir) {
        const abs = path.join(absDir, dirent.name);
        const type = dirent.isDirectory()
          ? "dir"
          : dirent.isFile()
            ? "file"
            : dirent.isSymbolicLink()
              ? "symlink"
              : "other";
        children.push({ path: ctx.workspace.relative(abs), type });
      }
      children.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      for (const child of children) {
        if (!args.recursive || child.type !== "dir") entries.push(child);
        // Symlinks are listed, never descended into: they may lead out of the workspace.
        if (args.recursive && child.type === "dir" && !SKIPPED_DIRS.has(path.basename(child.path))) {
          await walk(path.join(ctx.workspace.root, child.path));
        }
      }
    };
    await walk(target.abs);
    const total = entries.length;
    const shown = entries.slice(0, maxItems);
    const text = shown.map((e) => (e.type === "dir" ? `${e.path}/` : e.path)).join("\n");
    return textResult(text, {
      path: target.rel,
      items: shown,
      total,
      has_more: total > shown.length,
    });
  },
});
