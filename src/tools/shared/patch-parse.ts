/**
 * apply_patch's parser: the Codex / VT Code patch format, as pure functions of the text (no I/O),
 * so it is tested in memory (test/tools/apply_patch.parse.test.ts).
 *
 *   *** Begin Patch
 *   *** Add File: path          then lines starting with "+"
 *   *** Delete File: path
 *   *** Update File: path       optionally "*** Move to: newpath", then hunks:
 *   @@ optional context line    lines " " context, "-" remove, "+" add; "*** End of File" anchors at EOF
 *   *** End Patch
 *
 * A malformed patch is a ToolFailure naming the line, and nothing is written.
 */
import { ToolFailure } from "./types.js";

export interface PatchLine {
  kind: " " | "-" | "+";
  text: string;
}
export interface Hunk {
  /** `@@ text` lines before the hunk, each located in turn (forward) before the hunk itself. */
  contexts: string[];
  lines: PatchLine[];
  /** `*** End of File`: the hunk must match at the end of the file. */
  eof: boolean;
  /** 1-based line of the patch where the hunk starts. */
  patchLine: number;
}
export type PatchOp =
  | { type: "add"; path: string; content: string; patchLine: number; added: number }
  | { type: "delete"; path: string; patchLine: number }
  | { type: "update"; path: string; moveTo?: string; hunks: Hunk[]; patchLine: number };

function parseError(line: number, message: string): ToolFailure {
  return new ToolFailure(`invalid patch, line ${line}: ${message}. Nothing was written.`, {
    parse_error: true,
    line,
  });
}

const HEADER = /^\*\*\* (Add File|Delete File|Update File|Move to): ?(.*)$/;

export function parsePatch(input: string): PatchOp[] {
  const raw = input.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  let lo = 0;
  let hi = raw.length;
  while (lo < hi && raw[lo]!.trim() === "") lo++;
  while (hi > lo && raw[hi - 1]!.trim() === "") hi--;
  // Tolerate the heredoc wrapper agents copy from shell examples: apply_patch <<'EOF' … EOF.
  const heredoc = /^(?:apply_patch\s+)?<<-?\s*(['"]?)(\w+)\1$/.exec(raw[lo]?.trim() ?? "");
  if (heredoc && hi - lo >= 2 && raw[hi - 1]!.trim() === heredoc[2]) {
    lo++;
    hi--;
  }
  if (lo >= hi)
    throw parseError(
      1,
      'the patch is empty: it must start with "*** Begin Patch" and end with "*** End Patch"',
    );
  if (raw[lo]!.trim() !== "*** Begin Patch") {
    throw parseError(lo + 1, `the patch must start with "*** Begin Patch", found ${JSON.stringify(raw[lo])}`);
  }
  if (hi - 1 === lo || raw[hi - 1]!.trim() !== "*** End Patch") {
    throw parseError(hi, `the patch must end with "*** End Patch", found ${JSON.stringify(raw[hi - 1])}`);
  }
  const end = hi - 1;
  const ops: PatchOp[] = [];
  let i = lo + 1;
  while (i < end) {
    const lineNo = i + 1;
    const line = raw[i]!;
    const header = HEADER.exec(line.trim());
    if (!header) {
      if (line.trim() === "") {
        i++;
        continue;
      }
      throw parseError(
        lineNo,
        `expected "*** Add File: <path>", "*** Delete File: <path>", "*** Update File: <path>" or "*** End Patch", found ${JSON.stringify(line)}`,
      );
    }
    const kind = header[1]!;
    const filePath = header[2]!.trim();
    if (kind === "Move to")
      throw parseError(lineNo, '"*** Move to:" must directly follow an "*** Update File:" line');
    if (filePath === "") throw parseError(lineNo, `"*** ${kind}:" needs a path`);
    i++;
    if (kind === "Add File") {
      const content: string[] = [];
      while (i < end && raw[i]!.startsWith("+")) content.push(raw[i++]!.slice(1));
      if (i < end && !raw[i]!.startsWith("*** ")) {
        throw parseError(
          i + 1,
          `every line of an added file starts with "+" (in "${filePath}"), found ${JSON.stringify(raw[i])}`,
        );
      }
      ops.push({
        type: "add",
        path: filePath,
        content: content.map((l) => `${l}\n`).join(""),
        patchLine: lineNo,
        added: content.length,
      });
      continue;
    }
    if (kind === "Delete File") {
      ops.push({ type: "delete", path: filePath, patchLine: lineNo });
      continue;
    }
    // Update File
    let moveTo: string | undefined;
    const move = i < end ? HEADER.exec(raw[i]!.trim()) : null;
    if (move && move[1] === "Move to") {
      moveTo = move[2]!.trim();
      if (moveTo === "") throw parseError(i + 1, '"*** Move to:" needs a path');
      i++;
    }
    const hunks: Hunk[] = [];
    let cur: Hunk | undefined;
    while (i < end) {
      const l = raw[i]!;
      if (l.startsWith("***")) {
        if (l.trim() === "*** End of File") {
          if (!cur || cur.lines.length === 0)
            throw parseError(i + 1, '"*** End of File" must follow the lines of a hunk');
          cur.eof = true;
          cur = undefined;
          i++;
          continue;
        }
        break;
      }
      if (l.startsWith("@@")) {
        let ctxText = l.slice(2).trim();
        // A unified-diff range header ("@@ -12,5 +12,6 @@ fn x") locates nothing here: keep only what follows it.
        const range = /^-\d+(?:,\d+)? \+\d+(?:,\d+)? @@\s*(.*)$/.exec(ctxText);
        if (range) ctxText = range[1]!.trim();
        if (cur && cur.lines.length === 0 && !cur.eof) {
          if (ctxText) cur.contexts.push(ctxText); // several @@ lines narrow down one hunk
        } else {
          cur = { contexts: ctxText ? [ctxText] : [], lines: [], eof: false, patchLine: i + 1 };
          hunks.push(cur);
        }
        i++;
        continue;
      }
      const first = l[0];
      if (l !== "" && first !== " " && first !== "-" && first !== "+") {
        throw parseError(
          i + 1,
          `unexpected line in a hunk of "${filePath}": hunk lines start with " " (context), "-" (remove) or "+" (add), found ${JSON.stringify(l)}`,
        );
      }
      if (!cur) {
        if (hunks.length > 0)
          throw parseError(
            i + 1,
            `expected "@@" to start a new hunk of "${filePath}" after "*** End of File"`,
          );
        // The first hunk may omit its "@@" line.
        cur = { contexts: [], lines: [], eof: false, patchLine: i + 1 };
        hunks.push(cur);
      }
      cur.lines.push({ kind: l === "" ? " " : (first as " " | "-" | "+"), text: l.slice(1) });
      i++;
    }
    for (const h of hunks) {
      if (h.lines.length === 0) throw parseError(h.patchLine, `hunk of "${filePath}" has no lines`);
    }
    if (hunks.length === 0 && moveTo === undefined) {
      throw parseError(
        lineNo,
        `"*** Update File: ${filePath}" has no hunks: add "@@" hunks, or remove the section`,
      );
    }
    ops.push({
      type: "update",
      path: filePath,
      ...(moveTo !== undefined ? { moveTo } : {}),
      hunks,
      patchLine: lineNo,
    });
  }
  if (ops.length === 0) throw parseError(lo + 1, "the patch contains no file operations");
  return ops;
}
