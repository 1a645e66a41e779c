/**
 * The warm workspace index: the same entries as the disk walker, and every change made by another
 * program before a call (create, edit, delete, rename, ignore-file edits) seen by that call.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import { walk, type WalkOptions } from "../../src/search/walk.js";
import { writeSearchTree } from "../fixtures/search-tree.js";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";

/** Runs a shell command: the change comes from another process, as an editor's or git's would. */
function sh(cwd: string, script: string): void {
  execFileSync("sh", ["-c", script], { cwd });
}

async function diskWalk(root: string, options: WalkOptions): Promise<{ path: string; type: string }[]> {
  const out = [];
  for await (const e of walk(root, { ...options, base: options.base ?? root })) out.push(e);
  return out;
}

async function grepPaths(ws: TestWorkspace, pattern: string): Promise<string[]> {
  const r = await ws.call("grep_file", { pattern, literal: true, max_results: 1000 });
  // "No matches" is a tool-level result with isError (the contract's "no match").
  if (r.isError) assert.match(r.content[0]?.text ?? "", /^No matches/, JSON.stringify(r));
  return [...new Set(((r.structuredContent?.results ?? []) as { path: string }[]).map((x) => x.path))].sort();
}

async function listPaths(ws: TestWorkspace): Promise<string[]> {
  const r = await ws.call("list_files", { path: ".", recursive: true, max_items: 10000, per_page: 1000 });
  assert.notEqual(r.isError, true, JSON.stringify(r));
  return ((r.structuredContent?.items ?? []) as { path: string }[]).map((x) => x.path);
}

/** ~200 KB of short lines with "needle" written over block edges (16 KiB) and elsewhere. */
function blockFile(): string {
  let text = "abcdefghij\n".repeat(20000);
  for (const at of [16381, 16384, 32766, 49152, 65530, 100000, 180000]) {
    text = `${text.slice(0, at)}needle${text.slice(at + 6)}`;
  }
  return text;
}

describe("WorkspaceIndex", () => {
  test("lists exactly what the disk walker lists, for every option the tools pass", async () => {
    const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-index-")));
    const root = path.join(base, "ws");
    try {
      await writeSearchTree(root, path.join(base, "outside"));
      const index = new WorkspaceIndex({ root });
      await index.start();
      const variants: WalkOptions[] = [
        {},
        { includeHidden: true },
        { respectIgnoreFiles: false },
        { includeHidden: true, respectIgnoreFiles: false },
        { maxDepth: 1 },
        { globs: ["*.txt"] },
        { globs: ["!*.md", "src/**"] },
        { globs: ["*.log"] },
      ];
      for (const options of variants) {
        for (const sub of [root, path.join(root, "src"), path.join(root, "docs", "sub")]) {
          const expected = await diskWalk(sub, { ...options, base: root });
          const actual = index.entries(sub, { ...options, base: root });
          // The index does not hold ignored folders (build/): a walk that enters one is the disk's.
          const entersIgnored = expected.some((e) => e.path === "build" || e.path.startsWith("build/"));
          if (entersIgnored && sub === root) {
            assert.equal(actual, undefined, `options ${JSON.stringify(options)}: not covered`);
            continue;
          }
          assert.deepEqual(
            actual,
            expected,
            `options ${JSON.stringify(options)} under ${path.relative(root, sub) || "."}`,
          );
        }
      }
      assert.throws(() => index.entries(path.join(root, "README.md")), { code: "ENOTDIR" });
      assert.throws(() => index.entries(path.join(root, "nope")), { code: "ENOENT" });
      const s = index.stats();
      assert.equal(s.ready, true);
      assert.equal(s.healthy, true);
      // One watch per indexed folder, plus the private cookie folder and .git/info (its exclude
      // file); build/ (ignored) is neither indexed nor watched.
      assert.ok(s.dirs >= 8 && s.watches === s.dirs + 2, JSON.stringify(s));
      assert.equal(s.unindexed, 1, JSON.stringify(s));
      index.dispose();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  test("creates, edits, deletes and renames by another program show up in the next call", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({
        "a.txt": "alpha needle\n",
        "dir/b.txt": "beta\n",
        "dir/deep/c.txt": "gamma needle\n",
      });
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt", "dir/deep/c.txt"]);
      assert.ok(ws.index, "the test context is warm by default");
      assert.equal(ws.index.stats().ready, true);

      sh(ws.root, "printf 'new needle\\n' > created.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt", "created.txt", "dir/deep/c.txt"]);

      // An in-place edit of a cached file, keeping its size: the watcher invalidates it.
      sh(ws.root, "printf 'beta needl\\n' > dir/b.txt && printf 'alpha noodle\\n' > a.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), ["created.txt", "dir/deep/c.txt"]);
      sh(ws.root, "printf 'beta needle\\n' > dir/b.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), ["created.txt", "dir/b.txt", "dir/deep/c.txt"]);

      sh(ws.root, "rm created.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), ["dir/b.txt", "dir/deep/c.txt"]);

      // Renames: a file, then a whole folder (its watches must follow the new name).
      sh(ws.root, "mv dir/b.txt dir/renamed.txt && mv dir moved");
      assert.deepEqual(await grepPaths(ws, "needle"), ["moved/deep/c.txt", "moved/renamed.txt"]);
      sh(ws.root, "printf 'more needle\\n' > moved/deep/d.txt");
      assert.deepEqual(await listPaths(ws), [
        "a.txt",
        "moved/deep/c.txt",
        "moved/deep/d.txt",
        "moved/renamed.txt",
      ]);

      // A folder created with content in one go (mkdir -p + files before the watch exists).
      sh(ws.root, "mkdir -p x/y/z && printf 'needle\\n' > x/y/z/e.txt && printf 'needle\\n' > x/f.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), [
        "moved/deep/c.txt",
        "moved/deep/d.txt",
        "moved/renamed.txt",
        "x/f.txt",
        "x/y/z/e.txt",
      ]);

      sh(ws.root, "rm -rf moved");
      assert.deepEqual(await listPaths(ws), ["a.txt", "x/f.txt", "x/y/z/e.txt"]);
      assert.ok(ws.index.stats().events > 0);
    } finally {
      await ws.cleanup();
    }
  });

  test("warm searches (cache, trigram summaries, literal fast path) answer exactly as cold ones", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({
        "long.js": `${"x".repeat(10000)}needle${"y".repeat(5000)}needle\r\nshort needle line\n${`${"a".repeat(6000)}needle`.repeat(3)}`,
        "bom.txt": "\uFEFFneedle at start\nsecond needle\n",
        "uni.txt": `日本語 needle 😀 needle\n${"é".repeat(3000)}needle\n`,
        "crlf.txt": "needle\r\nfoo\r\nneedle\r\n",
        "none.txt": "nothing here\n",
        "bin.dat": Buffer.from([110, 101, 101, 100, 108, 101, 0, 1]),
        "sub/deep.ts": "const needleCount = 2; // needle\n",
        // Several 16 KiB summary blocks, with hits across block edges and deep in the file.
        "blocks.txt": blockFile(),
        // Long non-ASCII lines: clip windows that start and end inside surrogate pairs.
        "emoji.txt": `${"😀".repeat(3000)}xneedle${"😀".repeat(3000)}needle😀\n${"é".repeat(5000)}needle\r\nb${"日本".repeat(2500)}needle\n`,
      });
      // Lowercase patterns are case-insensitive (smart case) and take no literal prefilter: the
      // case-sensitive variants exercise the fast paths.
      const queries: Record<string, unknown>[] = [
        { pattern: "needle", literal: true, case_sensitive: true },
        { pattern: "needle", literal: true, case_sensitive: true, context_lines: 2 },
        { pattern: "ne+dle", case_sensitive: true },
        { pattern: "y+needle", case_sensitive: true },
        { pattern: "\\w{3}dle\\s*$", case_sensitive: true },
        { pattern: "a{2,}needle", max_results: 2, case_sensitive: true },
        { pattern: "needle", literal: true, word_boundaries: true, case_sensitive: true },
        { pattern: "needle", literal: true, files_with_matches: true, case_sensitive: true },
        { pattern: "needle", literal: true, max_results: 5, case_sensitive: true },
        { pattern: "needle", literal: true },
        { pattern: "needle", literal: true, context_lines: 1 },
        { pattern: "ne+dle" },
        { pattern: "y+needle" },
        { pattern: "\\w{3}dle\\s*$" },
        { pattern: "a{2,}needle", max_results: 2 },
        { pattern: "needle\\s+at" },
        { pattern: "needle", word_boundaries: true },
        { pattern: "NEEDLE", case_sensitive: false },
        { pattern: "needle", literal: true, max_results: 3 },
        { pattern: "needle", literal: true, files_with_matches: true },
        { pattern: "needleCount|nothing" },
        { pattern: "absent-literal", literal: true },
      ];
      for (let round = 0; round < 2; round++) {
        for (const q of queries) {
          const cold = await ws.call("grep_file", q, { index: undefined });
          const warm = await ws.call("grep_file", q);
          assert.deepEqual(warm, cold, `round ${round}: ${JSON.stringify(q)}`);
        }
        // Let the background trigram summaries be built, so round 2 uses them.
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.ok(ws.files.stats().memoBytes > 0, "summaries were built");
    } finally {
      await ws.cleanup();
    }
  });

  test("read_file sees a change made just before it, cached or not", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({ "r.txt": "v1\n" });
      for (let i = 2; i < 12; i++) {
        sh(ws.root, `printf 'v${i}\\n' > r.txt`);
        const r = await ws.call("read_file", { path: "r.txt" });
        assert.equal(r.content[0]?.text, `v${i}\n`);
      }
      assert.ok(ws.files.stats().misses >= 1);
    } finally {
      await ws.cleanup();
    }
  });

  test("an edited .gitignore applies to the next call", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({ "keep.ts": "x\n", "gen.ts": "x\n", "sub/gen2.ts": "x\n" });
      assert.deepEqual(await listPaths(ws), ["gen.ts", "keep.ts", "sub/gen2.ts"]);
      sh(ws.root, "printf 'gen*.ts\\n' > .gitignore");
      assert.deepEqual(await listPaths(ws), ["keep.ts"]);
      sh(ws.root, "printf 'sub/\\n' > .gitignore");
      assert.deepEqual(await listPaths(ws), ["gen.ts", "keep.ts"]);
    } finally {
      await ws.cleanup();
    }
  });

  test("an edited .rgignore applies to the next call, over .gitignore", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({ ".gitignore": "gen*.ts\n", "keep.ts": "x\n", "gen.ts": "x\n", "sub/gen2.ts": "x\n" });
      assert.deepEqual(await listPaths(ws), ["keep.ts"]);
      sh(ws.root, "printf '!gen.ts\\n' > .rgignore");
      assert.deepEqual(await listPaths(ws), ["gen.ts", "keep.ts"]);
      sh(ws.root, "printf '!gen2.ts\\n' > sub/.rgignore");
      assert.deepEqual(await listPaths(ws), ["gen.ts", "keep.ts", "sub/gen2.ts"]);
      sh(ws.root, "rm .rgignore sub/.rgignore");
      assert.deepEqual(await listPaths(ws), ["keep.ts"]);
    } finally {
      await ws.cleanup();
    }
  });

  test("write tools' own changes are seen by the next search (no stale cache)", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({ "w.txt": "old text\n" });
      assert.deepEqual(await grepPaths(ws, "old"), ["w.txt"]);
      const w = await ws.call("write_file", { path: "w.txt", content: "new text\n" });
      assert.notEqual(w.isError, true, JSON.stringify(w));
      assert.deepEqual(await grepPaths(ws, "old"), []);
      assert.deepEqual(await grepPaths(ws, "new"), ["w.txt"]);
    } finally {
      await ws.cleanup();
    }
  });

  test("without a watch (or when it cannot sync) the tools read the disk", async () => {
    const ws = await makeTestWorkspace({ toml: "[cache]\nwatch = false\n" });
    try {
      assert.equal(ws.index, undefined);
      await ws.write({ "a.txt": "needle\n" });
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt"]);
      sh(ws.root, "printf 'needle\\n' > b.txt");
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt", "b.txt"]);
    } finally {
      await ws.cleanup();
    }
    const idx = new WorkspaceIndex({ root: path.join(os.tmpdir(), "toold-no-such-dir-for-index") });
    assert.equal(await idx.sync(), false, "an index that could not build reports it cannot vouch");
    idx.dispose();
  });

  test("a cache shared with the index is invalidated by watcher events", async () => {
    const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-index-")));
    try {
      const cache = new FileCache({ maxBytes: 1 << 20 });
      const index = new WorkspaceIndex({ root: base, cache });
      sh(base, "printf 'one\\n' > f.txt");
      await index.start();
      const f = path.join(base, "f.txt");
      assert.equal(
        cache.readTrusted(f, (d) => d.toString()),
        "one\n",
      );
      sh(base, "printf 'two\\n' > f.txt");
      assert.equal(await index.sync(), true);
      assert.equal(
        cache.readTrusted(f, (d) => d.toString()),
        "two\n",
      );
      assert.ok(cache.stats().invalidations >= 1);
      index.dispose();
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  test("ignored folders are neither indexed nor watched; a rule change brings them in and out", async () => {
    const ws = await makeTestWorkspace();
    try {
      const deps: Record<string, string> = { ".gitignore": "node_modules/\n", "src/app.ts": "needle app\n" };
      for (let i = 0; i < 30; i++) deps[`node_modules/pkg${i}/lib/deep/index.js`] = "needle dep\n";
      await ws.write(deps);
      assert.deepEqual(await grepPaths(ws, "needle"), ["src/app.ts"]);
      let s = ws.index!.stats();
      // root, src and the cookie folder: nothing below node_modules.
      assert.equal(s.dirs, 2, JSON.stringify(s));
      assert.equal(s.watches, 3, JSON.stringify(s));
      assert.equal(s.unindexed, 1, JSON.stringify(s));
      // A walk into the ignored folder reads the disk, and finds what is there.
      const all = await ws.call("grep_file", {
        pattern: "needle",
        respect_ignore_files: false,
        max_results: 1000,
      });
      assert.equal((all.structuredContent as { total_matches: number }).total_matches, 31);
      const one = await ws.call("grep_file", {
        pattern: "needle",
        path: "node_modules/pkg3/lib/deep/index.js",
      });
      assert.equal((one.structuredContent as { total_matches: number }).total_matches, 1);
      // The rule goes: the folder is indexed and searched.
      sh(ws.root, "printf '' > .gitignore");
      assert.equal((await grepPaths(ws, "needle")).length, 31);
      s = ws.index!.stats();
      assert.equal(s.unindexed, 0, JSON.stringify(s));
      assert.ok(s.dirs > 90, JSON.stringify(s));
      // And comes back: dropped again, watches closed.
      sh(ws.root, "printf 'node_modules/\\n' > .gitignore");
      assert.deepEqual(await grepPaths(ws, "needle"), ["src/app.ts"]);
      s = ws.index!.stats();
      assert.equal(s.dirs, 2, JSON.stringify(s));
      assert.equal(s.watches, 3, JSON.stringify(s));
      // A new folder created under an ignored one stays out; a new ignored folder too.
      sh(
        ws.root,
        "mkdir -p node_modules/new/x && echo needle > node_modules/new/x/y.js && mkdir -p src/node_modules/z",
      );
      assert.deepEqual(await grepPaths(ws, "needle"), ["src/app.ts"]);
      assert.equal(ws.index!.stats().watches, 3);
    } finally {
      await ws.cleanup();
    }
  });

  test("an edited .git/info/exclude applies to the next call", async () => {
    const ws = await makeTestWorkspace();
    try {
      await ws.write({
        ".git/info/exclude": "",
        ".git/HEAD": "ref: refs/heads/main\n",
        "a.txt": "needle\n",
        "b.txt": "needle\n",
      });
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt", "b.txt"]);
      sh(ws.root, "echo b.txt > .git/info/exclude");
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt"]);
      sh(ws.root, "printf '' > .git/info/exclude");
      assert.deepEqual(await grepPaths(ws, "needle"), ["a.txt", "b.txt"]);
    } finally {
      await ws.cleanup();
    }
  });

  test("an unhealthy index rebuilds itself; calls read the disk meanwhile", async () => {
    const ws = await makeTestWorkspace({ warm: false });
    const index = new WorkspaceIndex({ root: ws.root, cache: ws.files, recoverEveryMs: 0 });
    try {
      await ws.write({ "a.txt": "needle\n" });
      const grep = async () => {
        const r = await ws.call("grep_file", { pattern: "needle", literal: true }, { index });
        return ((r.structuredContent?.results ?? []) as { path: string }[]).map((x) => x.path).sort();
      };
      assert.deepEqual(await grep(), ["a.txt"]);
      await index.start();
      assert.deepEqual(await grep(), ["a.txt"]);
      // As after a failed watch: the index stops vouching for the tree.
      (index as unknown as { healthy: boolean }).healthy = false;
      sh(ws.root, "echo needle > b.txt");
      assert.deepEqual(await grep(), ["a.txt", "b.txt"]); // the disk, while it rebuilds
      await index.start();
      assert.equal(index.stats().healthy, true);
      assert.equal(index.usable, true);
      sh(ws.root, "echo needle > c.txt && rm a.txt");
      assert.deepEqual(await grep(), ["b.txt", "c.txt"]);
      assert.ok(index.stats().rebuilds >= 1);
    } finally {
      index.dispose();
      await ws.cleanup();
    }
  });
});
