/**
 * edit_file: replaces an exact snippet of a text file (VT Code's str_replace semantics, stricter):
 * the snippet must match once (or `replace_all`), with a whitespace-tolerant fallback used only
 * when it finds exactly one place. CRLF files and a UTF-8 BOM are preserved; the write is atomic.
 */
import { readConfined } from "../support/confined-fs.js";
import { Type } from "@sinclair/typebox";
import { unifiedDiff } from "../support/diff.js";
import { sha256Hex, writeFileAtomic } from "../support/fs-atomic.js";
import { DEFAULT_MAX_BYTES } from "./shared/limits.js";
import { ArgumentError, defineTool, textResult, ToolFailure } from "./shared/types.js";
import { looksBinary } from "../support/text.js";

/** VT Code's, Codex's and the MCP filesystem server's names for the two strings of an edit. */
const OLD_ALIASES = ["old_text", "original", "target", "from", "oldText"] as const;
const NEW_ALIASES = ["new_text", "replacement", "to", "newText"] as const;
/** Edits one call may apply: plenty for one file, bounded for the daemon. */
export const MAX_EDITS = 100;

const oldStrSchema = (required: string) =>
  Type.String({
    minLength: 1,
    description: `The exact text to replace, including indentation and enough surrounding lines to occur only once in the file. ${required}`,
  });
const newStrSchema = Type.String({ description: "The replacement text. Empty deletes old_str." });
const replaceAllSchema = Type.Boolean({
  description: "Replace every occurrence of old_str instead of requiring exactly one. Default false.",
});

const EditItem = Type.Object(
  {
    old_str: Type.Optional(oldStrSchema("Required (or one of its aliases).")),
    new_str: Type.Optional(newStrSchema),
    replace_all: Type.Optional(replaceAllSchema),
    ...Object.fromEntries(
      OLD_ALIASES.map((a) => [a, Type.Optional(Type.String({ description: "Alias of old_str." }))]),
    ),
    ...Object.fromEntries(
      NEW_ALIASES.map((a) => [a, Type.Optional(Type.String({ description: "Alias of new_str." }))]),
    ),
  },
  { additionalProperties: false },
);

export const inputSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "File to edit, relative to the workspace root." }),
    old_str: Type.Optional(oldStrSchema("Required unless `edits` is given.")),
    new_str: Type.Optional(newStrSchema),
    replace_all: Type.Optional(replaceAllSchema),
    edits: Type.Optional(
      Type.Array(EditItem, {
        minItems: 1,
        maxItems: MAX_EDITS,
        description: `Several replacements {old_str, new_str, replace_all?}, applied in order (each sees the text the previous ones made); all of them or none. At most ${MAX_EDITS}.`,
      }),
    ),
    dry_run: Type.Optional(
      Type.Boolean({ description: "Return the diff without writing anything. Default false." }),
    ),
    expected_sha256: Type.Optional(
      Type.String({
        pattern: "^[0-9a-fA-F]{64}$",
        description:
          "Hex SHA-256 of the whole file as you last read it (read_file's structuredContent.sha256). " +
          "If the file has changed since, nothing is written.",
      }),
    ),
  },
  { additionalProperties: false },
);

const BOM = "\uFEFF";
const MAX_LISTED_LINES = 20;

/** 1-based line numbers of ascending character offsets, in one pass over the text. */
function linesOf(text: string, offsets: readonly number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let pos = 0;
  for (const offset of offsets) {
    for (let nl = text.indexOf("\n", pos); nl !== -1 && nl < offset; nl = text.indexOf("\n", nl + 1)) {
      line++;
      pos = nl + 1;
    }
    lines.push(line);
  }
  return lines;
}

/** Every start offset of `needle`, overlapping ones included (they make a match ambiguous too). */
function findAll(text: string, needle: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) found.push(i);
  return found;
}

interface LineSpan {
  start: number;
  /** End of the line's text, before its \r\n or \n. */
  end: number;
  /** Start of the next line. */
  next: number;
}

function lineSpans(text: string): LineSpan[] {
  const spans: LineSpan[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) {
      spans.push({ start, end: text.length, next: text.length });
      break;
    }
    spans.push({ start, end: nl > start && text[nl - 1] === "\r" ? nl - 1 : nl, next: nl + 1 });
    start = nl + 1;
  }
  return spans;
}

const normalizeWs = (line: string): string => line.trim().replace(/\s+/g, " ");
const indentOf = (line: string): string => /^[ \t]*/.exec(line)![0];

interface TolerantMatch {
  start: number;
  end: number;
  /** Line index in the file of the first matched line. */
  firstLine: number;
  /** old_str's first non-blank line index, used to re-indent new_str. */
  anchor: number;
}

/** Places where old_str's lines equal whole file lines once whitespace runs are collapsed. */
function tolerantMatches(text: string, oldStr: string): { matches: TolerantMatch[]; oldLines: string[] } {
  const oldLines = oldStr.replace(/\r\n/g, "\n").split("\n");
  const includeEol = oldLines.length > 1 && oldLines[oldLines.length - 1] === "";
  if (includeEol) oldLines.pop();
  const wanted = oldLines.map(normalizeWs);
  const anchor = wanted.findIndex((l) => l !== "");
  if (anchor === -1) return { matches: [], oldLines };
  const spans = lineSpans(text);
  const fileNorm = spans.map((s) => normalizeWs(text.slice(s.start, s.end)));
  const matches: TolerantMatch[] = [];
  for (let i = 0; i + wanted.length <= spans.length; i++) {
    let ok = true;
    for (let j = 0; j < wanted.length && ok; j++) ok = fileNorm[i + j] === wanted[j];
    if (!ok) continue;
    const last = spans[i + wanted.length - 1]!;
    matches.push({ start: spans[i]!.start, end: includeEol ? last.next : last.end, firstLine: i, anchor });
  }
  return { matches, oldLines };
}

/** Shifts new_str's indentation by the difference between old_str's and the file's. */
function reindent(newStr: string, oldIndent: string, fileIndent: string): string {
  if (oldIndent === fileIndent) return newStr;
  return newStr
    .split("\n")
    .map((line) =>
      line.trim() === "" || !line.startsWith(oldIndent) ? line : fileIndent + line.slice(oldIndent.length),
    )
    .join("\n");
}

function listLines(lines: number[]): string {
  const shown = lines.slice(0, MAX_LISTED_LINES).join(", ");
  return lines.length > MAX_LISTED_LINES ? `${shown}, …` : shown;
}

interface Edit {
  old_str: string;
  new_str: string;
  replace_all: boolean;
}

interface Applied {
  after: string;
  replacements: number;
  tolerant: boolean;
  strippedLineNumbers: boolean;
}

/** `L12: ` at the start of every non-empty line: text copied from a `line_numbers: true` read. */
const NUMBERED_LINE = /^L\d+: /;
function allNumbered(s: string): boolean {
  const lines = s.replace(/\r\n/g, "\n").split("\n");
  const nonEmpty = lines.filter((l, i) => !(l === "" && i === lines.length - 1));
  return nonEmpty.length > 0 && nonEmpty.every((l) => NUMBERED_LINE.test(l));
}
function stripNumbers(s: string): string {
  return s
    .split("\n")
    .map((l) => l.replace(NUMBERED_LINE, ""))
    .join("\n");
}

/** One edit's argument names, aliases folded in; `prefix` is "" or "edits[2]." for messages. */
function normalizeEdit(raw: Record<string, unknown>, prefix: string): Edit {
  const pick = (canonical: string, aliases: readonly string[]): string | undefined => {
    const given = [canonical, ...aliases].filter((k) => raw[k] !== undefined);
    if (given.length > 1) {
      throw new ArgumentError(
        `${prefix}${given[1]!}`,
        `${given.map((g) => `"${prefix}${g}"`).join(" and ")} name the same argument; give one`,
      );
    }
    return given.length === 1 ? (raw[given[0]!] as string) : undefined;
  };
  const oldStr = pick("old_str", OLD_ALIASES);
  const newStr = pick("new_str", NEW_ALIASES);
  if (oldStr === undefined || oldStr === "") {
    throw new ArgumentError(
      `${prefix}old_str`,
      `${prefix}old_str is ${oldStr === undefined ? "missing" : "empty"}: give the exact text to replace (with a line or two ` +
        `around it to make it unique)${prefix ? "" : ", or edits for several replacements"}; to create or replace a whole file use write_file`,
    );
  }
  if (newStr === undefined) {
    throw new ArgumentError(
      `${prefix}new_str`,
      `${prefix}new_str is missing: give the replacement text ("" deletes old_str)`,
    );
  }
  if (oldStr === newStr) {
    throw new ArgumentError(
      `${prefix}new_str`,
      `${prefix}old_str and ${prefix}new_str are the same, so the edit would change nothing: give the new text in new_str`,
    );
  }
  return { old_str: oldStr, new_str: newStr, replace_all: raw.replace_all === true };
}

/** Applies one edit to `text` (without BOM), or throws a ToolFailure saying why it cannot. */
function applyEdit(text: string, edit: Edit, crlf: boolean, label: string, rel: string): Applied {
  const toEol = (s: string): string => {
    const lf = s.replace(/\r\n/g, "\n");
    return crlf ? lf.replace(/\n/g, "\r\n") : lf;
  };
  let oldStr = toEol(edit.old_str);
  let newStr = toEol(edit.new_str);
  let rawOld = edit.old_str;
  let rawNew = edit.new_str;
  let exact = findAll(text, oldStr);
  let strippedLineNumbers = false;
  // Copied from a `line_numbers: true` read: the prefixes are not in the file, so drop them.
  if (exact.length === 0 && allNumbered(edit.old_str)) {
    rawOld = stripNumbers(edit.old_str.replace(/\r\n/g, "\n"));
    if (allNumbered(edit.new_str)) rawNew = stripNumbers(edit.new_str.replace(/\r\n/g, "\n"));
    oldStr = toEol(rawOld);
    newStr = toEol(rawNew);
    exact = findAll(text, oldStr);
    strippedLineNumbers = true;
  }
  if (exact.length === 1 || (exact.length > 1 && edit.replace_all)) {
    if (edit.replace_all) {
      const parts = text.split(oldStr);
      return {
        after: parts.join(newStr),
        replacements: parts.length - 1,
        tolerant: false,
        strippedLineNumbers,
      };
    }
    const after = text.slice(0, exact[0]) + newStr + text.slice(exact[0]! + oldStr.length);
    return { after, replacements: 1, tolerant: false, strippedLineNumbers };
  }
  if (exact.length > 1) {
    const lines = [...new Set(linesOf(text, exact))];
    throw new ToolFailure(
      `${label}old_str matches ${exact.length} times in "${rel}" (at lines ${listLines(lines)}): include more surrounding ` +
        "lines in old_str so it matches once, or pass replace_all: true to replace every occurrence. Nothing was written.",
      { path: rel, match_count: exact.length, lines },
    );
  }
  const { matches, oldLines } = tolerantMatches(text, rawOld);
  if (matches.length > 1) {
    const lines = matches.map((m) => m.firstLine + 1);
    throw new ToolFailure(
      `${label}old_str does not occur exactly in "${rel}", and ignoring whitespace it matches ${matches.length} places ` +
        `(at lines ${listLines(lines)}): copy the exact text from read_file, with more surrounding lines. Nothing was written.`,
      { path: rel, match_count: 0, whitespace_tolerant_matches: matches.length, lines },
    );
  }
  const match = matches[0];
  if (!match) {
    const firstWanted = normalizeWs(oldLines.find((l) => l.trim() !== "") ?? "");
    const hints = lineSpans(text)
      .map((sp, i) => (normalizeWs(text.slice(sp.start, sp.end)) === firstWanted ? i + 1 : 0))
      .filter((n) => n > 0);
    const hint =
      text.length === 0
        ? ` The file is empty: use write_file to give it content.`
        : hints.length > 0
          ? ` Its first line occurs at line${hints.length === 1 ? "" : "s"} ${listLines(hints)}, but the lines after it differ.`
          : "";
    throw new ToolFailure(
      `${label}old_str was not found in "${rel}" (not even ignoring whitespace).${hint} ` +
        "Read the file again with read_file and copy the exact text to replace. Nothing was written.",
      { path: rel, match_count: 0, ...(hints.length ? { first_line_matches: hints } : {}) },
    );
  }
  const spans = lineSpans(text);
  const fileAnchor = spans[match.firstLine + match.anchor]!;
  const fileIndent = indentOf(text.slice(fileAnchor.start, fileAnchor.end));
  const oldIndent = indentOf(oldLines[match.anchor]!);
  const replacement = toEol(reindent(rawNew.replace(/\r\n/g, "\n"), oldIndent, fileIndent));
  return {
    after: text.slice(0, match.start) + replacement + text.slice(match.end),
    replacements: 1,
    tolerant: true,
    strippedLineNumbers,
  };
}

export const editFileTool = defineTool({
  name: "edit_file",
  description:
    "Replace text in a file: old_str must occur exactly once (or pass replace_all). If it does not occur exactly, a " +
    "match ignoring whitespace differences is used when it is unique. `edits` applies several replacements in order, " +
    "all or nothing; dry_run returns the diff and writes nothing. `L12: ` prefixes copied from a numbered read_file " +
    "are stripped. Keeps CRLF line endings and a UTF-8 BOM. Pass expected_sha256 (from read_file) to refuse the edit " +
    "if the file changed. Returns a unified diff.",
  inputSchema,
  example: { path: "src/app.ts", old_str: "const retries = 3;", new_str: "const retries = 5;" },
  annotations: {
    title: "Edit file",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  argumentAliases: {
    file_path: "path",
    ...Object.fromEntries(OLD_ALIASES.map((a) => [a, "old_str"])),
    ...Object.fromEntries(NEW_ALIASES.map((a) => [a, "new_str"])),
    dryRun: "dry_run",
  },
  // A dry run writes nothing, so the journal records nothing.
  changes: (args) => (args.dry_run ? [] : [{ path: args.path }]),
  async handler(args, ctx) {
    let edits: Edit[];
    if (args.edits !== undefined) {
      const stray = (["old_str", "new_str", "replace_all"] as const).filter((k) => args[k] !== undefined);
      if (stray.length > 0) {
        throw new ArgumentError(
          "edits",
          `give either edits (several replacements) or old_str/new_str (one), not both: move ${stray.join(", ")} into an item of edits`,
        );
      }
      edits = args.edits.map((e, i) => normalizeEdit(e as Record<string, unknown>, `edits[${i}].`));
    } else {
      edits = [normalizeEdit(args as Record<string, unknown>, "")];
    }
    const target = await ctx.workspace.resolveForWrite(args.path, ctx.config, { allowMissing: false });
    // One descriptor, opened without following a link swapped in since the check: its stats
    // are checked and its bytes read (src/support/confined-fs.ts).
    const { data: before, stats: st } = await readConfined(target.abs, {
      signal: ctx.signal,
      check: (st) => {
        if (st.isDirectory())
          throw new ToolFailure(`"${args.path}" is a directory: give the path of a file in it`);
        if (!st.isFile()) throw new ToolFailure(`"${args.path}" is not a regular file`);
        if (st.size > DEFAULT_MAX_BYTES) {
          throw new ToolFailure(
            `"${args.path}" is ${st.size} bytes, too large to edit here (limit ${DEFAULT_MAX_BYTES}): use apply_patch or a command`,
          );
        }
      },
    });
    const shaBefore = sha256Hex(before);
    if (args.expected_sha256 !== undefined && args.expected_sha256.toLowerCase() !== shaBefore) {
      throw new ToolFailure(
        `"${args.path}" has changed since you read it (sha256 is ${shaBefore}, expected ${args.expected_sha256.toLowerCase()}); ` +
          "nothing was written: read the file again and redo the edit",
        { path: target.rel, expected_sha256: args.expected_sha256.toLowerCase(), actual_sha256: shaBefore },
      );
    }
    if (looksBinary(before)) {
      throw new ToolFailure(
        `"${args.path}" looks like a binary file (it contains NUL bytes); edit_file edits text only`,
        {
          path: target.rel,
          binary: true,
        },
      );
    }
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(before);
    } catch {
      throw new ToolFailure(
        `"${args.path}" is not valid UTF-8; edit_file edits UTF-8 text only (re-encoding would corrupt it)`,
        {
          path: target.rel,
        },
      );
    }
    const bom = decoded.startsWith(BOM);
    const text = bom ? decoded.slice(1) : decoded;
    const crlfCount = text.split("\r\n").length - 1;
    const lfOnlyCount = text.split("\n").length - 1 - crlfCount;
    const crlf = crlfCount > lfOnlyCount;

    // In order, each on the text the previous ones made; the first failure stops everything
    // before anything is written.
    let after = text;
    let replacements = 0;
    let tolerant = false;
    let stripped = false;
    edits.forEach((edit, i) => {
      const label = edits.length > 1 ? `edit ${i + 1} of ${edits.length}: ` : "";
      const applied = applyEdit(after, edit, crlf, label, target.rel);
      after = applied.after;
      replacements += applied.replacements;
      tolerant ||= applied.tolerant;
      stripped ||= applied.strippedLineNumbers;
    });

    const afterBytes = Buffer.from(bom ? BOM + after : after, "utf8");
    const shaAfter = sha256Hex(afterBytes);
    ctx.signal.throwIfAborted();
    const dryRun = args.dry_run ?? false;
    if (!dryRun)
      await writeFileAtomic(target.abs, afterBytes, { signal: ctx.signal, mode: st.mode & 0o7777 });
    const diff = unifiedDiff(text, after, { oldPath: target.rel });
    const notes = [
      ...(tolerant ? ["matched ignoring whitespace"] : []),
      ...(stripped ? ["L<n>: line-number prefixes stripped from old_str"] : []),
    ];
    const head =
      `${dryRun ? "Dry run, nothing written: would edit" : "Edited"} ${target.rel}: ` +
      `${replacements} replacement${replacements === 1 ? "" : "s"}` +
      (edits.length > 1 ? ` from ${edits.length} edits` : "") +
      (notes.length ? ` (${notes.join("; ")})` : "");
    return textResult(`${head}\n\n${diff}`, {
      path: target.rel,
      replacements,
      edits: edits.length,
      whitespace_tolerant: tolerant,
      ...(stripped ? { stripped_line_numbers: true } : {}),
      dry_run: dryRun,
      sha256_before: shaBefore,
      sha256_after: shaAfter,
      diff,
    });
  },
});
