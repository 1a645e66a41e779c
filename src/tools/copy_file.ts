/**
 * copy_file: copies a file or a folder inside the workspace, all or nothing. The copy is built
 * under a temp name next to the destination and renamed into place, so the destination shows
 * either nothing (or what was there) or the whole copy. Its size is measured first and bounded by
 * `[tools] max_copy_bytes`; links inside a copied folder are copied as links, and refused when they
 * lead outside the workspace.
 */
import { constants, type Stats } from "node:fs";
import { lstat, mkdir, open, readdir, readlink, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { isWithin } from "../workspace/workspace.js";
import { removeCreatedDirs } from "../support/fs-atomic.js";
import {
  copyOpenFile,
  openConfinedForRead,
  openVerifiedDir,
  READ_NONBLOCK,
  renameConfined,
} from "../support/confined-fs.js";
import {
  kindOf,
  makeParents,
  resolveDestination,
  transferFailure,
  transferSchema,
  TRANSFER_ALIASES,
} from "./shared/transfer.js";
import { defineTool, textResult, ToolFailure, type ToolContext } from "./shared/types.js";

export const inputSchema = transferSchema("copy");

/** Entries one folder copy may hold, so a huge tree cannot stall the daemon. */
const MAX_COPY_ENTRIES = 100_000;

interface PlanEntry {
  /** Path below the copied folder, `/`-separated; "" for the folder itself. */
  rel: string;
  kind: "file" | "dir" | "symlink";
  stats: Stats;
  linkText?: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Walks the source folder (never following links) and measures it, refusing what cannot be copied. */
async function planTree(ctx: ToolContext, rootAbs: string, rootRel: string, destAbs: string, limit: number) {
  const entries: PlanEntry[] = [{ rel: "", kind: "dir", stats: await lstat(rootAbs) }];
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    const dir = entries[i]!;
    if (dir.kind !== "dir") continue;
    ctx.signal.throwIfAborted();
    const dirAbs = path.join(rootAbs, dir.rel);
    for (const name of (await readdir(dirAbs)).sort()) {
      const rel = dir.rel ? `${dir.rel}/${name}` : name;
      const abs = path.join(rootAbs, rel);
      const st = await lstat(abs);
      const kind = kindOf(st);
      if (!kind) {
        throw new ToolFailure(
          `"${rootRel}/${rel}" is a device, socket or FIFO; copy_file copies files, links and folders. Nothing was copied.`,
        );
      }
      const entry: PlanEntry = { rel, kind, stats: st };
      if (kind === "symlink") {
        const text = await readlink(abs);
        // The link must lead inside the workspace both where it is and where its copy will be.
        const fromHere = path.resolve(path.dirname(abs), text);
        const fromCopy = path.resolve(path.dirname(path.join(destAbs, rel)), text);
        if (!isWithin(ctx.workspace.root, fromHere) || !isWithin(ctx.workspace.root, fromCopy)) {
          throw new ToolFailure(
            `"${rootRel}/${rel}" is a symlink leading outside the workspace; copy_file never copies one. Nothing was copied.`,
          );
        }
        entry.linkText = text;
      }
      if (kind === "file") bytes += st.size;
      entries.push(entry);
      if (entries.length > MAX_COPY_ENTRIES) {
        throw new ToolFailure(
          `"${rootRel}" holds more than ${MAX_COPY_ENTRIES} entries; too many for one copy. Copy smaller folders. Nothing was copied.`,
        );
      }
      if (bytes > limit) throw tooLarge(rootRel, bytes, limit, true);
    }
  }
  return { entries, bytes };
}

function tooLarge(rel: string, bytes: number, limit: number, atLeast: boolean): ToolFailure {
  return new ToolFailure(
    `copying "${rel}" would write ${atLeast ? "more than " : ""}${bytes} bytes, over [tools] max_copy_bytes ${limit}; nothing was copied: ` +
      "copy less, or raise max_copy_bytes in vtcode.toml",
    { source: rel, bytes, max_copy_bytes: limit },
  );
}

/** Copies one regular file opened without following a link at any step after the check. */
async function copyFileAt(srcFolderReal: string, name: string, dstPath: string, mode: number): Promise<void> {
  const dir = await openVerifiedDir(srcFolderReal);
  try {
    const handle = await open(dir.at(name), READ_NONBLOCK | constants.O_NOFOLLOW);
    try {
      if (!(await handle.stat()).isFile())
        throw new ToolFailure(`"${name}" changed while copying; nothing was copied`);
      await copyOpenFile(handle, dstPath, mode);
    } finally {
      await handle.close();
    }
  } finally {
    await dir.close();
  }
}

export const copyFileTool = defineTool({
  name: "copy_file",
  description:
    "Copy a file or a folder (with everything in it) inside the workspace, all or nothing: the copy is built under a " +
    "temp name and renamed into place. destination is the new path. An existing destination is refused unless " +
    "overwrite: true (files and empty folders only). Copies larger than [tools] max_copy_bytes are refused.",
  inputSchema,
  example: { source: "config/base.json", destination: "config/local.json" },
  annotations: {
    title: "Copy file",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: false,
  },
  argumentAliases: TRANSFER_ALIASES,
  // What the copy may replace or create at the destination (the source does not change).
  changes: (args) => [{ path: args.destination, entry: true, tree: true }],
  async handler(args, ctx) {
    // A source link is followed (a copy of a link's file is what users mean), inside the workspace only.
    const src = await ctx.workspace.resolve(args.source);
    const st = await lstat(src.abs);
    const kind = kindOf(st);
    if (kind !== "file" && kind !== "dir") {
      throw new ToolFailure(
        `"${args.source}" is a device, socket or FIFO; copy_file copies files and folders`,
      );
    }
    if (src.abs === ctx.workspace.root) {
      throw new ToolFailure(`"${args.source}" is the workspace root; copy a folder inside it instead`);
    }
    const overwrite = args.overwrite ?? false;
    const dest = await resolveDestination(
      ctx,
      args.destination,
      { abs: src.abs, rel: src.rel, kind },
      overwrite,
      "copy",
    );
    const limit = ctx.config.tools.max_copy_bytes;
    const plan =
      kind === "dir"
        ? await planTree(ctx, src.abs, src.rel, dest.abs, limit)
        : { entries: [{ rel: "", kind: "file" as const, stats: st }], bytes: st.size };
    if (plan.bytes > limit) throw tooLarge(src.rel, plan.bytes, limit, false);
    ctx.signal.throwIfAborted();

    const created = await makeParents(dest);
    const destDir = path.dirname(dest.abs);
    const tempName = `.${path.basename(dest.abs).slice(0, 150)}.toold-copy-${randomBytes(6).toString("hex")}.tmp`;
    // Everything is created through a verified handle of the destination's folder, so a link
    // swapped in after the checks cannot send the copy elsewhere.
    const destFolder = await openVerifiedDir(destDir);
    const temp = destFolder.at(tempName);
    let tempMade = false;
    try {
      if (kind === "file") {
        const handle = await openConfinedForRead(src.abs);
        try {
          if (!(await handle.stat()).isFile()) {
            throw new ToolFailure(`"${src.rel}" changed while copying; nothing was copied`);
          }
          tempMade = true;
          await copyOpenFile(handle, temp, st.mode);
        } finally {
          await handle.close();
        }
      } else {
        // Built in a fresh folder only we know, then renamed into place in one step.
        tempMade = true;
        await mkdir(temp, { mode: 0o700 });
        for (const entry of plan.entries) {
          ctx.signal.throwIfAborted();
          const to = entry.rel ? path.join(temp, entry.rel) : temp;
          if (entry.kind === "dir") {
            if (entry.rel) await mkdir(to, { mode: 0o700 });
          } else if (entry.kind === "symlink") {
            await symlink(entry.linkText!, to);
          } else {
            const from = path.join(src.abs, entry.rel);
            await copyFileAt(path.dirname(from), path.basename(from), to, entry.stats.mode);
          }
        }
        // Folder modes last (a read-only folder would refuse its own children).
        for (const entry of [...plan.entries].reverse()) {
          if (entry.kind !== "dir") continue;
          const handle = await open(
            entry.rel ? path.join(temp, entry.rel) : temp,
            constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
          );
          try {
            await handle.chmod(entry.stats.mode & 0o7777);
          } finally {
            await handle.close();
          }
        }
      }
      await renameConfined(path.join(destDir, tempName), dest.abs, {
        noReplace: !overwrite,
        isDir: kind === "dir",
      });
      tempMade = false;
    } catch (err) {
      if (tempMade) await rm(temp, { recursive: true, force: true }).catch(() => undefined);
      await destFolder.close();
      await removeCreatedDirs(created);
      throw transferFailure(err, src.rel, dest.rel, "copy");
    }
    await destFolder.close();
    const files = plan.entries.filter((e) => e.kind === "file").length;
    const what =
      kind === "dir"
        ? `folder ${src.rel} (${plural(files, "file")}, ${plural(plan.bytes, "byte")})`
        : `${src.rel} (${plural(plan.bytes, "byte")})`;
    return textResult(`Copied ${what} to ${dest.rel}${dest.existing ? " (replaced what was there)" : ""}`, {
      source: src.rel,
      destination: dest.rel,
      type: kind,
      files,
      bytes: plan.bytes,
      overwritten: dest.existing !== undefined,
    });
  },
});
