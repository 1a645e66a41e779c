/**
 * Check-to-use races on the read side (issue #12, item 4): another process swaps a workspace
 * file for a symlink to an outside file, and a workspace folder for a symlink to an outside
 * folder, in a tight loop, while the tools run. Whatever a call saw at its check, it must never
 * return, hash, or write into the workspace the outside contents, nor change them.
 *
 * The swapper is a separate process (a real race, not turns of our event loop). It also counts,
 * before each swap, workspace files that hold the outside secret: the way edit_file, write_file
 * append and apply_patch would leak it (read outside, write inside).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import type { ToolResult } from "../../src/tools/shared/types.js";
import { ColdSearchPool } from "../../src/search/cold-search.js";

const SECRET = "needle SECRET-OUTSIDE-7f3a\n";
const INSIDE = "needle inside\n";
const CALLS = 200;

const SWAPPER = String.raw`
const fs = require("fs");
const path = require("path");
const [root, outside] = process.argv.slice(1);
const f = path.join(root, "f.txt");
const d = path.join(root, "d");
let swaps = 0;
let leaks = 0;
function leaked(p) {
  try {
    if (fs.lstatSync(p).isFile() && fs.readFileSync(p, "utf8").includes("SECRET")) leaks++;
  } catch {}
}
function quiet(fn) {
  try { fn(); } catch {}
}
function cycle() {
  // The file: a regular file, then a link to the outside secret.
  leaked(f);
  quiet(() => { fs.writeFileSync(f + ".tmp", ${JSON.stringify(INSIDE)}); fs.renameSync(f + ".tmp", f); });
  quiet(() => { fs.symlinkSync(path.join(outside, "secret.txt"), f + ".lnk"); fs.renameSync(f + ".lnk", f); });
  // The folder: a real folder, then a link to an outside folder holding the same name.
  leaked(path.join(d, "g.txt"));
  quiet(() => fs.renameSync(d, d + ".real"));
  quiet(() => { fs.symlinkSync(path.join(outside, "dir"), d + ".lnk"); fs.renameSync(d + ".lnk", d); });
  quiet(() => fs.unlinkSync(d));
  quiet(() => fs.renameSync(d + ".real", d));
  swaps++;
}
let stop = false;
process.on("SIGTERM", () => { stop = true; });
process.stdout.write("ready\n");
(function loop() {
  for (let i = 0; i < 50 && !stop; i++) cycle();
  if (stop) {
    // Leave the real file and folder in place, then report.
    quiet(() => { fs.writeFileSync(f + ".tmp", ${JSON.stringify(INSIDE)}); fs.renameSync(f + ".tmp", f); });
    process.stdout.write(JSON.stringify({ swaps, leaks }) + "\n");
    process.exit(0);
  }
  setImmediate(loop);
})();
`;

let base: string;
let outside: string;
let ws: TestWorkspace;
/** Every walk goes to its workers (minFiles 0), which open files themselves. */
let cold: ColdSearchPool;

before(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-race-")));
  outside = path.join(base, "outside");
  await mkdir(path.join(outside, "dir"), { recursive: true });
  await writeFile(path.join(outside, "secret.txt"), SECRET);
  await writeFile(path.join(outside, "dir", "g.txt"), SECRET);
  ws = await makeTestWorkspace();
  await ws.write({ "f.txt": INSIDE, "d/g.txt": INSIDE, "other.txt": "needle elsewhere\n" });
  cold = new ColdSearchPool({ threads: 2, minFiles: 0 });
  cold.start();
  await cold.ready(10_000);
});

after(async () => {
  await cold.dispose();
  await ws.cleanup();
  await rm(base, { recursive: true, force: true });
});

/** Starts the swapper and resolves once it swaps; `stop()` ends it and returns its counts. */
async function startSwapper(): Promise<{ stop: () => Promise<{ swaps: number; leaks: number }> }> {
  const child = spawn(process.execPath, ["-e", SWAPPER, ws.root, outside], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    void exited.then(() => reject(new Error(`the swapper exited early: ${out}`)));
  });
  return {
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      return JSON.parse(out.slice("ready\n".length)) as { swaps: number; leaks: number };
    },
  };
}

interface Tally {
  calls: number;
  ok: number;
  leaked: string[];
}

/** Runs `make()` CALLS times against the swapper; `leaks(result)` says what in it is outside data. */
async function race(
  calls: Array<() => Promise<ToolResult>>,
  leaks: (result: ToolResult, i: number) => boolean,
): Promise<Tally & { swaps: number; writtenLeaks: number }> {
  const swapper = await startSwapper();
  const tally: Tally = { calls: 0, ok: 0, leaked: [] };
  let report: { swaps: number; leaks: number };
  try {
    for (let n = 0; n < CALLS; n++) {
      for (let i = 0; i < calls.length; i++) {
        tally.calls++;
        let result: ToolResult;
        try {
          result = await calls[i]!();
        } catch {
          continue; // a refused or failed call leaks nothing
        }
        if (!result.isError) tally.ok++;
        if (leaks(result, i)) tally.leaked.push(textOf(result).slice(0, 200));
      }
    }
  } finally {
    report = await swapper.stop();
  }
  // The outside files never change.
  assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), SECRET);
  assert.equal(await readFile(path.join(outside, "dir", "g.txt"), "utf8"), SECRET);
  return { ...tally, swaps: report.swaps, writtenLeaks: report.leaks };
}

const mentionsSecret = (r: ToolResult) => JSON.stringify(r).includes("SECRET");
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function assertNoLeak(name: string, t: Awaited<ReturnType<typeof race>>): void {
  const summary = `${name}: ${t.leaked.length} of ${t.calls} calls returned outside data, ${t.writtenLeaks} workspace files held it (${t.ok} calls succeeded, ${t.swaps} swap cycles)`;
  assert.ok(t.swaps > 10, `the swapper ran (${summary})`);
  assert.ok(t.ok > 0, `some calls got through (${summary})`);
  assert.deepEqual(
    { leaked: t.leaked.slice(0, 3), writtenLeaks: t.writtenLeaks },
    { leaked: [], writtenLeaks: 0 },
    summary,
  );
}

describe("a file or folder swapped for a symlink mid-call never leaks outside contents", () => {
  test("read_file (the file, and a file below a swapped folder)", async () => {
    const t = await race(
      [() => ws.call("read_file", { path: "f.txt" }), () => ws.call("read_file", { path: "d/g.txt" })],
      mentionsSecret,
    );
    assertNoLeak("read_file", t);
  });

  test("grep_file, warm (the index and file cache) and cold (the walker's reader, the cold search's workers)", async () => {
    const t = await race(
      [
        () => ws.call("grep_file", { pattern: "needle" }),
        () => ws.call("grep_file", { pattern: "needle" }, { index: undefined }),
        () => ws.call("grep_file", { pattern: "needle" }, { index: undefined, coldSearch: cold }),
      ],
      mentionsSecret,
    );
    assertNoLeak("grep_file", t);
  });

  test("edit_file", async () => {
    const t = await race(
      [
        () => ws.call("edit_file", { path: "f.txt", old_str: "needle", new_str: "needle!" }),
        () => ws.call("edit_file", { path: "d/g.txt", old_str: "needle", new_str: "needle!" }),
      ],
      mentionsSecret,
    );
    assertNoLeak("edit_file", t);
  });

  test("write_file append and skip_if_exists", async () => {
    const secretSha = sha(SECRET);
    const t = await race(
      [
        () => ws.call("write_file", { path: "f.txt", content: "", mode: "append" }),
        () => ws.call("write_file", { path: "d/g.txt", content: "", mode: "append" }),
        () => ws.call("write_file", { path: "f.txt", content: "x", mode: "skip_if_exists" }),
        () => ws.call("write_file", { path: "d/g.txt", content: "x", mode: "skip_if_exists" }),
      ],
      (r) =>
        mentionsSecret(r) ||
        r.structuredContent?.["sha256"] === secretSha ||
        r.structuredContent?.["file_bytes"] === Buffer.byteLength(SECRET),
    );
    assertNoLeak("write_file", t);
  });

  test("apply_patch", async () => {
    const patch = (p: string) =>
      `*** Begin Patch\n*** Update File: ${p}\n@@\n-needle inside\n+needle inside\n+patched\n*** End Patch\n`;
    const loose = (p: string) => `*** Begin Patch\n*** Update File: ${p}\n@@\n+appended\n*** End Patch\n`;
    const t = await race(
      [
        () => ws.call("apply_patch", { input: patch("f.txt") }),
        () => ws.call("apply_patch", { input: loose("f.txt") }),
        () => ws.call("apply_patch", { input: loose("d/g.txt") }),
      ],
      mentionsSecret,
    );
    assertNoLeak("apply_patch", t);
  });
});
