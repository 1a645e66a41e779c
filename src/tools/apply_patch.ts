/**
 * apply_patch: the Codex / VT Code patch format, applied all-or-nothing.
 *
 *   *** Begin Patch
 *   *** Add File: path          then lines starting with "+"
 *   *** Delete File: path
 *   *** Update File: path       optionally "*** Move to: newpath", then hunks:
 *   @@ optional context line    lines " " context, "-" remove, "+" add; "*** End of File" anchors at EOF
 *   *** End Patch
 *
 * Every operation is applied in memory first (later operations see earlier ones, so a file may be
 * touched twice). Only when all succeed are the files written, each atomically; if a write fails
 * midway, the files already written are restored from their in-memory originals.
 */
import { readFile, stat, unlink } from "node:fs/promises";
import { Type } from "@sinclair/typebox";
import { removeConfined } from "../support/confined-fs.js";
import { resolveEntry } from "./shared/entry.js";
import { mkdirParents, removeCreatedDirs, writeFileAtomic } from "../support/fs-atomic.js";
import { defineTool, textResult, ToolFailure, type ToolContext } from "./shared/types.js";
import { looksBinary } from "../support/text.js";

export const inputSchema = Type.Object(
  {
    input: Type.String({
      minLength: 1,
      description:
        'The whole patch, from "*** Begin Patch" to "*** End Patch", with "*** Add File: p", "*** Delete File: p" ' +
        'and "*** Update File: p" (optionally "*** Move to: q") sections; update hunks start with "@@" ' +
        '(optionally "@@ <a line near the change>") and hold lines prefixed " " (context), "-" (remove), "+" (add).',
    }),
  },
  { additionalProperties: false },
);

// ---------------------------------------------------------------- parsing

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

// ---------------------------------------------------------------- applying hunks

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

class HunkError extends Error {
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

// ---------------------------------------------------------------- planning and committing

interface FileState {
  abs: string;
  rel: string;
  original: Buffer | null;
  current: Buffer | null;
  mode?: number;
}

/** File-system calls used to commit; replaceable in tests to simulate a failure midway. */
export const patchIo = {
  writeFile: writeFileAtomic,
  // Through a verified folder handle, like the writes (src/workspace/confined-fs.ts).
  unlink: (abs: string): Promise<void> => removeConfined(abs),
};

export interface PatchFileResult {
  path: string;
  action: "add" | "delete" | "update" | "move";
  from?: string;
  added?: number;
  removed?: number;
  whitespace_tolerant?: boolean;
}

function decodeText(bytes: Buffer, userPath: string): string {
  if (looksBinary(bytes)) {
    throw new ToolFailure(
      `"${userPath}" looks like a binary file (it contains NUL bytes); apply_patch updates text files only. Nothing was written.`,
    );
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ToolFailure(
      `"${userPath}" is not valid UTF-8; apply_patch updates UTF-8 text only. Nothing was written.`,
    );
  }
}

class Plan {
  readonly states = new Map<string, FileState>();
  constructor(private readonly ctx: ToolContext) {}

  /** The state of a path; `entry` resolves without following a final symlink (for delete/move). */
  async load(userPath: string, opts: { noFollow?: boolean } = {}): Promise<FileState> {
    let abs: string;
    let rel: string;
    if (opts.noFollow) {
      const entry = await resolveEntry(this.ctx, userPath);
      if (entry.stats?.isSymbolicLink()) {
        throw new ToolFailure(
          `"${userPath}" is a symlink; apply_patch does not delete or move links: use delete_file. Nothing was written.`,
        );
      }
      ({ abs, rel } = entry);
    } else {
      // Confined, never through a dangling link, not covered by [tools] protected_paths.
      ({ abs, rel } = await this.ctx.workspace.resolveForWrite(userPath, this.ctx.config, {
        allowMissing: true,
      }));
    }
    const known = this.states.get(abs);
    if (known) return known;
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "ENOTDIR") return undefined;
      throw err;
    });
    let original: Buffer | null = null;
    if (st) {
      if (st.isDirectory())
        throw new ToolFailure(`"${userPath}" is a directory, not a file. Nothing was written.`);
      if (!st.isFile()) throw new ToolFailure(`"${userPath}" is not a regular file. Nothing was written.`);
      original = await readFile(abs, { signal: this.ctx.signal });
    }
    const state: FileState = {
      abs,
      rel,
      original,
      current: original,
      ...(st ? { mode: st.mode & 0o7777 } : {}),
    };
    this.states.set(abs, state);
    return state;
  }
}

function same(a: Buffer | null, b: Buffer | null): boolean {
  return a === b || (a !== null && b !== null && a.equals(b));
}

async function commit(plan: Plan, ctx: ToolContext): Promise<void> {
  const changed = [...plan.states.values()].filter((s) => !same(s.original, s.current));
  const done: Array<{ state: FileState; createdDirs: string[] }> = [];
  for (const state of changed) {
    let createdDirs: string[] = [];
    try {
      ctx.signal.throwIfAborted();
      if (state.current === null) {
        await patchIo.unlink(state.abs);
      } else {
        createdDirs = state.original === null ? await mkdirParents(state.abs) : [];
        await patchIo.writeFile(state.abs, state.current, {
          signal: ctx.signal,
          ...(state.mode !== undefined ? { mode: state.mode } : {}),
          exclusive: state.original === null,
        });
      }
      done.push({ state, createdDirs });
    } catch (err) {
      await removeCreatedDirs(createdDirs);
      const notRestored: string[] = [];
      for (const { state: s, createdDirs: dirs } of done.reverse()) {
        try {
          if (s.original === null) {
            await unlink(s.abs);
            await removeCreatedDirs(dirs);
          } else {
            await writeFileAtomic(s.abs, s.original, s.mode !== undefined ? { mode: s.mode } : {});
          }
        } catch {
          notRestored.push(s.rel);
        }
      }
      const why = ctx.signal.aborted ? "the call was cancelled" : (err as Error).message;
      throw new ToolFailure(
        `apply_patch failed while writing "${state.rel}" (${why}); ` +
          (notRestored.length === 0
            ? `the ${done.length} file(s) already written were restored, so nothing changed.`
            : `could NOT restore ${notRestored.map((r) => `"${r}"`).join(", ")}: check them with read_file.`),
        { path: state.rel, rolled_back: done.length - notRestored.length, not_restored: notRestored },
      );
    }
  }
}

export const applyPatchTool = defineTool({
  name: "apply_patch",
  description:
    'Apply a patch in the Codex format ("*** Begin Patch" … "*** End Patch") that adds, deletes, updates and ' +
    "moves files. Hunks are located by their context lines (exact, then ignoring whitespace). All or nothing: " +
    "if any hunk does not apply, no file is written.",
  inputSchema,
  annotations: {
    title: "Apply patch",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  argumentAliases: { patch: "input" },
  // The paths the patch names: deleted and moved-away files as entries (links are not followed).
  changes: (args) =>
    parsePatch(args.input).flatMap((op) =>
      op.type === "delete" || (op.type === "update" && op.moveTo !== undefined)
        ? [{ path: op.path, entry: true }, ...(op.type === "update" ? [{ path: op.moveTo! }] : [])]
        : [{ path: op.path }],
    ),
  async handler(args, ctx) {
    const ops = parsePatch(args.input);
    const plan = new Plan(ctx);
    const files: PatchFileResult[] = [];
    for (const op of ops) {
      ctx.signal.throwIfAborted();
      if (op.type === "add") {
        const state = await plan.load(op.path);
        if (state.current !== null) {
          throw new ToolFailure(
            `"*** Add File: ${op.path}" (patch line ${op.patchLine}): the file already exists: use "*** Update File:" to change it ` +
              "or delete it first. Nothing was written.",
            { path: state.rel, patch_line: op.patchLine },
          );
        }
        state.current = Buffer.from(op.content, "utf8");
        files.push({ path: state.rel, action: "add", added: op.added });
      } else if (op.type === "delete") {
        const state = await plan.load(op.path, { noFollow: true });
        if (state.current === null) {
          throw new ToolFailure(
            `"*** Delete File: ${op.path}" (patch line ${op.patchLine}): no such file. Nothing was written.`,
            { path: state.rel, patch_line: op.patchLine },
          );
        }
        state.current = null;
        files.push({ path: state.rel, action: "delete" });
      } else {
        const state = await plan.load(op.path, op.moveTo !== undefined ? { noFollow: true } : {});
        if (state.current === null) {
          throw new ToolFailure(
            `"*** Update File: ${op.path}" (patch line ${op.patchLine}): no such file: check the path, or use "*** Add File:" ` +
              "to create it. Nothing was written.",
            { path: state.rel, patch_line: op.patchLine },
          );
        }
        let next = state.current;
        let fuzzy = false;
        if (op.hunks.length > 0) {
          const before = decodeText(state.current, op.path);
          let applied;
          try {
            applied = applyHunks(before, op.hunks);
          } catch (err) {
            if (!(err instanceof HunkError)) throw err;
            throw new ToolFailure(
              `hunk ${err.hunk} of "${op.path}" (patch line ${err.patchLine}) did not apply: ${err.reason}:\n` +
                err.expected.map((l) => `  | ${l}`).join("\n") +
                `\nThe file may differ from what the patch expects: re-read "${op.path}" with read_file and regenerate the patch. ` +
                "Nothing was written.",
              { path: state.rel, hunk: err.hunk, patch_line: err.patchLine, expected_lines: err.expected },
            );
          }
          next = Buffer.from(applied.text, "utf8");
          fuzzy = applied.fuzzy;
        }
        const added = op.hunks.reduce((n, h) => n + h.lines.filter((l) => l.kind === "+").length, 0);
        const removed = op.hunks.reduce((n, h) => n + h.lines.filter((l) => l.kind === "-").length, 0);
        const counts = { added, removed, ...(fuzzy ? { whitespace_tolerant: true } : {}) };
        if (op.moveTo !== undefined) {
          const dest = await plan.load(op.moveTo);
          if (dest !== state && dest.current !== null) {
            throw new ToolFailure(
              `"*** Move to: ${op.moveTo}" (for "${op.path}", patch line ${op.patchLine}): the destination already exists: ` +
                "delete it first or choose another path. Nothing was written.",
              { path: dest.rel, patch_line: op.patchLine },
            );
          }
          if (dest !== state) {
            state.current = null;
            dest.current = next;
            if (state.mode !== undefined && dest.mode === undefined) dest.mode = state.mode;
          } else {
            state.current = next;
          }
          files.push({ path: dest.rel, action: "move", from: state.rel, ...counts });
        } else {
          state.current = next;
          files.push({ path: state.rel, action: "update", ...counts });
        }
      }
    }
    ctx.signal.throwIfAborted();
    await commit(plan, ctx);
    const letter = { add: "A", delete: "D", update: "M", move: "R" } as const;
    const summary = files.map((f) =>
      f.action === "move" ? `R ${f.from} -> ${f.path}` : `${letter[f.action]} ${f.path}`,
    );
    return textResult(
      `Applied patch (${files.length} file operation${files.length === 1 ? "" : "s"}):\n${summary.join("\n")}`,
      {
        files,
      },
    );
  },
});
