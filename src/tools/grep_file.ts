/**
 * grep_file (alias grep_search): search file contents in the workspace with ripgrep's semantics,
 * on a linear-time regex engine, reading files through the memory pool.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { clipLine as clip, displayLine, limitScan, MAX_SEARCH_FILE_BYTES } from "../search/file-search.js";
import { UnknownFileTypeError } from "../search/file-types.js";
import type { WalkEntry, WalkOptions } from "../search/walk.js";
import type { TreeSource } from "../search/tree-source.js";
import { searchTrees } from "./shared/trees.js";
import { GlobError } from "../support/glob.js";
import { PatternError } from "../search/matcher.js";
import { compileQuery, type SearchQuery } from "../search/query.js";
import { defineTool, errorResult, textResult, ToolFailure, type ToolContext } from "./shared/types.js";
import { readOnlyAnnotations } from "./shared/annotations.js";

export const DEFAULT_MAX_RESULTS = 200;
export const MAX_MAX_RESULTS = 10_000;
export const MAX_CONTEXT_LINES = 50;
/**
 * After `max_results`, matches are still counted (not returned) up to this total (or
 * max_results + 1 when larger), so `total_matches` is exact for moderate counts and a lower
 * bound (`total_matches_is_lower_bound`) beyond, without scanning a whole huge tree.
 */
export const COUNT_LIMIT = 1000;
export const inputSchema = Type.Object(
  {
    pattern: Type.String({
      minLength: 1,
      description: "What to search for: a regex (RE2/ripgrep syntax) unless `literal` is true.",
    }),
    path: Type.Optional(
      Type.String({ description: 'File or folder to search, relative to the workspace root. Default ".".' }),
    ),
    literal: Type.Optional(
      Type.Boolean({ description: "Treat `pattern` as plain text (rg -F). Default false." }),
    ),
    case_sensitive: Type.Optional(
      Type.Boolean({
        description:
          "true: case-sensitive (rg -s); false: case-insensitive (rg -i). Default: smart case, i.e. case-insensitive when the pattern has a literal character and no uppercase one (rg -S).",
      }),
    ),
    glob_pattern: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Only search files matching this glob (rg -g): matched against the path relative to `path`; a glob without "/" matches the file name at any depth (e.g. "*.ts"), "src/**/*.ts" is anchored; a leading "!" excludes. It overrides ignore files and hidden-ness, as in rg.',
      }),
    ),
    context_lines: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_CONTEXT_LINES,
        description: "Lines of context before and after each match (rg -C). Default 0.",
      }),
    ),
    max_results: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_MAX_RESULTS,
        description: `Most matches (or files, with files_with_matches) to return. Default ${DEFAULT_MAX_RESULTS}; \`truncated\` says when there were more.`,
      }),
    ),
    files_with_matches: Type.Optional(
      Type.Boolean({ description: "Return only the paths of files that match (rg -l). Default false." }),
    ),
    word_boundaries: Type.Optional(
      Type.Boolean({ description: "Only match whole words (rg -w). Default false." }),
    ),
    include_hidden: Type.Optional(
      Type.Boolean({
        description: "Also search dot-files and dot-folders (rg --hidden; never .git). Default false.",
      }),
    ),
    respect_ignore_files: Type.Optional(
      Type.Boolean({
        description:
          "Skip what .gitignore, .ignore, .rgignore and .git/info/exclude exclude. Default true (false = rg --no-ignore).",
      }),
    ),
    type: Type.Optional(
      Type.Union(
        [Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 32 })],
        {
          description:
            'Only search files of these ripgrep types (rg -t): "ts", "py", "rust", "go", "c", "cpp", "java", "md", "json", … (`rg --type-list`). A string or a list.',
        },
      ),
    ),
    exclude: Type.Optional(
      Type.Union(
        [Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })],
        {
          description:
            'Globs of files and folders not to search (rg -g \'!GLOB\'), e.g. "*.min.js" or "vendor/**". A string or a list.',
        },
      ),
    ),
    invert_match: Type.Optional(
      Type.Boolean({
        description:
          "Return the lines that do NOT match (rg -v); each such line is one result, column 1. Default false.",
      }),
    ),
    max_file_size: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: `Skip files larger than this many bytes (rg --max-filesize); they count as skipped.too_large. Default ${MAX_SEARCH_FILE_BYTES}.`,
      }),
    ),
    only_matching: Type.Optional(
      Type.Boolean({
        description:
          "Each result's text is the matched part only, not the whole line (rg -o). Default false.",
      }),
    ),
  },
  { additionalProperties: false },
);

function listOf(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export interface GrepResult {
  path: string;
  line: number;
  column: number;
  text: string;
  before: string[];
  after: string[];
}

function joinRel(base: string, rel: string): string {
  return base === "." ? rel : `${base}/${rel}`;
}

function compile(args: {
  pattern: string;
  literal?: boolean;
  case_sensitive?: boolean;
  word_boundaries?: boolean;
}): SearchQuery {
  try {
    return compileQuery({
      pattern: args.pattern,
      literal: args.literal ?? false,
      ...(args.case_sensitive !== undefined ? { caseSensitive: args.case_sensitive } : {}),
      wordBoundaries: args.word_boundaries ?? false,
    });
  } catch (err) {
    if (err instanceof PatternError)
      throw new ToolFailure(err.message, { pattern: args.pattern, invalid_pattern: true });
    throw err;
  }
}

/** File lists of the index's walks (see searchTargets), dropped with the walk. */
const fileLists = new WeakMap<object, { abs: string; rel: string; files: { rel: string; abs: string }[] }>();

/**
 * The files a search covers, as (workspace-relative path, absolute path), sorted, and the tree
 * they come from (the index, or the disk: see src/search/tree-source.ts). A file given as `path`
 * is searched whatever the ignore, hidden, type and glob rules say (as rg does with a file named
 * on its command line); `named` says so.
 */
export async function searchTargets(
  ctx: ToolContext,
  userPath: string,
  options: WalkOptions,
): Promise<{ source: TreeSource; files: Iterable<{ rel: string; abs: string }>; named?: true }> {
  const target = await ctx.workspace.resolve(userPath);
  const st = await stat(target.abs);
  const trees = searchTrees(ctx);
  let open;
  try {
    // A file: the walk of its folder is not needed, only the source (index or disk).
    open = await trees.open(
      st.isDirectory() ? target.abs : path.dirname(target.abs),
      st.isDirectory() ? options : { maxDepth: 1 },
      ctx.signal,
    );
  } catch (err) {
    if (err instanceof GlobError || err instanceof UnknownFileTypeError) throw new ToolFailure(err.message);
    throw err;
  }
  if (!st.isDirectory())
    return { source: open.source, files: [{ rel: target.rel, abs: target.abs }], named: true };
  const entries = open.entries;
  if (Array.isArray(entries)) {
    // The index answers repeated walks with the same array: so is the file list, and its path
    // strings, whose hashes V8 then computes once (a fresh string per file per call made the
    // cache lookups a tenth of a warm search).
    const memo = fileLists.get(entries);
    if (memo && memo.abs === target.abs && memo.rel === target.rel)
      return { source: open.source, files: memo.files };
    const list: { rel: string; abs: string }[] = [];
    for (const entry of entries as readonly WalkEntry[]) {
      if (entry.type === "file")
        list.push({ rel: joinRel(target.rel, entry.path), abs: `${target.abs}/${entry.path}` });
    }
    fileLists.set(entries, { abs: target.abs, rel: target.rel, files: list });
    return { source: open.source, files: list };
  }
  function* files(): Generator<{ rel: string; abs: string }> {
    try {
      for (const entry of entries) {
        // Entry paths are normalised already: concatenation, not path.join, on this hot loop.
        if (entry.type === "file")
          yield { rel: joinRel(target.rel, entry.path), abs: `${target.abs}/${entry.path}` };
      }
    } catch (err) {
      if (err instanceof GlobError || err instanceof UnknownFileTypeError) throw new ToolFailure(err.message);
      throw err;
    }
  }
  return { source: open.source, files: files() };
}

export const grepFileTool = defineTool({
  name: "grep_file",
  aliases: ["grep_search"],
  description:
    "Search file contents in the workspace with ripgrep's semantics: regex (RE2/ripgrep syntax, linear time; no lookaround or " +
    "backreferences) or `literal` text, smart case by default, `word_boundaries` (rg -w), `glob_pattern` (rg -g), " +
    "`context_lines` (rg -C), `files_with_matches` (rg -l), `type` (rg -t: ts, py, rust…), `exclude` globs, " +
    "`invert_match` (rg -v), `only_matching` (rg -o), `max_file_size`. Honours .gitignore/.ignore/.rgignore/.git/info/exclude and skips hidden " +
    "and binary files unless told otherwise. One result per match (a line with three matches gives three results): " +
    "{path, line, column, text, before, after}, line and column 1-based, column counted in UTF-16 code units (JavaScript " +
    "string index + 1) of the match start. Matches never span lines. Results are sorted by path (byte order), line, column; " +
    `at most max_results (default ${DEFAULT_MAX_RESULTS}), with \`truncated\` and \`total_matches\`.`,
  inputSchema,
  annotations: readOnlyAnnotations("Search file contents"),
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const query = compile(args);
    const invert = args.invert_match ?? false;
    const onlyMatching = (args.only_matching ?? false) && !invert;
    const maxBytes = Math.min(args.max_file_size ?? MAX_SEARCH_FILE_BYTES, MAX_SEARCH_FILE_BYTES);
    const maxResults = args.max_results ?? DEFAULT_MAX_RESULTS;
    const countLimit = Math.max(COUNT_LIMIT, maxResults + 1);
    const contextLines = args.context_lines ?? 0;
    const filesOnly = args.files_with_matches ?? false;
    const userPath = args.path ?? ".";
    const results: GrepResult[] = [];
    const files: string[] = [];
    let totalMatches = 0;
    let totalFiles = 0;
    let filesSearched = 0;
    let truncated = false;
    let countCapped = false;
    const skipped = { binary: 0, too_large: 0, unreadable: 0 };

    const types = listOf(args.type);
    const excludes = listOf(args.exclude).map((g) => `!${g}`);
    const {
      source,
      files: targets,
      named,
    } = await searchTargets(ctx, userPath, {
      includeHidden: args.include_hidden ?? false,
      respectIgnoreFiles: args.respect_ignore_files ?? true,
      // rg: later globs win, so the excludes come after glob_pattern.
      globs: [...(args.glob_pattern === undefined ? [] : [args.glob_pattern]), ...excludes],
      types,
    });
    const scans = source.scanFiles(
      targets,
      query,
      {
        // A bound per file: each scan is cut to what the search still wants below (limitScan).
        stopAfter: filesOnly ? 1 : countLimit,
        contextLines,
        // only_matching needs the whole line (the fast path would keep only a clipped view).
        ...(onlyMatching ? {} : { clip }),
        maxBytes,
        ...(invert ? { invert } : {}),
      },
      ctx.signal,
    );
    search: for await (const chunk of scans) {
      for (const { file, scan: whole } of chunk) {
        ctx.signal.throwIfAborted();
        const scan = limitScan(whole, filesOnly ? 1 : countLimit - totalMatches);
        filesSearched++;
        if (scan.kind === "binary" || scan.kind === "too_large" || scan.kind === "unreadable") {
          skipped[scan.kind]++;
          continue;
        }
        if (scan.kind !== "match") continue;
        totalFiles++;
        totalMatches += scan.matches;
        if (filesOnly) {
          if (files.length < maxResults) files.push(file.rel);
          else {
            truncated = true;
            break search;
          }
          continue;
        }
        for (const hit of scan.hits) {
          for (let k = 0; k < hit.spans.length; k++) {
            const span = hit.spans[k]!;
            if (results.length >= maxResults) break;
            results.push({
              path: file.rel,
              line: hit.index + 1,
              column: span.start + 1,
              // `texts`: clipped already by the warm path (a long line it did not decode whole).
              text: onlyMatching
                ? clip(scan.lines[hit.index]!.slice(span.start, span.end))
                : (hit.texts?.[k] ?? clip(displayLine(scan.lines[hit.index]!), span.start)),
              before: scan.lines
                .slice(Math.max(0, hit.index - contextLines), hit.index)
                .map((l) => clip(displayLine(l))),
              after:
                contextLines > 0
                  ? scan.lines
                      .slice(hit.index + 1, hit.index + 1 + contextLines)
                      .map((l) => clip(displayLine(l)))
                  : [],
            });
          }
        }
        if (totalMatches >= countLimit) {
          countCapped = true;
          break search;
        }
      }
    }
    if (!filesOnly) truncated = totalMatches > results.length;
    // The cache now holds what this search read: summarise it in the background for the next one.
    source.searched();

    const structured: Record<string, unknown> = {
      pattern: args.pattern,
      path: userPath,
      case_sensitive: !query.ignoreCase,
      ...(invert ? { invert_match: true } : {}),
      files_searched: filesSearched,
      ...(skipped.binary || skipped.too_large || skipped.unreadable ? { skipped } : {}),
    };
    // A file the caller named and found nothing in, because it is binary: say why.
    const skippedNamed =
      named && skipped.binary > 0
        ? `No matches for ${JSON.stringify(args.pattern)} in ${userPath}: it holds a NUL byte, so it was skipped as binary.`
        : undefined;
    if (filesOnly) {
      const text =
        files.length === 0
          ? (skippedNamed ??
            `No files match ${JSON.stringify(args.pattern)} in ${userPath} (${filesSearched} files searched).`)
          : files.join("\n") +
            (truncated
              ? `\n(first ${files.length} files; more match: raise max_results or narrow path/glob_pattern)`
              : "");
      // No match is a tool-level "failure", as grep and rg exit 1: `toold call` exits 1 too.
      return (files.length === 0 ? errorResult : textResult)(text, {
        ...structured,
        files,
        total_files: files.length,
        truncated,
      });
    }
    return (totalMatches === 0 ? errorResult : textResult)(
      skippedNamed ??
        renderText(results, contextLines, {
          totalMatches,
          totalFiles,
          truncated,
          countCapped,
          filesSearched,
          pattern: args.pattern,
          userPath,
          onlyMatching,
        }),
      {
        ...structured,
        results,
        total_matches: totalMatches,
        ...(countCapped ? { total_matches_is_lower_bound: true } : {}),
        files_with_matches: totalFiles,
        truncated,
      },
    );
  },
});

/** rg-like text: `path:line:column:text` per matching line, `path-line-text` for context, `--` between groups. */
function renderText(
  results: GrepResult[],
  contextLines: number,
  info: {
    totalMatches: number;
    totalFiles: number;
    truncated: boolean;
    countCapped: boolean;
    filesSearched: number;
    pattern: string;
    userPath: string;
    /** Each match is its own line of output (rg -o), even several on one line. */
    onlyMatching: boolean;
  },
): string {
  if (results.length === 0) {
    return `No matches for ${JSON.stringify(info.pattern)} in ${info.userPath} (${info.filesSearched} files searched).`;
  }
  const out: string[] = [];
  let lastPath = "";
  let lastLine = 0; // last line printed in this file
  let lastMatchLine = 0; // last matching line printed in this file
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.path !== lastPath) {
      if (lastPath !== "" && contextLines > 0) out.push("--");
      lastPath = r.path;
      lastLine = 0;
    } else if (r.line === lastMatchLine && !info.onlyMatching) {
      continue; // another match on a line already printed
    }
    const firstBefore = r.line - r.before.length;
    if (contextLines > 0 && lastLine > 0 && firstBefore > lastLine + 1) out.push("--");
    r.before.forEach((text, k) => {
      const n = firstBefore + k;
      if (n > lastLine) out.push(`${r.path}-${n}-${text}`);
    });
    out.push(`${r.path}:${r.line}:${r.column}:${r.text}`);
    lastLine = r.line;
    lastMatchLine = r.line;
    // The next result on another line (a linear scan from here, not a slice per result: with
    // thousands of results a slice each made rendering quadratic).
    let j = i + 1;
    while (j < results.length && results[j]!.path === r.path && results[j]!.line === r.line) j++;
    const next = results[j];
    r.after.forEach((text, k) => {
      const n = r.line + 1 + k;
      if (next && next.path === r.path && n >= next.line - next.before.length) return;
      out.push(`${r.path}-${n}-${text}`);
      lastLine = n;
    });
  }
  const total = `${info.totalMatches}${info.countCapped ? "+" : ""}`;
  out.push(
    info.truncated
      ? `(showing the first ${results.length} of ${total} matches; raise max_results or narrow path/glob_pattern)`
      : `(${total} match${info.totalMatches === 1 ? "" : "es"} in ${info.totalFiles} file${info.totalFiles === 1 ? "" : "s"})`,
  );
  return out.join("\n");
}
