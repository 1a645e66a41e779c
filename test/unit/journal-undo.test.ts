/**
 * Record-then-undo restores the tree exactly, whatever the change did (fast-check over random
 * trees and random changes, on a real temp folder): files, folders, symlinks, modes, creations
 * and deletions, across several roots at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { defaultConfig } from "../../src/config/load.js";
import { Journal } from "../../src/journal/journal.js";
import { Workspace } from "../../src/workspace/workspace.js";

/** The whole tree as text: path, kind, mode, content or link target. */
async function snapshot(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = path.join(dir, name);
      const rel = path.relative(root, abs);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${await readlink(abs)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ ${(st.mode & 0o777).toString(8)}`);
        await walk(abs);
      } else out.push(`${rel} ${(st.mode & 0o777).toString(8)} ${await readFile(abs, "utf8")}`);
    }
  };
  await walk(root);
  return out;
}

const name = fc.constantFrom("a", "b", "c");
const relPath = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
type Op =
  | { op: "write"; path: string; text: string; mode: number }
  | { op: "mkdir"; path: string }
  | { op: "rm"; path: string }
  | { op: "link"; path: string; target: string };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant("write" as const),
    path: relPath,
    text: fc.string({ maxLength: 8 }),
    mode: fc.constantFrom(0o644, 0o600, 0o755),
  }),
  fc.record({ op: fc.constant("mkdir" as const), path: relPath }),
  fc.record({ op: fc.constant("rm" as const), path: relPath }),
  fc.record({ op: fc.constant("link" as const), path: relPath, target: name }),
);

/** Applies ops, ignoring the ones the tree does not allow (a file where a folder is needed…). */
async function apply(root: string, ops: readonly Op[]): Promise<void> {
  for (const o of ops) {
    const abs = path.join(root, o.path);
    // Never through a link (as the tools: a write could land outside the roots the call named).
    let viaLink = false;
    for (let p = abs; p !== root; p = path.dirname(p)) {
      if ((await lstat(p).catch(() => undefined))?.isSymbolicLink() && (p !== abs || o.op !== "rm"))
        viaLink = true;
    }
    if (viaLink) continue;
    try {
      if (o.op === "write") {
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, o.text);
        await chmod(abs, o.mode);
      } else if (o.op === "mkdir") await mkdir(abs, { recursive: true });
      else if (o.op === "rm") await rm(abs, { recursive: true, force: true });
      else {
        await mkdir(path.dirname(abs), { recursive: true });
        await symlink(o.target, abs);
      }
    } catch {
      /* not possible in this tree: skip */
    }
  }
}

test("undo after record restores every root exactly (files, folders, links, modes)", async () => {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-journal-prop-")));
  try {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { maxLength: 6 }),
        fc.array(op, { minLength: 1, maxLength: 6 }),
        fc.uniqueArray(name, { minLength: 1, maxLength: 3 }),
        async (setup, change, roots) => {
          const root = path.join(base, `ws${run}`);
          const stateDir = path.join(base, `state${run++}`);
          await mkdir(root);
          await apply(root, setup);
          const before = await snapshot(root);
          const config = defaultConfig();
          const journal = new Journal({
            workspace: new Workspace(root),
            dir: stateDir,
            config: () => config,
          });
          try {
            // Every change stays inside the roots the call named, as a tool's does.
            const inside = change.filter((o) => (roots as string[]).includes(o.path.split("/")[0]!));
            await journal.record(
              { tool: "test", client: undefined },
              () => roots.map((r) => ({ path: r, entry: true, tree: true })),
              () => apply(root, inside),
            );
            const changed = (await snapshot(root)).join("\n") !== before.join("\n");
            const list = await journal.list();
            assert.equal(list.entries.length, changed ? 1 : 0, "an entry exactly when something changed");
            if (changed) {
              await journal.undo({ client: undefined });
              assert.deepEqual(await snapshot(root), before);
            }
          } finally {
            await journal.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
