import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";
import {
  assertInvalidParams,
  assertNoTempFiles,
  assertOk,
  assertToolError,
  sc,
} from "../helpers/write-tools.js";

let ws: TestWorkspace;
beforeEach(async () => {
  ws = await makeTestWorkspace();
});
afterEach(() => ws.cleanup());

describe("create_file", () => {
  it("creates a new file with parent folders", async () => {
    const r = await ws.call("create_file", { path: "src/new/mod.ts", content: "export {};\n" });
    assertOk(r);
    assert.equal(await readFile(path.join(ws.root, "src/new/mod.ts"), "utf8"), "export {};\n");
    assert.equal(sc(r).created, true);
    assert.equal(sc(r).bytes_written, 11);
    await assertNoTempFiles(ws.root);
  });

  it("creates an empty file", async () => {
    assertOk(await ws.call("create_file", { file_path: "empty", content: "" }));
    assert.equal((await stat(path.join(ws.root, "empty"))).size, 0);
  });

  it("fails when the file exists, leaving it byte-identical", async () => {
    const original = Buffer.from("line1\r\nline2\x00binary");
    await ws.write({ "exists.txt": original });
    const r = await ws.call("create_file", { path: "exists.txt", content: "new" });
    assertToolError(r, /already exists: use write_file .* or edit_file/);
    assert.deepEqual(await readFile(path.join(ws.root, "exists.txt")), original);
    await assertNoTempFiles(ws.root);
  });

  it("fails on an existing directory and on a symlink leading outside", async () => {
    await mkdir(path.join(ws.root, "dir"));
    assertToolError(await ws.call("create_file", { path: "dir", content: "x" }), /directory/);
    const outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-out-")));
    try {
      await symlink(outside, path.join(ws.root, "out"));
      assertToolError(await ws.call("create_file", { path: "out/x.txt", content: "x" }), /symlink/);
      await assert.rejects(stat(path.join(outside, "x.txt")), { code: "ENOENT" });
      assertToolError(await ws.call("create_file", { path: "../x.txt", content: "x" }), /outside/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses protected paths", async () => {
    assertToolError(
      await ws.call("create_file", { path: ".git/hooks/pre-commit", content: "x" }),
      /protected_paths/,
    );
    await assert.rejects(stat(path.join(ws.root, ".git")), { code: "ENOENT" });
  });

  it("rejects bad arguments with -32602 (no mode argument)", async () => {
    await assertInvalidParams(ws.call("create_file", { path: "a" }));
    await assertInvalidParams(ws.call("create_file", { content: "a" }));
    await assertInvalidParams(ws.call("create_file", { path: ["a"], content: "a" }));
    await assertInvalidParams(
      ws.call("create_file", { path: "a", content: "a", mode: "overwrite" }),
      /unknown argument "mode"/,
    );
  });
});
