/**
 * apply_patch's locator: finds each hunk in a file's text (its "@@" context lines first, then its
 * old lines: exact, then ignoring trailing, then surrounding whitespace) and splices in the new
 * lines. Pure: text in, text out, tested in memory with properties
 * (test/tools/apply_patch.locate.test.ts).
 */
import type { Hunk, PatchLine } from "./patch-parse.js";

const COMPARATORS: Array<(a: string, b: string) => boolean> = [
  (a, b) => a === b,
  (a, b) => a.trimEnd() === b.trimEnd(),
  (a, b) => a.trim() === b.trim(),
];

const stripCr = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line);

/** First index >= start where `pattern` matches `lines` (exact, then looser); EOF hunks only at the end. */
function seek(
  lines: readonly string[],
  pattern: readonly string[],
  start: number,
  eof: boolean,
): { index: number; fuzzy: boolean } | undefined {
  if (pattern.length === 0) return { index: start, fuzzy: false };
  if (pattern.length > lines.length) return undefined;
  const from = eof ? lines.length - pattern.length : start;
  if (from < start) return undefined;
  for (let level = 0; level < COMPARATORS.length; level++) {
    const eq = COMPARATORS[level]!;
    for (let i = from; i + pattern.length <= lines.length; i++) {
      let ok = true;
      for (let j = 0; j < pattern.length && ok; j++) ok = eq(stripCr(lines[i + j]!), pattern[j]!);
      if (ok) return { index: i, fuzzy: level > 0 };
    }
  }
  return undefined;
}

/** A hunk that could not be located; the tool turns it into a ToolFailure naming the file. */
export class HunkError extends Error {
  constructor(
    readonly hunk: number,
    readonly patchLine: number,
    readonly reason: string,
    readonly expected: string[],
  ) {
    super(reason);
  }
}

/** Applies hunks to a file's text. Keeps CRLF endings, a BOM, and a missing final newline. */
export function applyHunks(original: string, hunks: readonly Hunk[]): { text: string; fuzzy: boolean } {
  const bom = original.startsWith("\uFEFF");
  const text = bom ? original.slice(1) : original;
  const crlfCount = text.split("\r\n").length - 1;
  const crlf = crlfCount > text.split("\n").length - 1 - crlfCount;
  const finalNewline = text === "" || text.endsWith("\n");
  const body = text.endsWith("\n") ? text.slice(0, -1) : text;
  const lines = text === "" ? [] : body.split("\n");
  const eol = (s: string): string => (crlf ? `${s}\r` : s);
  const replacements: Array<{ start: number; count: number; lines: string[] }> = [];
  let fuzzy = false;
  let lineIndex = 0;
  hunks.forEach((hunk, n) => {
    for (const ctxLine of hunk.contexts) {
      const found = seek(lines, [ctxLine], lineIndex, false);
      if (!found) {
        throw new HunkError(n + 1, hunk.patchLine, `could not find its context line "@@ ${ctxLine}"`, [
          ctxLine,
        ]);
      }
      fuzzy ||= found.fuzzy;
      lineIndex = found.index + 1;
    }
    let hunkLines = hunk.lines;
    const oldOf = (hl: readonly PatchLine[]): string[] => hl.filter((l) => l.kind !== "+").map((l) => l.text);
    if (oldOf(hunkLines).length === 0) {
      // Pure addition: after the context line when there is one, else at the end of the file.
      const at = hunk.contexts.length > 0 && !hunk.eof ? lineIndex : lines.length;
      replacements.push({ start: at, count: 0, lines: hunkLines.map((l) => eol(l.text)) });
      lineIndex = at;
      return;
    }
    let found = seek(lines, oldOf(hunkLines), lineIndex, hunk.eof);
    if (!found) {
      // A trailing empty context/removed line often stands for the final newline: retry without it.
      let last = -1;
      for (let k = hunkLines.length - 1; k >= 0; k--) {
        if (hunkLines[k]!.kind !== "+") {
          last = k;
          break;
        }
      }
      if (last >= 0 && hunkLines[last]!.text === "") {
        const trimmed = hunkLines.filter((_, k) => k !== last);
        if (oldOf(trimmed).length > 0) {
          found = seek(lines, oldOf(trimmed), lineIndex, hunk.eof);
          if (found) hunkLines = trimmed;
        }
      }
    }
    if (!found) {
      const where = hunk.eof ? "at the end of the file" : `searching from line ${lineIndex + 1}`;
      throw new HunkError(
        n + 1,
        hunk.patchLine,
        `could not find its lines (${where})`,
        oldOf(hunk.lines).slice(0, 3),
      );
    }
    fuzzy ||= found.fuzzy;
    // Context lines keep the file's own text (a fuzzy match must not rewrite their whitespace).
    const out: string[] = [];
    let j = 0;
    for (const l of hunkLines) {
      if (l.kind === " ") out.push(lines[found.index + j++]!);
      else if (l.kind === "-") j++;
      else out.push(eol(l.text));
    }
    replacements.push({ start: found.index, count: j, lines: out });
    lineIndex = found.index + j;
  });
  const result = [...lines];
  for (const r of [...replacements].reverse()) result.splice(r.start, r.count, ...r.lines);
  let joined = result.join("\n");
  if (result.length > 0) {
    if (finalNewline) joined += "\n";
    else if (joined.endsWith("\r")) joined = joined.slice(0, -1);
  }
  return { text: (bom ? "\uFEFF" : "") + joined, fuzzy };
}
