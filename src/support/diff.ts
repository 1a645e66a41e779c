/**
 * A small unified-diff generator (no dependency): line diff by longest common subsequence on the
 * part between the common prefix and suffix, hunks with `context` lines around each change.
 * Lines are compared with their line endings, so a CRLF→LF change or a missing final newline
 * shows up (the latter as `\ No newline at end of file`, as diff(1) prints it).
 */
import { splitLinesKeepEnds } from "./text.js";

export interface UnifiedDiffOptions {
  oldPath: string;
  newPath?: string;
  /** Context lines around each change. Default 3. */
  context?: number;
  /** Middle sections with more line pairs than this are shown as one replaced block. */
  maxCells?: number;
}

type Op = { kind: " " | "-" | "+"; line: string };

function diffLines(a: string[], b: string[], maxCells: number): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: " ", line: a[i]! });
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const n = am.length;
  const m = bm.length;
  if (n > 0 && m > 0 && (n + 1) * (m + 1) <= maxCells) {
    // lcs[i][j] = LCS length of am[i..] and bm[j..], in one flat array.
    const w = m + 1;
    const lcs = new Uint32Array((n + 1) * w);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * w + j] =
          am[i] === bm[j]
            ? lcs[(i + 1) * w + j + 1]! + 1
            : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (am[i] === bm[j]) {
        ops.push({ kind: " ", line: am[i]! });
        i++;
        j++;
      } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) {
        ops.push({ kind: "-", line: am[i++]! });
      } else {
        ops.push({ kind: "+", line: bm[j++]! });
      }
    }
    while (i < n) ops.push({ kind: "-", line: am[i++]! });
    while (j < m) ops.push({ kind: "+", line: bm[j++]! });
  } else {
    for (const line of am) ops.push({ kind: "-", line });
    for (const line of bm) ops.push({ kind: "+", line });
  }
  for (let i = a.length - suf; i < a.length; i++) ops.push({ kind: " ", line: a[i]! });
  return ops;
}

function render(op: Op): string {
  let body = op.line;
  const hasNewline = body.endsWith("\n");
  if (hasNewline) body = body.slice(0, body.endsWith("\r\n") ? -2 : -1);
  return `${op.kind}${body}\n${hasNewline ? "" : "\\ No newline at end of file\n"}`;
}

function range(start: number, count: number): string {
  // diff(1): an empty range names the line before it.
  const first = count === 0 ? start - 1 : start;
  return count === 1 ? `${first}` : `${first},${count}`;
}

/** The unified diff from `oldText` to `newText`, or "" when they are equal. */
export function unifiedDiff(oldText: string, newText: string, opts: UnifiedDiffOptions): string {
  if (oldText === newText) return "";
  const context = opts.context ?? 3;
  const ops = diffLines(splitLinesKeepEnds(oldText), splitLinesKeepEnds(newText), opts.maxCells ?? 4_000_000);
  // Old/new line numbers (1-based) at each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let nn = 1;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(nn);
    if (op.kind !== "+") o++;
    if (op.kind !== "-") nn++;
  }
  const changed = ops.map((op, i) => (op.kind === " " ? -1 : i)).filter((i) => i >= 0);
  const hunks: Array<[number, number]> = [];
  for (const idx of changed) {
    const start = Math.max(0, idx - context);
    const end = Math.min(ops.length, idx + context + 1);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  let out = `--- a/${opts.oldPath}\n+++ b/${opts.newPath ?? opts.oldPath}\n`;
  for (const [start, end] of hunks) {
    const slice = ops.slice(start, end);
    const oldCount = slice.filter((op) => op.kind !== "+").length;
    const newCount = slice.filter((op) => op.kind !== "-").length;
    out += `@@ -${range(oldNo[start]!, oldCount)} +${range(newNo[start]!, newCount)} @@\n`;
    for (const op of slice) out += render(op);
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
