/**
 * SearchTrees picks the tree of a call (issue #13): the disk while the index is being built (the
 * first call never waits for it) or cannot serve the walk, the index once it is built and synced.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { SearchTrees } from "../../src/index/indexed-source.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import { makeTestWorkspace } from "../helpers/tool-context.js";

describe("SearchTrees", () => {
  test("the disk while the index builds, the index after; the disk for walks it does not hold", async () => {
    const ws = await makeTestWorkspace({ warm: false });
    const files: Record<string, string> = { ".gitignore": "ignored/\n", "ignored/x.txt": "needle\n" };
    for (let i = 0; i < 400; i++) files[`d${i % 20}/f${i}.txt`] = `needle ${i}\n`;
    await ws.write(files);
    const index = new WorkspaceIndex({ root: ws.root, cache: ws.files });
    try {
      const trees = new SearchTrees({ root: ws.root, files: ws.files, pool: ws.pool, index: () => index });
      const first = await trees.open(ws.root, {});
      assert.equal(first.source.kind, "disk", "the first call does not wait for the index");
      // The disk source answers in full meanwhile.
      const listed = [...first.entries].filter((e) => e.type === "file").length;
      assert.equal(listed, 400);
      await index.start();
      const warm = await trees.open(ws.root, {});
      assert.equal(warm.source.kind, "indexed");
      assert.equal([...warm.entries].filter((e) => e.type === "file").length, 400);
      const all = await trees.open(ws.root, { respectIgnoreFiles: false });
      assert.equal(all.source.kind, "disk", "ignored/ is not in the index");
      assert.ok([...all.entries].some((e) => e.path === "ignored/x.txt"));
      // A grep through the tools on the same context: the first one filled the cache.
      const r = await ws.call("grep_file", { pattern: "needle", max_results: 1000 }, { index });
      assert.equal((r.structuredContent as { total_matches: number }).total_matches, 400);
      assert.ok(ws.files.stats().entries >= 400);
    } finally {
      index.dispose();
      await ws.cleanup();
    }
  });
});
