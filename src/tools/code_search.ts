/**
 * code_search: structural search with ast-grep patterns (`function $NAME($$$) { $$$ }`) over the
 * workspace's files, by syntax tree rather than text. Files come from the search trees (the warm
 * index, or the disk while it builds) and their contents from the file cache (the same files, ignore rules and order as grep_file);
 * a file is parsed only when it holds every literal word of the pattern. Results read like
 * grep_file's: path, line, column, the line's text, plus the matched node's range and text and
 * what each `$NAME` captured.
 */
import { stat } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import type { SgNode } from "@ast-grep/napi";
import { looksBinary } from "../support/text.js";
import { DEFAULT_MAX_BYTES } from "./shared/limits.js";
import { searchTrees } from "./shared/trees.js";
import {
  ArgumentError,
  defineTool,
  errorResult,
  textResult,
  ToolFailure,
  type ToolContext,
} from "./shared/types.js";
import { readOnlyAnnotations } from "./shared/annotations.js";

/** Language names (as ast-grep spells them, lower-cased) → file extensions. */
const LANGUAGES = {
  typescript: ["ts", "mts", "cts"],
  tsx: ["tsx"],
  javascript: ["js", "mjs", "cjs", "jsx"],
  html: ["html", "htm"],
  css: ["css"],
  python: ["py", "pyi"],
  rust: ["rs"],
  go: ["go"],
  c: ["c", "h"],
  cpp: ["cc", "cpp", "cxx", "hpp", "hh", "hxx"],
  java: ["java"],
} as const;
type Language = keyof typeof LANGUAGES;
const LANGUAGE_NAMES = Object.keys(LANGUAGES) as Language[];
/** ast-grep's built-in names for the languages it carries itself. */
const BUILTIN: Partial<Record<Language, string>> = {
  typescript: "TypeScript",
  tsx: "Tsx",
  javascript: "JavaScript",
  html: "Html",
  css: "Css",
};
/** The packages of the others, registered once per process with registerDynamicLanguage. */
const DYNAMIC: Partial<Record<Language, string>> = {
  python: "@ast-grep/lang-python",
  rust: "@ast-grep/lang-rust",
  go: "@ast-grep/lang-go",
  c: "@ast-grep/lang-c",
  cpp: "@ast-grep/lang-cpp",
  java: "@ast-grep/lang-java",
};

const BY_EXTENSION = new Map<string, Language>(
  LANGUAGE_NAMES.flatMap((lang) => LANGUAGES[lang].map((ext) => [ext, lang] as [string, Language])),
);

export const DEFAULT_MAX_RESULTS = 50;
const MAX_MAX_RESULTS = 1000;
/** Longest matched-node text returned; the range says where the rest is. */
const MAX_MATCH_CHARS = 2000;
const MAX_LINE_CHARS = 500;
/**
 * Files in flight at once. parseAsync parses on libuv's pool (4 threads on every core); a sliding
 * window rather than batches keeps the pool busy while one large file parses (batches of 4 left
 * the main thread idle 60% of a broad search).
 */
const PARSE_WINDOW = 6;

export const inputSchema = Type.Object(
  {
    pattern: Type.String({
      minLength: 1,
      description:
        "An ast-grep pattern: code in the target language where `$NAME` matches one node and `$$$` (or `$$$ARGS`) any number, e.g. `console.log($A)` or `function $NAME($$$) { $$$ }`.",
    }),
    language: Type.Optional(
      Type.Union(
        LANGUAGE_NAMES.map((l) => Type.Literal(l)),
        {
          description:
            "Search only files of this language. Default: every file whose extension names a language the pattern parses in.",
        },
      ),
    ),
    path: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'File or folder to search, relative to the workspace root. Default ".".',
      }),
    ),
    max_results: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_MAX_RESULTS,
        description: `Matches to return. Default ${DEFAULT_MAX_RESULTS}.`,
      }),
    ),
  },
  { additionalProperties: false },
);
type Args = Static<typeof inputSchema>;
type Napi = typeof import("@ast-grep/napi");

let napiLoaded: Promise<Napi> | undefined;

/** Loads ast-grep on the first call (daemon start does not pay for it) and registers the languages. */
function loadNapi(): Promise<Napi> {
  napiLoaded ??= import("@ast-grep/napi").then((napi) => {
    const require = createRequire(import.meta.url);
    const registrations = Object.fromEntries(
      Object.entries(DYNAMIC).map(([lang, pkg]) => [
        lang,
        require(pkg) as Parameters<Napi["registerDynamicLanguage"]>[0][string],
      ]),
    );
    napi.registerDynamicLanguage(registrations);
    return napi;
  });
  return napiLoaded;
}

function napiName(lang: Language): string {
  return BUILTIN[lang] ?? lang;
}

/** Dynamic languages parse `$` as ast-grep's expando character; the check must do the same. */
function expandoFor(lang: Language): string | undefined {
  return DYNAMIC[lang] ? "µ" : undefined;
}

/** True when `pattern` parses as code of `lang` without an ERROR node. */
function parses(napi: Napi, lang: Language, pattern: string): boolean {
  const expando = expandoFor(lang);
  const source = expando ? pattern.replace(/\$/g, expando) : pattern;
  try {
    return (
      napi
        .parse(napiName(lang), source)
        .root()
        .find({ rule: { kind: "ERROR" } }) === null
    );
  } catch {
    return false;
  }
}

/** Words of the pattern outside metavariables: every match's file contains each of them. */
function requiredWords(pattern: string): string[] {
  const literal = pattern.replace(/\$\$?\$?[A-Z_][A-Z0-9_]*|\$\$\$/g, " ");
  return [...new Set(literal.match(/[A-Za-z_][A-Za-z0-9_]{2,}/g) ?? [])];
}

/** Metavariable names of the pattern: single ones, and `$$$NAME` multi ones. */
function metaVariables(pattern: string): { single: string[]; multi: string[] } {
  const multi = [...pattern.matchAll(/\$\$\$([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
  const single = [...pattern.matchAll(/(?<!\$)\$([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
  return { single: [...new Set(single)], multi: [...new Set(multi)] };
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

interface Target {
  rel: string;
  abs: string;
  lang: Language;
}

/** The files to search: from the warm index when present, else a walk with the same rules. */
async function targets(ctx: ToolContext, userPath: string, langs: ReadonlySet<Language>): Promise<Target[]> {
  const target = await ctx.workspace.resolve(userPath);
  const st = await stat(target.abs);
  const langOf = (rel: string): Language | undefined => {
    const ext = path.extname(rel).slice(1).toLowerCase();
    const lang = BY_EXTENSION.get(ext);
    return lang && langs.has(lang) ? lang : undefined;
  };
  if (!st.isDirectory()) {
    const lang = langOf(target.rel);
    if (!lang) {
      throw new ToolFailure(
        `"${userPath}" is not a file of ${[...langs].join(", ")} (known extensions: ${[...BY_EXTENSION.keys()].join(", ")}): pass language, or a folder`,
      );
    }
    return [{ rel: target.rel, abs: target.abs, lang }];
  }
  const join = (rel: string) => (target.rel === "." ? rel : `${target.rel}/${rel}`);
  const found: Target[] = [];
  // The search tools' tree (src/search/tree-source.ts): the warm index when it can serve the walk,
  // else the disk with the same rules and order, so the first call never waits for the index.
  const { entries } = await searchTrees(ctx).open(target.abs, {}, ctx.signal);
  for (const entry of entries) {
    const lang = entry.type === "file" ? langOf(entry.path) : undefined;
    if (lang) found.push({ rel: join(entry.path), abs: `${target.abs}/${entry.path}`, lang });
  }
  return found;
}

interface ParsedFile {
  file: Target;
  text: string;
  nodes: SgNode[];
}

interface Match {
  path: string;
  line: number;
  column: number;
  text: string;
  match: string;
  range: { start: { line: number; column: number }; end: { line: number; column: number } };
  captures?: Record<string, string | string[]>;
}

/**
 * The file's text from the cache (or the pool) when it may match: undefined when it is binary, too
 * large, or lacks one of the pattern's words. The words are looked for in the bytes (memchr-fast),
 * so a file that cannot match is never decoded.
 */
async function candidateText(
  ctx: ToolContext,
  abs: string,
  words: readonly Buffer[],
): Promise<string | undefined> {
  try {
    const take = (data: Buffer) =>
      looksBinary(data) || !words.every((w) => data.includes(w)) ? undefined : data.toString("utf8");
    return await ctx.files.read(abs, take, {
      maxBytes: DEFAULT_MAX_BYTES,
      pool: ctx.pool,
      signal: ctx.signal,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return undefined; // too large, vanished, unreadable: skipped as grep skips it
  }
}

function toMatch(
  node: SgNode,
  rel: string,
  text: string,
  vars: { single: string[]; multi: string[] },
): Match {
  const r = node.range();
  const lineStart = text.lastIndexOf("\n", r.start.index - 1) + 1;
  const lineEnd = text.indexOf("\n", r.start.index);
  const line = text.slice(lineStart, lineEnd === -1 ? text.length : lineEnd).replace(/\r$/, "");
  const captures: Record<string, string | string[]> = {};
  for (const name of vars.single) {
    const m = node.getMatch(name);
    if (m) captures[name] = clip(m.text(), MAX_LINE_CHARS);
  }
  for (const name of vars.multi) {
    captures[name] = node
      .getMultipleMatches(name)
      .filter((n) => n.isNamed())
      .map((n) => clip(n.text(), MAX_LINE_CHARS));
  }
  return {
    path: rel,
    line: r.start.line + 1,
    column: r.start.column + 1,
    text: clip(line, MAX_LINE_CHARS),
    match: clip(node.text(), MAX_MATCH_CHARS),
    range: {
      start: { line: r.start.line + 1, column: r.start.column + 1 },
      end: { line: r.end.line + 1, column: r.end.column + 1 },
    },
    ...(Object.keys(captures).length > 0 ? { captures } : {}),
  };
}

async function search(args: Args, ctx: ToolContext) {
  const napi = await loadNapi();
  let langs: Language[];
  if (args.language) {
    if (!parses(napi, args.language, args.pattern)) {
      throw new ArgumentError(
        "pattern",
        `pattern ${JSON.stringify(args.pattern)} does not parse as ${args.language}: write it as ${args.language} code, with $NAME for one node and $$$ for any number (e.g. "console.log($A)")`,
      );
    }
    langs = [args.language];
  } else {
    // HTML parses any text (as text), so it is inferred only for a pattern that is markup.
    const markup = args.pattern.trimStart().startsWith("<");
    langs = LANGUAGE_NAMES.filter((l) => (l !== "html" || markup) && parses(napi, l, args.pattern));
    if (langs.length === 0) {
      throw new ArgumentError(
        "pattern",
        `pattern ${JSON.stringify(args.pattern)} does not parse in any supported language (${LANGUAGE_NAMES.join(", ")}): write it as code, with $NAME for one node and $$$ for any number, e.g. "function $NAME($$$) { $$$ }"`,
      );
    }
  }
  const userPath = args.path ?? ".";
  const files = await targets(ctx, userPath, new Set(langs));
  const maxResults = args.max_results ?? DEFAULT_MAX_RESULTS;
  const wordBytes = requiredWords(args.pattern).map((w) => Buffer.from(w));
  const vars = metaVariables(args.pattern);
  const results: Match[] = [];
  let total = 0;
  let parsed = 0;
  let filesWithMatches = 0;
  // Every file is searched, so total_matches is exact (as grep_file's); only the first
  // max_results matches are turned into results. Files finish in any order; each is folded in
  // path order as soon as the files before it are done, so results come sorted as grep_file's and
  // a file's text is let go once folded.
  const outcomes: (ParsedFile | null | undefined)[] = new Array(files.length);
  let folded = 0;
  const foldReady = () => {
    for (let hit = outcomes[folded]; hit !== undefined; hit = outcomes[folded]) {
      outcomes[folded++] = null;
      if (!hit || hit.nodes.length === 0) continue;
      filesWithMatches++;
      total += hit.nodes.length;
      for (const node of hit.nodes) {
        if (results.length >= maxResults) break;
        results.push(toMatch(node, hit.file.rel, hit.text, vars));
      }
    }
  };
  let next = 0;
  let failed = false; // one lane failed: the others stop rather than parse on for nobody
  const lane = async () => {
    try {
      while (!failed && next < files.length) {
        ctx.signal.throwIfAborted();
        const i = next++;
        const file = files[i]!;
        const text = await candidateText(ctx, file.abs, wordBytes);
        if (text !== undefined) {
          parsed++;
          const root = (await napi.parseAsync(napiName(file.lang), text)).root();
          outcomes[i] = { file, text, nodes: root.findAll(args.pattern) };
        } else outcomes[i] = null;
        foldReady();
      }
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARSE_WINDOW, files.length) }, lane));
  const truncated = total > results.length;
  const facts = {
    pattern: args.pattern,
    path: userPath,
    languages: langs,
    results,
    total_matches: total,
    files_with_matches: filesWithMatches,
    files_searched: files.length,
    files_parsed: parsed,
    truncated,
  };
  if (results.length === 0) {
    const searched = `${files.length} file${files.length === 1 ? "" : "s"} of ${langs.join(", ")} searched`;
    return errorResult(`No matches for ${JSON.stringify(args.pattern)} in ${userPath} (${searched}).`, facts);
  }
  const lines = results.map((m) => `${m.path}:${m.line}:${m.column}: ${m.text}`);
  if (truncated)
    lines.push(`(showing the first ${results.length} of ${total} matches; raise max_results or narrow path)`);
  return textResult(lines.join("\n"), facts);
}

export const codeSearchTool = defineTool({
  name: "code_search",
  aliases: ["ast_grep", "structural_search"],
  description:
    "Structural code search with ast-grep patterns: code where `$NAME` matches one node and `$$$` any number, e.g. " +
    "`function $NAME($$$) { $$$ }` or `$A.unwrap()`. Languages: typescript, tsx, javascript, html, css, python, rust, go, " +
    "c, cpp, java, inferred from file extensions (or pass language). Honours .gitignore like grep_file. Results: path, " +
    "line, column, the line, the matched node's range and text, and what each $NAME captured.",
  inputSchema,
  example: { pattern: "console.log($A)", language: "typescript", path: "src" },
  annotations: readOnlyAnnotations("Code search"),
  argumentAliases: { query: "pattern", lang: "language", directory: "path", limit: "max_results" },
  async handler(args, ctx) {
    return search(args, ctx);
  },
});
