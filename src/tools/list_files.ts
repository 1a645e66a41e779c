/**
 * list_files: a folder's entries, every file below it, or the files found by name or content —
 * with the same ignore / hidden rules as grep_file (the shared walker in src/search), and paging.
 */
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { compileGlob, GlobError, type CompiledGlob } from "../support/glob.js";
import { PatternError } from "../search/matcher.js";
import { compileQuery, type SearchQuery } from "../search/query.js";
import type { EntryType, WalkEntry, WalkOptions } from "../search/walk.js";
import { searchTrees } from "./shared/trees.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";
import { readOnlyAnnotations } from "./shared/annotations.js";

export const DEFAULT_MAX_ITEMS = 1000;
export const MAX_MAX_ITEMS = 100_000;
export const DEFAULT_PER_PAGE = 100;
/** As large as max_items: a client that wants the whole listing gets it in one call. */
export const MAX_PER_PAGE = 100_000;

const MODES = ["list", "recursive", "find_name", "find_content", "tree", "largest"] as const;
export const DEFAULT_TREE_DEPTH = 3;
export const MAX_TREE_DEPTH = 50;
export const DEFAULT_TOP = 20;
type Mode = (typeof MODES)[number];

export const inputSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ description: 'Folder, relative to the workspace root. Default ".".' })),
    mode: Type.Optional(
      Type.Union(
        MODES.map((m) => Type.Literal(m)),
        {
          description:
            '"list": the folder\'s own entries (default); "recursive": every file below it; "find_name": entries below it ' +
            'whose name matches the glob `name_pattern`; "find_content": files below it whose content matches the regex `content_pattern`; ' +
            '"tree": folders and files below it as an indented tree, `depth` levels deep; "largest": the `top` largest files below it, largest first.',
        },
      ),
    ),
    name_pattern: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Glob for mode find_name (implies it): without "/" it matches the name at any depth ("*.ts"), with "/" the path relative to `path` ("src/**/*.test.ts"); a trailing "/" matches folders only.',
      }),
    ),
    content_pattern: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          "Regex (RE2/ripgrep syntax, smart case) for mode find_content (implies it); see grep_file for matches themselves.",
      }),
    ),
    include_hidden: Type.Optional(
      Type.Boolean({ description: "Include dot-files and dot-folders (never .git). Default false." }),
    ),
    recursive: Type.Optional(Type.Boolean({ description: 'Same as mode "recursive". Default false.' })),
    depth: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TREE_DEPTH,
        description: `Mode "tree": how many levels below \`path\` to show (1 = its own entries). Default ${DEFAULT_TREE_DEPTH}.`,
      }),
    ),
    top: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 10_000,
        description: `Mode "largest": how many files to return. Default ${DEFAULT_TOP}.`,
      }),
    ),
    exclude: Type.Optional(
      Type.Union(
        [Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })],
        {
          description:
            'Globs of files and folders to leave out (as rg -g \'!GLOB\'), e.g. "*.test.ts" or "dist/"; an excluded folder is not entered. A string or a list.',
        },
      ),
    ),
    file_extensions: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
        maxItems: 64,
        description:
          'Only files with these extensions, e.g. ["ts", "tsx"] (a leading "." is optional); folders are unaffected.',
      }),
    ),
    max_items: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_MAX_ITEMS,
        description: `Most entries to collect across all pages; the walk stops there (\`truncated\`). Default ${DEFAULT_MAX_ITEMS}.`,
      }),
    ),
    paths_only: Type.Optional(
      Type.Boolean({
        description:
          "Answer with the text alone, one path per line (as `rg --files`): structuredContent keeps the counts and paging but no `items` (no per-entry type or size). For big listings: a third of the bytes. Default false.",
      }),
    ),
    page: Type.Optional(Type.Integer({ minimum: 1, description: "Page to return, 1-based. Default 1." })),
    per_page: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_PER_PAGE,
        description: `Entries per page. Default ${DEFAULT_PER_PAGE}.`,
      }),
    ),
  },
  { additionalProperties: false },
);

export interface ListItem {
  path: string;
  type: EntryType;
  size?: number;
  /** Mode "tree": 1 for the folder's own entries, 2 below them… */
  depth?: number;
}

function pickMode(args: {
  mode?: Mode;
  recursive?: boolean;
  depth?: number;
  top?: number;
  name_pattern?: string;
  content_pattern?: string;
}): Mode {
  const implied: Mode[] = [];
  if (args.name_pattern !== undefined) implied.push("find_name");
  if (args.content_pattern !== undefined) implied.push("find_content");
  // The find modes search recursively anyway, so `recursive` only selects a mode on its own.
  if (args.recursive && implied.length === 0) implied.push("recursive");
  const mode = args.mode ?? (implied.length === 1 ? implied[0]! : implied.length === 0 ? "list" : undefined);
  if (mode === undefined) {
    throw new ToolFailure(
      "name_pattern and content_pattern select different modes (find_name, find_content): give one, or set mode",
    );
  }
  if (mode === "find_name" && args.name_pattern === undefined) {
    throw new ToolFailure('mode "find_name" needs name_pattern, a glob such as "*.ts"');
  }
  if (mode === "find_content" && args.content_pattern === undefined) {
    throw new ToolFailure('mode "find_content" needs content_pattern, a regex');
  }
  if ((mode === "list" || mode === "tree" || mode === "largest") && args.recursive)
    throw new ToolFailure(`recursive: true contradicts mode "${mode}"`);
  if (args.depth !== undefined && mode !== "tree")
    throw new ToolFailure(`depth applies to mode "tree", not "${mode}"`);
  if (args.top !== undefined && mode !== "largest")
    throw new ToolFailure(`top applies to mode "largest", not "${mode}"`);
  const stray = implied.filter((m) => m !== mode && m !== "recursive");
  if (
    stray.length > 0 ||
    (args.recursive && mode !== "recursive" && mode !== "find_name" && mode !== "find_content")
  ) {
    throw new ToolFailure(
      `${stray.map((m) => (m === "find_name" ? "name_pattern" : "content_pattern")).join(", ")} does not apply to mode "${mode}"`,
    );
  }
  return mode;
}

export const listFilesTool = defineTool({
  name: "list_files",
  description:
    'List a workspace folder (mode "list", the default), every file below it ("recursive", or recursive: true), entries ' +
    'below it whose name matches a glob ("find_name", name_pattern), files whose content matches a regex ("find_content", ' +
    'content_pattern), an indented tree ("tree", depth) or the largest files ("largest", top); `exclude` globs and ' +
    "`file_extensions` filter any mode. Honours .gitignore (nested too), .ignore, .rgignore and .git/info/exclude; never shows .git; skips dot-names " +
    "unless include_hidden; lists symlinks without following them. Sorted by path in byte order (a folder sorts as " +
    '"name/", so its contents follow it). One path per line, folders end with "/". Paged: page (1-based) and per_page ' +
    `(default ${DEFAULT_PER_PAGE}); total, has_more; max_items (default ${DEFAULT_MAX_ITEMS}) caps the entries collected.`,
  inputSchema,
  annotations: readOnlyAnnotations("List files"),
  argumentAliases: { file_path: "path" },
  async handler(args, ctx) {
    const mode = pickMode(args);
    const userPath = args.path ?? ".";
    const target = await ctx.workspace.resolve(userPath);
    const maxItems = args.max_items ?? DEFAULT_MAX_ITEMS;
    const perPage = args.per_page ?? DEFAULT_PER_PAGE;
    const page = args.page ?? 1;

    let glob: CompiledGlob | undefined;
    let query: SearchQuery | undefined;
    try {
      if (mode === "find_name") glob = compileGlob(args.name_pattern!);
      if (mode === "find_content") query = compileQuery({ pattern: args.content_pattern! });
    } catch (err) {
      if (err instanceof GlobError || err instanceof PatternError) throw new ToolFailure(err.message);
      throw err;
    }
    const extensions = args.file_extensions?.map((e) => (e.startsWith(".") ? e : `.${e}`));
    const wanted = (entry: WalkEntry): boolean =>
      !extensions || entry.type === "dir" || extensions.some((e) => entry.path.endsWith(e));

    const rel = (p: string): string => (target.rel === "." ? p : `${target.rel}/${p}`);
    const items: ListItem[] = [];
    let truncated = false;
    const excludes = (
      args.exclude === undefined ? [] : Array.isArray(args.exclude) ? args.exclude : [args.exclude]
    ).map((g) => `!${g}`);
    const walkOptions: WalkOptions = {
      includeHidden: args.include_hidden ?? false,
      ...(excludes.length > 0 ? { globs: excludes } : {}),
      ...(mode === "list"
        ? { maxDepth: 1 }
        : mode === "tree"
          ? { maxDepth: args.depth ?? DEFAULT_TREE_DEPTH }
          : {}),
    };
    let sliceStart = performance.now();
    const yieldNow = async (): Promise<void> => {
      if (performance.now() - sliceStart > 8) {
        await new Promise((r) => setImmediate(r));
        sliceStart = performance.now();
      }
    };
    // The index when it is built and covers this walk (no disk walk), else the disk.
    let open;
    try {
      open = await searchTrees(ctx).open(target.abs, walkOptions, ctx.signal);
    } catch (err) {
      if (err instanceof GlobError) throw new ToolFailure(err.message);
      if ((err as NodeJS.ErrnoException).code === "ENOTDIR") {
        throw new ToolFailure(`"${userPath}" is a file, not a folder: use read_file to read it`);
      }
      throw err;
    }
    const { source } = open;
    const sizeOf = (item: ListItem): void => {
      if (item.type !== "file" || item.size !== undefined) return;
      // Item paths are normalised and relative: concatenation, not path.join, on this hot loop.
      const size = source.size(`${ctx.workspace.root}/${item.path}`);
      if (size !== undefined) item.size = size;
    };
    try {
      if (mode === "largest") {
        // Every file's size, then the top N: a bounded list kept sorted would save little here.
        const all: ListItem[] = [];
        for (const entry of open.entries) {
          if (entry.type !== "file" || !wanted(entry)) continue;
          const item: ListItem = { path: rel(entry.path), type: "file" };
          sizeOf(item);
          if (item.size !== undefined) all.push(item);
          await yieldNow();
        }
        all.sort((a, b) => b.size! - a.size! || (a.path < b.path ? -1 : 1));
        const top = args.top ?? DEFAULT_TOP;
        truncated = all.length > top;
        items.push(...all.slice(0, top));
      } else if (mode === "find_content") {
        // Scanned as grep_file scans (a first search on the cold search's threads), in walk order.
        const files = (function* () {
          for (const entry of open.entries)
            if (entry.type === "file" && wanted(entry))
              yield { abs: path.join(target.abs, entry.path), entry };
        })();
        search: for await (const chunk of source.scanFiles(files, query!, { stopAfter: 1 }, ctx.signal)) {
          for (const { file, scan } of chunk) {
            if (scan.kind !== "match") continue;
            if (items.length >= maxItems) {
              truncated = true;
              break search;
            }
            items.push({ path: rel(file.entry.path), type: "file", size: scan.bytes });
          }
        }
      } else {
        for (const entry of open.entries) {
          if (!wanted(entry)) continue;
          let item: ListItem | undefined;
          if (mode === "list") item = { path: rel(entry.path), type: entry.type };
          else if (mode === "tree") {
            item = { path: rel(entry.path), type: entry.type, depth: entry.path.split("/").length };
          } else if (mode === "recursive")
            item = entry.type === "dir" ? undefined : { path: rel(entry.path), type: entry.type };
          else if (mode === "find_name") {
            item = glob!.test(entry.path, entry.type === "dir")
              ? { path: rel(entry.path), type: entry.type }
              : undefined;
          }
          if (!item) continue;
          if (items.length >= maxItems) {
            truncated = true;
            break;
          }
          items.push(item);
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOTDIR") {
        throw new ToolFailure(`"${userPath}" is a file, not a folder: use read_file to read it`);
      }
      throw err;
    }
    if (mode === "find_content") source.searched();

    const total = items.length;
    const pages = Math.max(1, Math.ceil(total / perPage));
    if (page > pages) {
      throw new ToolFailure(
        `page ${page} is past the last page, ${pages} (${total} entries at ${perPage} per page)`,
        {
          total,
          per_page: perPage,
          pages,
        },
      );
    }
    const shown = items.slice((page - 1) * perPage, page * perPage);
    const pathsOnly = args.paths_only ?? false;
    // Sizes are shown in the text only by "largest" (which has them); otherwise only `items` carries them.
    if (!pathsOnly) for (const item of shown) sizeOf(item);
    const hasMore = page < pages;
    const lines = shown.map((e) => {
      if (mode === "largest") return `${e.size} ${e.path}`;
      const shownPath = e.type === "dir" ? `${e.path}/` : e.path;
      if (mode !== "tree") return shownPath;
      const name = shownPath.slice(shownPath.lastIndexOf("/", shownPath.length - 2) + 1);
      return `${"  ".repeat((e.depth ?? 1) - 1)}${name}`;
    });
    if (total === 0) {
      lines.push(
        mode === "list"
          ? `(no entries in ${target.rel}${args.include_hidden ? "" : "; dot-names are hidden unless include_hidden"})`
          : "(no matching files)",
      );
    }
    const first = (page - 1) * perPage + 1;
    if (hasMore) {
      lines.push(
        `(entries ${first}-${first + shown.length - 1} of ${total}${truncated ? "+" : ""}; next page: call again with page: ${page + 1})`,
      );
    } else if (truncated && mode === "largest") {
      lines.push(`(the ${total} largest files; raise top for more)`);
    } else if (truncated) {
      lines.push(`(stopped at max_items ${maxItems}; there are more: raise max_items or narrow path)`);
    }
    return textResult(lines.join("\n"), {
      path: target.rel,
      mode,
      ...(pathsOnly ? {} : { items: shown }),
      total,
      page,
      per_page: perPage,
      has_more: hasMore,
      ...(hasMore ? { next_page: page + 1 } : {}),
      truncated,
    });
  },
});
