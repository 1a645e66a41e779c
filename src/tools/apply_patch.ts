/**
 * apply_patch: the Codex / VT Code patch format, applied all-or-nothing. Three parts, in
 * src/tools/shared/: the parser (patch-parse.ts), the hunk locator (patch-locate.ts) and the
 * transaction (patch-transaction.ts). Every operation is applied in memory first (later operations
 * see earlier ones, so a file may be touched twice); only when all succeed are the files written,
 * each atomically, and a failure midway restores those already written.
 */
import { Type } from "@sinclair/typebox";
import { applyHunks, HunkError } from "./shared/patch-locate.js";
import { parsePatch } from "./shared/patch-parse.js";
import { commitPatch, PatchFiles, patchIo } from "./shared/patch-transaction.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";
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

interface PatchFileResult {
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
    const plan = new PatchFiles(ctx);
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
    await commitPatch(plan.changed(), patchIo, ctx.signal);
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
