/**
 * file_info: what an entry is without reading it whole into the conversation: type, size, mtime,
 * mode; for a text file its line count and sha256 (memoized on the file cache, as read_file's);
 * for a symlink its target when that is inside the workspace.
 */
import type { Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { isWithin } from "../workspace/workspace.js";
import { DEFAULT_MAX_BYTES } from "./shared/limits.js";
import { memoBinary, memoLines, memoSha256 } from "./shared/file-facts.js";
import { defineTool, textResult, ToolFailure, type ToolContext } from "./shared/types.js";
import { readOnlyAnnotations } from "./shared/annotations.js";

export const inputSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "File, folder or symlink, relative to the workspace root.",
    }),
  },
  { additionalProperties: false },
);

type Facts = Record<string, unknown>;

function typeOf(st: Stats): string {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  return "device";
}

function basics(st: Stats): Facts {
  return {
    type: typeOf(st),
    size: st.size,
    mtime: st.mtime.toISOString(),
    mode: `0${(st.mode & 0o7777).toString(8).padStart(3, "0")}`,
  };
}

/** sha256 of a regular file, and its line count when it is text; read through the file cache. */
async function contentFacts(ctx: ToolContext, abs: string, size: number): Promise<Facts> {
  if (size > DEFAULT_MAX_BYTES) return { hashed: false };
  return ctx.files.read(
    abs,
    (data, _key, memo) => {
      const sha256 = memoSha256(data, memo);
      if (memoBinary(data, memo)) return { binary: true, sha256 };
      return { binary: false, lines: memoLines(data.toString("utf8"), memo), sha256 };
    },
    { maxBytes: DEFAULT_MAX_BYTES, pool: ctx.pool, signal: ctx.signal },
  );
}

async function describe(ctx: ToolContext, abs: string, st: Stats): Promise<Facts> {
  const facts = basics(st);
  if (st.isFile()) return { ...facts, ...(await contentFacts(ctx, abs, st.size)) };
  if (st.isDirectory()) return { ...facts, entries: (await readdir(abs)).length };
  return facts;
}

function render(rel: string, f: Facts): string {
  const parts = [
    `${rel}: ${f.type as string}`,
    `${f.size as number} bytes`,
    `mode ${f.mode as string}`,
    `modified ${f.mtime as string}`,
  ];
  if (typeof f.lines === "number") parts.push(`${f.lines} lines`);
  if (f.binary === true) parts.push("binary");
  if (typeof f.entries === "number") parts.push(`${f.entries} entries`);
  if (typeof f.sha256 === "string") parts.push(`sha256 ${f.sha256}`);
  if (typeof f.target === "string") parts.push(`-> ${f.target}`);
  else if (f.target_inside === false) parts.push("-> (outside the workspace)");
  else if (f.target_exists === false) parts.push("-> (dangling)");
  return parts.join(", ");
}

export const fileInfoTool = defineTool({
  name: "file_info",
  aliases: ["get_file_info"],
  description:
    "Facts about a file, folder or symlink without reading it: type, size, mtime, mode; for a text file its line " +
    "count and sha256 (the sha256 edit_file's expected_sha256 takes); for a folder its number of entries; for a " +
    "symlink its target, when that is inside the workspace.",
  inputSchema,
  example: { path: "package.json" },
  annotations: readOnlyAnnotations("File info"),
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const root = ctx.workspace.root;
    const lexical = path.resolve(root, args.path);
    if (lexical === root) {
      const st = await stat(root);
      const facts = { path: ".", ...(await describe(ctx, root, st)) };
      return textResult(render(".", facts), facts);
    }
    // The folder holding the entry is resolved (confined); the entry itself is not followed.
    const folder = await ctx.workspace.resolve(path.dirname(lexical));
    const abs = path.join(folder.abs, path.basename(lexical));
    const rel = ctx.workspace.relative(abs);
    const st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") {
        throw new ToolFailure(
          `no such file or directory: "${args.path}" (paths are relative to the workspace root)`,
          {
            path: rel,
          },
        );
      }
      throw err;
    });
    if (!st.isSymbolicLink()) {
      const facts = { path: rel, ...(await describe(ctx, abs, st)) };
      return textResult(render(rel, facts), facts);
    }
    const facts: Facts = { path: rel, ...basics(st) };
    const real = await realpath(abs).catch(() => undefined);
    if (real === undefined) facts.target_exists = false;
    else if (!isWithin(root, real)) facts.target_inside = false;
    else {
      const targetStats = await stat(real);
      facts.target = ctx.workspace.relative(real);
      facts.target_type = typeOf(targetStats);
      if (targetStats.isFile()) Object.assign(facts, { target_size: targetStats.size });
    }
    return textResult(render(rel, facts), facts);
  },
});
