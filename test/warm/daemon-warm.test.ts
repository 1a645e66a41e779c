/**
 * Warm state through the real daemon: changes made by other programs show up in the next call,
 * a burst of 10,000 changes does not stall other clients, and the cache and index are visible
 * (and bounded) in daemon/stats.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import type { ToolDClient } from "../../src/client/index.js";
import { makeTestDaemon } from "../helpers/daemon.js";

function sh(cwd: string, script: string): void {
  execFileSync("sh", ["-c", script], { cwd });
}

async function listAll(client: ToolDClient, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (let page = 1; ; page++) {
    const r = await client.callTool("list_files", {
      path: dir,
      recursive: true,
      max_items: 100000,
      per_page: 1000,
      page,
    });
    assert.notEqual(r.isError, true, JSON.stringify(r.content));
    out.push(...((r.structuredContent?.items ?? []) as { path: string }[]).map((i) => i.path));
    if (!r.structuredContent?.has_more) return out;
  }
}

async function grepFiles(client: ToolDClient, pattern: string): Promise<string[]> {
  const r = await client.callTool("grep_file", { pattern, files_with_matches: true, max_results: 10000 });
  if (r.isError) {
    assert.match(r.content[0]?.text ?? "", /^No (files )?match/, JSON.stringify(r.content));
    return [];
  }
  return (r.structuredContent?.files ?? []) as string[];
}

test("the daemon's warm tree and cache follow changes made by other programs", async () => {
  const d = await makeTestDaemon({
    files: { "src/a.ts": "export const marker = 1;\n", "README.md": "# readme\n" },
  });
  try {
    const client = await d.connect();
    assert.deepEqual(await grepFiles(client, "marker"), ["src/a.ts"]);

    sh(d.root, "printf 'marker here\\n' > src/b.ts");
    assert.deepEqual(await grepFiles(client, "marker"), ["src/a.ts", "src/b.ts"]);

    sh(d.root, "printf 'export const marked = 1;\\n' > src/a.ts"); // same size, other content
    assert.deepEqual(await grepFiles(client, "marker"), ["src/b.ts"]);
    const read = await client.callTool("read_file", { path: "src/a.ts" });
    assert.equal(read.content[0]?.text, "export const marked = 1;\n");

    sh(d.root, "mv src lib && rm lib/a.ts");
    assert.deepEqual(await grepFiles(client, "marker"), ["lib/b.ts"]);
    assert.deepEqual(await listAll(client, "."), ["README.md", "lib/b.ts"]);

    const stats = await client.stats();
    const index = stats.index as {
      ready: boolean;
      healthy: boolean;
      files: number;
      dirs: number;
      events: number;
      syncs: number;
    };
    assert.equal(index.ready, true);
    assert.equal(index.healthy, true);
    assert.equal(index.files, 2);
    assert.ok(index.events > 0 && index.syncs >= 5, JSON.stringify(index));
    assert.ok(stats.fileCache.entries >= 1 && stats.fileCache.bytes > 0, JSON.stringify(stats.fileCache));
    assert.ok(stats.fileCache.hits + stats.fileCache.misses >= 5);
    client.close();
  } finally {
    await d.cleanup();
  }
});

test("a burst of 10,000 changes by another program does not stall other clients", async () => {
  const d = await makeTestDaemon({ files: { "README.md": "# readme\n" } });
  try {
    const client = await d.connect();
    await listAll(client, "."); // the index is built and watching
    // Creates, edits and deletes of 4,000 names, 10,000 changes in all, as fast as node can.
    const script = `
      const fs = require("fs");
      fs.mkdirSync("burst");
      for (let i = 0; i < 10000; i++) {
        const f = "burst/f" + (i % 4000) + ".txt";
        if (i % 5 === 4) { try { fs.unlinkSync(f); } catch {} } else fs.writeFileSync(f, "x" + i + "\\n");
      }`;
    const expected = new Map<string, string>();
    for (let i = 0; i < 10000; i++) {
      const f = `burst/f${i % 4000}.txt`;
      if (i % 5 === 4) expected.delete(f);
      else expected.set(f, `x${i}\n`);
    }
    const child = spawn(process.execPath, ["-e", script], { cwd: d.root, stdio: "ignore" });
    let done = false;
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => ((done = true), resolve(code))),
    );
    // Another client's calls keep answering while the events pour in.
    let answered = 0;
    while (!done || answered < 3) {
      const r = await client.callTool("read_file", { path: "README.md" });
      assert.equal(r.content[0]?.text, "# readme\n");
      if (answered % 5 === 0)
        await client.callTool("list_files", { path: ".", recursive: true, max_items: 100000, per_page: 10 });
      answered++;
    }
    assert.equal(await exited, 0);
    assert.ok(answered >= 3);

    const listed = await listAll(client, "burst");
    assert.equal(listed.length, expected.size);
    assert.deepEqual(new Set(listed), new Set(expected.keys()));
    // Contents too: a sample, through the cache-backed tools.
    for (const f of [...expected.keys()].slice(0, 20)) {
      const r = await client.callTool("read_file", { path: f });
      assert.equal(r.content[0]?.text, expected.get(f), f);
    }
    const hits = await grepFiles(client, "x9999");
    assert.deepEqual(
      hits,
      [...expected].filter(([, v]) => v === "x9999\n").map(([k]) => k),
    );
    const stats = await client.stats();
    assert.equal((stats.index as { healthy: boolean }).healthy, true);
    client.close();
  } finally {
    await d.cleanup();
  }
});

test("the file cache stays within [cache] max_bytes, and can be turned off on reload", async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 40; i++) files[`f${i}.txt`] = `${"line of text\n".repeat(200)}${i}\n`;
  const d = await makeTestDaemon({ toml: "[cache]\nmax_bytes = 20000\n", files });
  try {
    const client = await d.connect();
    for (let i = 0; i < 40; i++) await client.callTool("read_file", { path: `f${i}.txt` });
    assert.ok((await grepFiles(client, "line")).length === 40);
    let stats = await client.stats();
    assert.equal(stats.fileCache.maxBytes, 20000);
    assert.ok(stats.fileCache.bytes <= 20000 && stats.fileCache.entries > 0, JSON.stringify(stats.fileCache));

    sh(d.root, "printf '[cache]\\nmax_bytes = 0\\nwatch = false\\n' > vtcode.toml");
    await client.reloadConfig();
    assert.equal((await grepFiles(client, "line")).length, 40);
    stats = await client.stats();
    assert.equal(stats.fileCache.entries, 0);
    assert.deepEqual(stats.index, { enabled: false });
    client.close();
  } finally {
    await d.cleanup();
  }
});
