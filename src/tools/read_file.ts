/**
 * read_file: a slice of a text file by lines (offset/limit, head, tail), optionally with Codex's
 * `L12: ` line numbers, long lines cut with a marker; or several files in one call (`reads`).
 * The text is returned once, in `content[0].text`; `structuredContent` carries only the facts about
 * it (lines, paging, size, sha256).
 */
import { Type, type Static } from "@sinclair/typebox";
import { DEFAULT_MAX_BYTES } from "./shared/limits.js";
import { memoBinary, memoLines, memoSha256 } from "./shared/file-facts.js";
import { PathError } from "../support/path-error.js";
import {
  ArgumentError,
  defineTool,
  errorResult,
  textResult,
  ToolFailure,
  type ToolContext,
} from "./shared/types.js";
import { FileTooLargeError, type FileCache } from "../cache/file-cache.js";
import { readOnlyAnnotations } from "./shared/annotations.js";

export const DEFAULT_LINE_LIMIT = 2000;
export const DEFAULT_MAX_LINE_CHARS = 2000;
/** Files one `reads` batch may name: enough for an agent's context, bounded for the daemon. */
export const MAX_BATCH_READS = 100;
/** Files of one batch read at once. */
const BATCH_CONCURRENCY = 8;

const lineCount = (what: string) => Type.Integer({ minimum: 1, description: what });

const ReadItem = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "File path, relative to the workspace root." }),
    offset: Type.Optional(lineCount("First line to return, 1-based. Default 1.")),
    limit: Type.Optional(lineCount(`Lines to return. Default ${DEFAULT_LINE_LIMIT}.`)),
    head: Type.Optional(lineCount("Return the first N lines.")),
    tail: Type.Optional(lineCount("Return the last N lines.")),
  },
  { additionalProperties: false },
);

export const inputSchema = Type.Object(
  {
    path: Type.Optional(
      Type.String({
        minLength: 1,
        description: "File path, relative to the workspace root. Required unless `reads` is given.",
      }),
    ),
    offset: Type.Optional(lineCount("First line to return, 1-based. Default 1.")),
    limit: Type.Optional(lineCount(`Lines to return. Default ${DEFAULT_LINE_LIMIT}.`)),
    head: Type.Optional(lineCount("Return the first N lines (instead of offset/limit).")),
    tail: Type.Optional(lineCount("Return the last N lines (instead of offset/limit).")),
    line_numbers: Type.Optional(
      Type.Boolean({
        description:
          "Prefix every line with its number as `L12: ` (Codex's format). edit_file strips these prefixes from old_str. Default false.",
      }),
    ),
    max_line_chars: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: `Cut lines longer than this many characters, with a marker saying how to get the rest. 0: never cut. Default ${DEFAULT_MAX_LINE_CHARS}.`,
      }),
    ),
    max_bytes: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: `Refuse files larger than this many bytes. Default ${DEFAULT_MAX_BYTES}.`,
      }),
    ),
    reads: Type.Optional(
      Type.Array(ReadItem, {
        minItems: 1,
        maxItems: MAX_BATCH_READS,
        description: `Several files in one call (at most ${MAX_BATCH_READS}), each {path, offset?, limit?, head?, tail?}; each result is separate and one failing file does not fail the others. line_numbers, max_line_chars and max_bytes apply to all.`,
      }),
    ),
  },
  { additionalProperties: false },
);

type Args = Static<typeof inputSchema>;
type Range = Pick<Static<typeof ReadItem>, "offset" | "limit" | "head" | "tail">;

interface FileText {
  text: string;
  size: number;
  sha256: string;
  /** Line count (a last line without a newline counts). */
  lines: number;
}

async function readCached(
  files: FileCache,
  abs: string,
  rel: string,
  input: string,
  maxBytes: number,
  ctx: ToolContext,
): Promise<FileText> {
  try {
    return await files.read(
      abs,
      (data, _key, memo) => {
        if (memoBinary(data, memo)) {
          throw new ToolFailure(
            `"${input}" looks like a binary file (it contains NUL bytes); read_file reads text only`,
            { path: rel, bytes: data.length, binary: true },
          );
        }
        const text = data.toString("utf8");
        return { text, size: data.length, sha256: memoSha256(data, memo), lines: memoLines(text, memo) };
      },
      {
        maxBytes,
        pool: ctx.pool,
        // Only a read from the disk looks at it: a cached read does not make the call's signal.
        get signal() {
          return ctx.signal;
        },
      },
    );
  } catch (err) {
    if (err instanceof FileTooLargeError) {
      throw new ToolFailure(
        `"${input}" is ${err.size} bytes, over max_bytes ${maxBytes}: raise max_bytes, read a part with head/tail/offset, or use grep_file to find the part you need`,
        { path: rel, bytes: err.size, max_bytes: maxBytes },
      );
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new ToolFailure(`"${input}" is a directory: use list_files to list it`);
    if (code === "EINVAL") throw new ToolFailure(`"${input}" is not a regular file`);
    throw err;
  }
}

/** The offset where the `line`-th line (1-based) counted from `from` starts; text.length past the end. */
function lineStart(text: string, line: number, from = 0): number {
  let pos = from;
  for (let n = 1; n < line; n++) {
    const nl = text.indexOf("\n", pos);
    if (nl === -1) return text.length;
    pos = nl + 1;
  }
  return pos;
}

/** Refuses ranges whose arguments contradict each other, before anything is read. */
function checkRange(range: Range, prefix: string): void {
  if (range.head !== undefined && range.tail !== undefined) {
    throw new ArgumentError(`${prefix}tail`, `${prefix}head and ${prefix}tail both given: give one of them`);
  }
  const paging = range.offset !== undefined ? "offset" : range.limit !== undefined ? "limit" : undefined;
  const ends = range.head !== undefined ? "head" : range.tail !== undefined ? "tail" : undefined;
  if (paging && ends) {
    throw new ArgumentError(
      `${prefix}${ends}`,
      `${prefix}${ends} and ${prefix}${paging} both choose the lines: give ${ends}, or offset/limit`,
    );
  }
}

/** Which lines a (checked) range asks for: [first, first + count). */
function lineWindow(
  range: Range,
  total: number,
  input: string,
  rel: string,
): { first: number; count: number } {
  if (range.head !== undefined) return { first: 1, count: range.head };
  if (range.tail !== undefined) {
    const count = Math.min(range.tail, total);
    return { first: total - count + 1, count };
  }
  const first = range.offset ?? 1;
  if (first > Math.max(total, 1)) {
    throw new ToolFailure(`offset ${first} is past the end of "${input}", which has ${total} lines`, {
      path: rel,
      total_lines: total,
    });
  }
  return { first, count: range.limit ?? DEFAULT_LINE_LIMIT };
}

interface Rendered {
  text: string;
  /** Lines whose text was cut at max_line_chars. */
  cut: number[];
}

/** The lines of `slice` (starting at line `first`), with numbers and cuts as asked. */
function render(slice: string, first: number, lineNumbers: boolean, maxChars: number): Rendered {
  if (!lineNumbers && (maxChars === 0 || slice.length <= maxChars)) return { text: slice, cut: [] };
  const out: string[] = [];
  const cut: number[] = [];
  let line = first;
  let pos = 0;
  while (pos < slice.length) {
    const nl = slice.indexOf("\n", pos);
    const end = nl === -1 ? slice.length : nl + 1;
    const eolLength = nl === -1 ? 0 : nl > pos && slice[nl - 1] === "\r" ? 2 : 1;
    let body = slice.slice(pos, end - eolLength);
    const eol = slice.slice(end - eolLength, end);
    if (maxChars > 0 && body.length > maxChars) {
      const whole = body.length;
      body =
        `${body.slice(0, maxChars)} … [line ${line} cut: ${maxChars} of ${whole} characters shown; ` +
        `read it with max_line_chars: 0 (or a larger value), or grep_file for the part you need]`;
      cut.push(line);
    }
    out.push(lineNumbers ? `L${line}: ${body}${eol}` : `${body}${eol}`);
    line++;
    pos = end;
  }
  return { text: out.join(""), cut };
}

interface OneRead {
  text: string;
  facts: Record<string, unknown>;
}

async function readOne(path: string, range: Range, args: Args, ctx: ToolContext): Promise<OneRead> {
  const target = await ctx.workspace.resolve(path);
  const maxBytes = args.max_bytes ?? DEFAULT_MAX_BYTES;
  // The shared content cache, validated by stat on every call; files it does not keep are
  // read through the memory pool (src/cache/file-cache.ts).
  const file = await readCached(ctx.files, target.abs, target.rel, path, maxBytes, ctx);
  const { first, count } = lineWindow(range, file.lines, path, target.rel);
  // Only the lines asked for are sliced: a `limit: 5` read of a large file does not split it all.
  const start = lineStart(file.text, first);
  const end = lineStart(file.text, count + 1, start);
  const endLine = Math.min(first - 1 + count, file.lines);
  const hasMore = endLine < file.lines;
  const { text, cut } = render(
    file.text.slice(start, end),
    first,
    args.line_numbers ?? false,
    args.max_line_chars ?? DEFAULT_MAX_LINE_CHARS,
  );
  return {
    text,
    facts: {
      path: target.rel,
      start_line: first,
      end_line: endLine,
      total_lines: file.lines,
      has_more: hasMore,
      ...(hasMore ? { next_offset: endLine + 1 } : {}),
      ...(cut.length > 0 ? { cut_lines: cut } : {}),
      bytes: file.size,
      sha256: file.sha256,
    },
  };
}

/** Several files: each one's text under a `==> path <==` header (as `head` prints them). */
async function readBatch(args: Args, ctx: ToolContext) {
  const reads = args.reads!;
  const readOrError = async (item: (typeof reads)[number]) => {
    try {
      return await readOne(item.path, item, args, ctx);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      if (!(err instanceof ToolFailure || err instanceof PathError)) {
        const code = (err as NodeJS.ErrnoException).code;
        if (typeof code !== "string") throw err;
      }
      return { error: (err as Error).message, path: item.path };
    }
  };
  // A few at a time: up to 100 files of up to max_bytes each must not all be in memory at once.
  const results: Awaited<ReturnType<typeof readOrError>>[] = [];
  for (let i = 0; i < reads.length; i += BATCH_CONCURRENCY) {
    results.push(...(await Promise.all(reads.slice(i, i + BATCH_CONCURRENCY).map(readOrError))));
  }
  const sections: string[] = [];
  const files: Record<string, unknown>[] = [];
  for (const r of results) {
    if ("error" in r) {
      sections.push(`==> ${r.path} <==\n[error] ${r.error}\n`);
      files.push({ path: r.path, error: r.error });
    } else {
      const body = r.text.length === 0 || r.text.endsWith("\n") ? r.text : `${r.text}\n`;
      sections.push(`==> ${r.facts.path as string} <==\n${body}`);
      files.push(r.facts);
    }
  }
  const failed = files.filter((f) => "error" in f).length;
  const facts = { files, read: files.length - failed, failed };
  const text = sections.join("\n");
  return failed === files.length ? errorResult(text, facts) : textResult(text, facts);
}

export const readFileTool = defineTool({
  name: "read_file",
  description:
    "Read a text file in the workspace. Returns lines [offset, offset+limit) with their original line endings, or " +
    "the first (head) or last (tail) N lines; `has_more` and `next_offset` say how to continue. line_numbers: true " +
    "prefixes `L12: `. Lines over max_line_chars (2000) are cut with a marker. `reads` reads several files in one call.",
  inputSchema,
  example: { path: "src/main.ts", offset: 1, limit: 200 },
  annotations: readOnlyAnnotations("Read file"),
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    if (args.reads !== undefined) {
      const stray = (["path", "offset", "limit", "head", "tail"] as const).filter(
        (k) => args[k] !== undefined,
      );
      if (stray.length > 0) {
        throw new ArgumentError(
          stray[0]!,
          `reads (several files) and ${stray.join(", ")} (one file) both given: put ${stray.join(", ")} into the items of reads`,
        );
      }
      args.reads.forEach((item, i) => checkRange(item, `reads[${i}].`));
      return readBatch(args, ctx);
    }
    if (args.path === undefined) {
      throw new ArgumentError("path", 'missing required argument "path" (or "reads" for several files)');
    }
    checkRange(args, "");
    const { text, facts } = await readOne(args.path, args, args, ctx);
    return textResult(text, facts);
  },
});
