/**
 * Unified diffs on jsdiff (Myers' O((n+m)·D) line diff). Lines are compared with their line
 * endings, so a CRLF→LF change or a missing final newline shows up (the latter as
 * `\ No newline at end of file`, as diff(1) prints it); CRs are not printed.
 */
import { structuredPatch, type StructuredPatchHunk } from "diff";
import { splitLinesKeepEnds } from "./text.js";

export interface UnifiedDiffOptions {
  oldPath: string;
  newPath?: string;
  /** Context lines around each change. Default 3. */
  context?: number;
}

/**
 * Myers' work grows with (lines × edit distance): past this budget the middle that differs is
 * shown as one replaced block, so a rewrite of a huge file cannot stall the daemon.
 */
const MAX_DIFF_WORK = 4_000_000;

function range(start: number, count: number): string {
  // diff(1): an empty range names the line before it.
  const first = count === 0 ? start - 1 : start;
  return count === 1 ? `${first}` : `${first},${count}`;
}

/** jsdiff's hunk line without a CR before its (dropped) newline. */
function printable(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** One hunk that replaces everything between the common prefix and suffix. */
function replacedBlock(a: string[], b: string[], context: number): StructuredPatchHunk {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const from = Math.max(0, pre - context);
  const lines: string[] = [];
  const emit = (mark: string, line: string): void => {
    lines.push(mark + line.replace(/\r?\n$/, ""));
    if (!line.endsWith("\n")) lines.push("\\ No newline at end of file");
  };
  for (let i = from; i < pre; i++) emit(" ", a[i]!);
  for (let i = pre; i < a.length - suf; i++) emit("-", a[i]!);
  for (let i = pre; i < b.length - suf; i++) emit("+", b[i]!);
  const tail = Math.min(suf, context);
  for (let i = a.length - suf; i < a.length - suf + tail; i++) emit(" ", a[i]!);
  return {
    oldStart: from + 1,
    oldLines: a.length - suf + tail - from,
    newStart: from + 1,
    newLines: b.length - suf + tail - from,
    lines,
  };
}

/** The unified diff from `oldText` to `newText`, or "" when they are equal. */
export function unifiedDiff(oldText: string, newText: string, opts: UnifiedDiffOptions): string {
  if (oldText === newText) return "";
  const context = opts.context ?? 3;
  const oldLines = splitLinesKeepEnds(oldText);
  const newLines = splitLinesKeepEnds(newText);
  const maxEditLength = Math.max(64, Math.floor(MAX_DIFF_WORK / (oldLines.length + newLines.length + 1)));
  const patch = structuredPatch("a", "b", oldText, newText, undefined, undefined, { context, maxEditLength });
  const hunks = patch ? patch.hunks : [replacedBlock(oldLines, newLines, context)];
  let out = `--- a/${opts.oldPath}\n+++ b/${opts.newPath ?? opts.oldPath}\n`;
  for (const h of hunks) {
    out += `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@\n`;
    for (const line of h.lines) out += printable(line) + "\n";
  }
  return out;
}

/** Counts of added and removed lines, for summaries. */
export function diffStats(diff: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  // The first two lines are the ---/+++ headers.
  for (const line of diff.split("\n").slice(2)) {
    if (line.startsWith("+")) added++;
    else if (line.startsWith("-")) removed++;
  }
  return { added, removed };
}
