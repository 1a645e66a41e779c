/** The start-up sweep of the atomic writer's leftovers (src/daemon/temp-sweep.ts), on its own. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { sweepTempFiles } from "../../src/daemon/temp-sweep.js";

test("sweepTempFiles removes old writer temp files only: not new ones, not look-alikes, not through symlinks", async () => {
  const base = await mkdtemp(path.join(os.tmpdir(), "toold-sweep-"));
  const root = path.join(base, "ws");
  const outside = path.join(base, "outside");
  try {
    await mkdir(path.join(root, "a", "b"), { recursive: true });
    await mkdir(path.join(root, ".git"), { recursive: true });
    await mkdir(outside);
    const old = new Date(Date.now() - 120_000);
    const stale = [
      path.join(root, ".x.txt.toold-0123456789ab.tmp"),
      path.join(root, "a", "b", ".deep.ts.toold-abcdefabcdef.tmp"),
    ];
    for (const f of stale) {
      await writeFile(f, "partial");
      await utimes(f, old, old);
    }
    const keep = [
      path.join(root, "x.txt.toold-0123456789ab.tmp"), // no leading dot: not the writer's name
      path.join(root, ".x.toold-0123.tmp"), // wrong hex length
      path.join(root, ".git", ".y.toold-0123456789ab.tmp"), // .git is never walked
      path.join(outside, ".z.toold-0123456789ab.tmp"), // reachable only through a symlink
    ];
    for (const f of keep) {
      await writeFile(f, "keep");
      await utimes(f, old, old);
    }
    await symlink(outside, path.join(root, "link"));
    const startedAtMs = Date.now();
    // Written after the daemon started: may be a write in progress, so it stays.
    const fresh = path.join(root, "a", ".new.txt.toold-fedcba987654.tmp");
    await writeFile(fresh, "in progress");
    await utimes(fresh, new Date(startedAtMs + 1000), new Date(startedAtMs + 1000));

    const r = await sweepTempFiles(root, { startedAtMs, log: pino({ level: "silent" }) });
    assert.deepEqual([...r.removed].sort(), [...stale].sort());
    for (const f of stale) assert.equal(existsSync(f), false, f);
    for (const f of [...keep, fresh]) assert.equal(existsSync(f), true, f);
    assert.equal(r.truncated, false);

    const capped = await sweepTempFiles(root, { startedAtMs, log: pino({ level: "silent" }), maxEntries: 2 });
    assert.equal(capped.truncated, true);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
