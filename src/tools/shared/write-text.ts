/** The body shared by write_file and create_file: one atomic, confined text write with its modes. */
import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import { readConfined } from "../../support/confined-fs.js";
import { mkdirParents, removeCreatedDirs, sha256Hex, writeFileAtomic } from "../../support/fs-atomic.js";
import { textResult, ToolFailure, type ToolContext, type ToolResult } from "./types.js";

export const WRITE_MODES = ["overwrite", "fail_if_exists", "append", "skip_if_exists"] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The shared body of write_file and create_file. */
export async function writeTextFile(
  ctx: ToolContext,
  toolName: string,
  userPath: string,
  content: string,
  mode: WriteMode,
): Promise<ToolResult> {
  if (/[/\\]$/.test(userPath)) {
    throw new ToolFailure(
      `"${userPath}" ends with a slash, which names a folder: give a file path such as "${userPath}file.txt"`,
    );
  }
  // Confined, never through a dangling link, and not covered by [tools] protected_paths.
  const target = await ctx.workspace.resolveForWrite(userPath, ctx.config, { allowMissing: true });
  ctx.signal.throwIfAborted();
  let existing: Buffer | undefined;
  if (target.exists) {
    const checkType = (st: Stats): void => {
      if (st.isDirectory()) {
        throw new ToolFailure(
          `"${userPath}" is a directory: give a file path inside it, or delete it first with delete_file`,
          {
            path: target.rel,
          },
        );
      }
      if (!st.isFile())
        throw new ToolFailure(
          `"${userPath}" is not a regular file (a device, socket or FIFO); refusing to write it`,
        );
    };
    // What is read comes from one descriptor opened without following a link swapped in since
    // the check (src/support/confined-fs.ts); the type is checked on that descriptor too.
    const read = () => readConfined(target.abs, { signal: ctx.signal, check: checkType });
    if (mode === "fail_if_exists" || mode === "overwrite") {
      checkType(await lstat(target.abs));
    }
    if (mode === "fail_if_exists") {
      throw new ToolFailure(
        toolName === "create_file"
          ? `"${userPath}" already exists: use write_file to replace it or edit_file to change part of it`
          : `"${userPath}" already exists and mode is "fail_if_exists": use mode "overwrite" to replace it or edit_file to change it`,
        { path: target.rel, exists: true },
      );
    }
    if (mode === "skip_if_exists") {
      const current = (await read()).data;
      return textResult(`Skipped ${target.rel}: it already exists (mode "skip_if_exists"); nothing written`, {
        path: target.rel,
        bytes_written: 0,
        created: false,
        skipped: true,
        mode,
        sha256: sha256Hex(current),
      });
    }
    if (mode === "append") existing = (await read()).data;
  }
  const added = Buffer.from(content, "utf8");
  const data = existing ? Buffer.concat([existing, added]) : added;
  ctx.signal.throwIfAborted();
  const createdDirs = target.exists ? [] : await mkdirParents(target.abs);
  try {
    await writeFileAtomic(target.abs, data, {
      signal: ctx.signal,
      exclusive: !target.exists && mode !== "overwrite",
    });
  } catch (err) {
    await removeCreatedDirs(createdDirs);
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new ToolFailure(
        `"${userPath}" was created by someone else while writing; nothing written: read it and try again`,
        {
          path: target.rel,
        },
      );
    }
    throw err;
  }
  const created = !target.exists;
  const verb = created ? "Created" : mode === "append" ? "Appended to" : "Wrote";
  return textResult(
    `${verb} ${target.rel} (${plural(added.length, "byte")}${mode === "append" && existing ? `, now ${data.length}` : ""})`,
    {
      path: target.rel,
      bytes_written: added.length,
      file_bytes: data.length,
      created,
      mode,
      sha256: sha256Hex(data),
    },
  );
}
