/** What move_file and copy_file share: the arguments, resolving the destination, the refusals. */
import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { Type } from "@sinclair/typebox";
import { isWithin } from "../../workspace/workspace.js";
import { mkdirParents } from "../../support/fs-atomic.js";
import { ToolFailure, type ToolContext } from "./types.js";

export const transferSchema = (verb: "move" | "copy") =>
  Type.Object(
    {
      source: Type.String({
        minLength: 1,
        description: `File or folder to ${verb}, relative to the workspace root.`,
      }),
      destination: Type.String({
        minLength: 1,
        description:
          "Its new path (not the folder to put it in), relative to the workspace root. Missing parent folders are created.",
      }),
      overwrite: Type.Optional(
        Type.Boolean({
          description:
            "Replace an existing file (or empty folder) at destination. Default false: an existing destination is refused.",
        }),
      ),
    },
    { additionalProperties: false },
  );

/** Argument names other tools use (MCP filesystem, VT Code): `from`/`to`, `src`/`dest`, … */
export const TRANSFER_ALIASES = {
  from: "source",
  src: "source",
  source_path: "source",
  to: "destination",
  dest: "destination",
  target: "destination",
  destination_path: "destination",
} as const;

export type EntryKind = "file" | "dir" | "symlink";

export function kindOf(st: Stats): EntryKind | undefined {
  if (st.isSymbolicLink()) return "symlink";
  if (st.isDirectory()) return "dir";
  if (st.isFile()) return "file";
  return undefined;
}

export interface Destination {
  abs: string;
  rel: string;
  /** lstat of what is there now, if anything. */
  existing: Stats | undefined;
}

/**
 * Resolves `input` as the new name of an entry: confined, not protected, its own last component
 * never followed (a link there is what gets replaced, never its target). Refuses an existing
 * destination without `overwrite`, a folder onto a file and the reverse, a non-empty folder, and
 * a destination inside the source.
 */
export async function resolveDestination(
  ctx: Pick<ToolContext, "workspace" | "config">,
  input: string,
  source: { abs: string; rel: string; kind: EntryKind },
  overwrite: boolean,
  verb: "move" | "copy",
): Promise<Destination> {
  const target = await ctx.workspace.resolveForWrite(input, ctx.config, {
    allowMissing: true,
    followSymlink: false,
  });
  if (target.abs === source.abs) {
    throw new ToolFailure(`source and destination are the same entry ("${source.rel}"); nothing to ${verb}`);
  }
  if (source.kind === "dir" && isWithin(source.abs, target.abs)) {
    throw new ToolFailure(
      `cannot ${verb} the folder "${source.rel}" into itself ("${target.rel}"); choose a destination outside it`,
      { source: source.rel, destination: target.rel },
    );
  }
  const existing = target.exists ? await lstat(target.abs) : undefined;
  if (existing) {
    const there = kindOf(existing) ?? "special file";
    if (!overwrite) {
      throw new ToolFailure(
        `destination "${target.rel}" already exists (a ${there === "dir" ? "folder" : there}); nothing was ${verb === "move" ? "moved" : "copied"}: pass overwrite: true to replace it, or choose another destination${there === "dir" ? ` such as "${target.rel}/${path.basename(source.abs)}"` : ""}`,
        { destination: target.rel, exists: true },
      );
    }
    if (there === "dir" && source.kind !== "dir") {
      throw new ToolFailure(
        `destination "${target.rel}" is a folder and the source is a file: name the new file's path, e.g. "${target.rel}/${path.basename(source.abs)}"`,
      );
    }
    if (there !== "dir" && source.kind === "dir") {
      throw new ToolFailure(`destination "${target.rel}" is a ${there}; a folder cannot replace it`);
    }
    if (there === "dir" && (await readdir(target.abs)).length > 0) {
      throw new ToolFailure(
        `destination folder "${target.rel}" is not empty; overwrite replaces only files and empty folders: delete it first with delete_file, or choose another destination`,
      );
    }
    if (there === "special file") {
      throw new ToolFailure(
        `destination "${target.rel}" is a device, socket or FIFO; refusing to replace it`,
      );
    }
  }
  await assertNoFileAbove(ctx, target.dir);
  return { abs: target.abs, rel: target.rel, existing };
}

/**
 * Refuses, with a clear message, a file where a folder at or above `absDir` would have to be
 * created (mkdirParents would only say the folder "changed").
 */
export async function assertNoFileAbove(ctx: Pick<ToolContext, "workspace">, absDir: string): Promise<void> {
  for (let dir = absDir; ; dir = path.dirname(dir)) {
    const st = await lstat(dir).catch(() => undefined);
    if (!st) continue;
    if (!st.isDirectory()) {
      throw new ToolFailure(
        `"${ctx.workspace.relative(dir)}" is a file, not a folder, so nothing can be created inside it`,
      );
    }
    return;
  }
}

/** Creates the destination's missing parents (through verified handles); returns them for cleanup. */
export function makeParents(dest: Destination): Promise<string[]> {
  return mkdirParents(dest.abs);
}

/**
 * The failure of the final rename, as the caller should see it: a destination that appeared
 * after the checks (EEXIST, ENOTEMPTY), two file systems (EXDEV), a full disk. Nothing was done.
 */
export function transferFailure(err: unknown, src: string, dest: string, verb: "move" | "copy"): unknown {
  const done = verb === "move" ? "moved" : "copied";
  switch ((err as NodeJS.ErrnoException).code) {
    case "EEXIST":
    case "ENOTEMPTY":
      return new ToolFailure(
        `destination "${dest}" appeared while ${verb === "move" ? "moving" : "copying"}; nothing was ${done}: look at it, then pass overwrite: true or choose another destination`,
      );
    case "EXDEV":
      return new ToolFailure(
        `"${src}" and "${dest}" are on different file systems, so a rename cannot move it; nothing was moved: use copy_file, then delete_file`,
      );
    case "ENOSPC":
    case "EDQUOT":
      return new ToolFailure(`no space left to ${verb} "${src}"; nothing was ${done}`);
    default:
      return err;
  }
}
