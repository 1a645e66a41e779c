/** read_file: a slice of a text file by lines, read through the memory pool. */
import { createHash } from "node:crypto";
import { Type } from "@sinclair/typebox";
import { lineWindow, looksBinary } from "../support/text.js";
import { DEFAULT_MAX_BYTES } from "./shared/limits.js";
import { defineTool, textResult, ToolFailure, type ToolContext } from "./shared/types.js";
import { FileTooLargeError, type FileCache } from "../cache/file-cache.js";

export const DEFAULT_LINE_LIMIT = 2000;

export const inputSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "File path, relative to the workspace root." }),
    offset: Type.Optional(
      Type.Integer({ minimum: 1, description: "First line to return, 1-based. Default 1." }),
    ),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, description: `Lines to return. Default ${DEFAULT_LINE_LIMIT}.` }),
    ),
    max_bytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Refuse files larger than this many bytes. Default ${DEFAULT_MAX_BYTES}.`,
      }),
    ),
  },
  { additionalProperties: false },
);

async function readCached(
  files: FileCache,
  abs: string,
  rel: string,
  input: string,
  maxBytes: number,
  ctx: ToolContext,
): Promise<{ text: string; size: number; sha256: string }> {
  try {
    return await files.read(
      abs,
      (data, _key, memo) => {
        if (looksBinary(data)) {
          throw new ToolFailure(
            `"${input}" looks like a binary file (it contains NUL bytes); read_file reads text only`,
            {
              path: rel,
              bytes: data.length,
              binary: true,
            },
          );
        }
        return {
          text: data.toString("utf8"),
          size: data.length,
          // Memoized on the cache entry: a hit costs no hash (the entry dies with its content).
          sha256:
            (memo?.sha256 as string | undefined) ??
            (memo ? (memo.sha256 = sha256Hex(data)) : sha256Hex(data)),
        };
      },
      { maxBytes, pool: ctx.pool, signal: ctx.signal },
    );
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      throw new ToolFailure(
        `"${input}" is ${err.size} bytes, over max_bytes ${maxBytes}: raise max_bytes, or use grep_file to find the part you need`,
        { path: rel, bytes: err.size, max_bytes: maxBytes },
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new ToolFailure(`"${input}" is a directory: use list_files to list it`);
    if (code === "EINVAL") throw new ToolFailure(`"${input}" is not a regular file`);
    throw err;
  }
}

function sha256Hex(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export const readFileTool = defineTool({
  name: "read_file",
  description:
    "Read a text file in the workspace. Returns lines [offset, offset+limit) with their original line endings; " +
    "`has_more` and `next_offset` say how to continue.",
  inputSchema,
  annotations: {
    title: "Read file",
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  },
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const target = await ctx.workspace.resolve(args.path);
    const maxBytes = args.max_bytes ?? DEFAULT_MAX_BYTES;
    // The shared content cache, validated by stat on every call; files it does not keep are
    // read through the memory pool (src/cache/file-cache.ts).
    const { text, size, sha256 } = await readCached(
      ctx.files,
      target.abs,
      target.rel,
      args.path,
      maxBytes,
      ctx,
    );
    const offset = args.offset ?? 1;
    const limit = args.limit ?? DEFAULT_LINE_LIMIT;
    const { content, totalLines, endLine } = lineWindow(text, offset, limit);
    if (offset > Math.max(totalLines, 1)) {
      throw new ToolFailure(
        `offset ${offset} is past the end of "${args.path}", which has ${totalLines} lines`,
        { path: target.rel, total_lines: totalLines },
      );
    }
    const hasMore = endLine < totalLines;
    return textResult(content, {
      path: target.rel,
      content,
      start_line: offset,
      end_line: endLine,
      total_lines: totalLines,
      has_more: hasMore,
      ...(hasMore ? { next_offset: endLine + 1 } : {}),
      bytes: size,
      sha256,
    });
  },
});
