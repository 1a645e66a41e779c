/**
 * Special files cannot freeze the daemon: opening a FIFO for reading blocks until a writer
 * comes, which would stall the event loop (a sync open) or a thread-pool thread (an async one;
 * four of them stop every file operation). Every tool must refuse or skip them, and other calls
 * must keep answering.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import type { ToolDClient, ToolResult } from "../../src/client/index.js";

let d: TestDaemon;
let c: ToolDClient;

before(async () => {
  d = await makeTestDaemon({
    toml: `[tools.policies]\ndelete_file = "allow"\n`,
    files: { "ok.txt": "fine\n", "sub/other.txt": "other\n" },
  });
  execFileSync("mkfifo", [path.join(d.root, "pipe"), path.join(d.root, "sub", ".gitignore")]);
  c = await d.connect();
});

after(async () => {
  c?.close();
  await d.cleanup();
});

/** A call that must answer (anything) within 10 s; a hang fails the test instead of the suite. */
async function answers(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      c.callTool(name, args),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name} ${JSON.stringify(args)} hung on a FIFO`)), 10_000);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const text = (r: ToolResult) => r.content.map((x) => x.text).join("");

test("reading, grepping, editing or writing a FIFO is refused, not waited on", async () => {
  for (let round = 0; round < 5; round++) {
    // More rounds than the thread pool has threads: a blocked open would use one up each time.
    const read = await answers("read_file", { path: "pipe" });
    assert.equal(read.isError, true);
    assert.match(text(read), /not a regular file/);
  }
  const grep = await answers("grep_file", { pattern: "x", path: "pipe" });
  assert.equal(grep.isError, true);
  const edit = await answers("edit_file", { path: "pipe", old_str: "a", new_str: "b" });
  assert.equal(edit.isError, true);
  const write = await answers("write_file", { path: "pipe", content: "x" });
  assert.equal(write.isError, true);
  const patch = await answers("apply_patch", {
    input: "*** Begin Patch\n*** Update File: pipe\n@@\n-a\n+b\n*** End Patch\n",
  });
  assert.equal(patch.isError, true);
});

test("a walk over a tree holding FIFOs (one named .gitignore) finishes", async () => {
  for (let round = 0; round < 5; round++) {
    const grep = await answers("grep_file", { pattern: "other", path: "." });
    assert.match(text(grep), /other/);
    const list = await answers("list_files", { path: ".", recursive: true });
    assert.match(text(list), /ok\.txt/);
  }
});

test("the daemon still answers ordinary calls", async () => {
  const r = await answers("read_file", { path: "ok.txt" });
  assert.equal(text(r), "fine\n");
});
