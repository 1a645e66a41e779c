/**
 * Issue #12 items 3 and 10: what a tool (or a prompt-injected agent writing files through one)
 * can plant in the workspace must not make a read-only search write or read outside it.
 *
 * - The index's sync cookie once went to `.git/` (or the root) under a guessable name, created by
 *   following links: a planted symlink made `grep_file` truncate a file outside the workspace.
 * - Ignore files were read by following symlinks, with no size limit: `.gitignore -> /dev/zero`
 *   grew the daemon by hundreds of MB and left the index unhealthy for good.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, realpath, rm, symlink, unlink, writeFile, mkdir } from "node:fs/promises";
import { watch } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";

async function grepPaths(ws: TestWorkspace, pattern: string): Promise<string[]> {
  const r = await ws.call("grep_file", { pattern, literal: true, max_results: 1000 });
  return [...new Set(((r.structuredContent?.results ?? []) as { path: string }[]).map((x) => x.path))].sort();
}

async function listPaths(ws: TestWorkspace): Promise<string[]> {
  const r = await ws.call("list_files", { path: ".", recursive: true, max_items: 1000, per_page: 1000 });
  assert.notEqual(r.isError, true, JSON.stringify(r));
  return ((r.structuredContent?.items ?? []) as { path: string }[]).map((x) => x.path);
}

describe("search cannot be turned against files outside the workspace", () => {
  let outside: string;
  before(async () => {
    outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-outside-")));
  });
  after(() => rm(outside, { recursive: true, force: true }));

  test("a symlink planted under a sync cookie's name is never followed (nothing outside is written)", async () => {
    const ws = await makeTestWorkspace();
    try {
      const precious = path.join(outside, "precious.txt");
      await writeFile(precious, "precious data\n");
      await ws.write({ ".git/HEAD": "ref: refs/heads/main\n", "a.txt": "needle\n" });
      // Every name the old scheme would have used for this process's first cookies, in both places.
      for (let seq = 1; seq <= 20; seq++) {
        for (const dir of [".git", "."]) {
          await symlink(precious, path.join(ws.root, dir, `.toold-cookie-${process.pid}-${seq}`));
        }
      }
      for (let i = 0; i < 5; i++) assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt"]);
      assert.equal(await readFile(precious, "utf8"), "precious data\n");
      assert.equal(ws.index?.stats().healthy, true);
    } finally {
      await ws.cleanup();
    }
  });

  test("the index makes its cookies outside the workspace, and removes them", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({ ".git/HEAD": "ref: refs/heads/main\n", "a.txt": "needle\n" });
      const seen: string[] = [];
      const watchers = [ws.root, path.join(ws.root, ".git")].map((d) =>
        watch(d, (_e, name) => {
          if (name) seen.push(name);
        }),
      );
      try {
        for (let i = 0; i < 3; i++) {
          assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt"]);
          assert.deepEqual(await listPaths(ws), ["a.txt"]);
        }
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        for (const w of watchers) w.close();
      }
      assert.deepEqual(seen, [], "a read-only search writes nothing in the workspace");
    } finally {
      await ws.cleanup();
    }
  });

  test("a .gitignore that is a symlink to a file outside is not followed", async () => {
    const ws = await makeTestWorkspace();
    try {
      await writeFile(path.join(outside, "rules"), "*.ts\n");
      await ws.write({ "a.ts": "needle\n", "b.txt": "needle\n" });
      await symlink(path.join(outside, "rules"), path.join(ws.root, ".gitignore"));
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.ts", "b.txt"]);
      assert.deepEqual(await listPaths(ws), ["a.ts", "b.txt"]);
      assert.equal(ws.index?.stats().healthy, true);
    } finally {
      await ws.cleanup();
    }
  });

  test(
    ".gitignore -> /dev/zero and an oversized .gitignore are skipped; the index stays healthy and recovers",
    { timeout: 20_000 },
    async () => {
      const ws = await makeTestWorkspace();
      try {
        await ws.write({ "a.ts": "needle\n", "sub/b.ts": "needle\n", "sub/c.log": "needle\n" });
        await symlink("/dev/zero", path.join(ws.root, ".gitignore"));
        await writeFile(path.join(ws.root, "sub", ".gitignore"), `*.ts\n${"#".repeat(2 * 1024 * 1024)}\n`);
        const rssBefore = process.memoryUsage().rss;
        assert.deepEqual(await grepPaths(ws, "needle"), ["a.ts", "sub/b.ts", "sub/c.log"]);
        assert.ok(process.memoryUsage().rss - rssBefore < 100 * 1024 * 1024, "memory stays bounded");
        assert.equal(ws.index?.stats().healthy, true);
        // Replaced by real ones: the rules apply again, through the same index.
        await unlink(path.join(ws.root, ".gitignore"));
        await writeFile(path.join(ws.root, ".gitignore"), "*.log\n");
        await writeFile(path.join(ws.root, "sub", ".gitignore"), "*.ts\n");
        assert.deepEqual(await grepPaths(ws, "needle"), ["a.ts"]);
        assert.equal(ws.index?.stats().healthy, true);
      } finally {
        await ws.cleanup();
      }
    },
  );

  test("a FIFO named .ignore does not hang the search", { timeout: 20_000 }, async () => {
    const ws = await makeTestWorkspace();
    try {
      await mkdir(path.join(ws.root, "d"));
      await ws.write({ "d/a.txt": "needle\n" });
      const { execFileSync } = await import("node:child_process");
      execFileSync("mkfifo", [path.join(ws.root, "d", ".ignore")]);
      assert.deepEqual(await grepPaths(ws, "needle"), ["d/a.txt"]);
    } finally {
      await ws.cleanup();
    }
  });
});
