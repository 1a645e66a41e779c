import assert from "node:assert/strict";
import { lstat, mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { assertInvalidParams, assertOk, assertToolError, sc } from "../helpers/write-tools.js";

let ws: TestWorkspace;
let outside: string;
beforeEach(async () => {
  ws = await makeTestWorkspace();
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-outside-")));
  await writeFile(path.join(outside, "victim.txt"), "safe");
});
afterEach(async () => {
  await ws.cleanup();
  await rm(outside, { recursive: true, force: true });
});

const exists = (rel: string): Promise<boolean> =>
  lstat(path.join(ws.root, rel)).then(
    () => true,
    () => false,
  );

describe("delete_file", () => {
  it("deletes a file", async () => {
    await ws.write({ "a/b.txt": "x" });
    const r = await ws.call("delete_file", { path: "a/b.txt" });
    assertOk(r);
    assert.deepEqual(sc(r), { path: "a/b.txt", deleted: "file" });
    assert.match(textOf(r), /Deleted file a\/b\.txt/);
    assert.equal(await exists("a/b.txt"), false);
    assert.equal(await exists("a"), true);
  });

  it("deletes empty and binary files, via file_path too", async () => {
    await ws.write({ "e.txt": "", bin: Buffer.from([0, 1, 2]) });
    assertOk(await ws.call("delete_file", { file_path: "e.txt" }));
    assertOk(await ws.call("delete_file", { path: path.join(ws.root, "bin") }));
    assert.equal(await exists("e.txt"), false);
    assert.equal(await exists("bin"), false);
  });

  it("deletes a folder only with recursive: true", async () => {
    await ws.write({ "d/x.txt": "x", "d/sub/y.txt": "y" });
    const r = await ws.call("delete_file", { path: "d" });
    assertToolError(r, /is a folder: pass recursive: true/);
    assert.equal(await exists("d/sub/y.txt"), true);
    await mkdir(path.join(ws.root, "empty"));
    assertToolError(await ws.call("delete_file", { path: "empty", recursive: false }), /recursive/);
    assert.equal(await exists("empty"), true);
    const ok = await ws.call("delete_file", { path: "d/", recursive: true });
    assertOk(ok);
    assert.equal(sc(ok).deleted, "dir");
    assert.equal(await exists("d"), false);
  });

  it("never deletes the workspace root", async () => {
    await ws.write({ "keep.txt": "k" });
    for (const p of [".", "./", ws.root, "a/..", `${ws.root}/`]) {
      assertToolError(await ws.call("delete_file", { path: p, recursive: true }), /workspace root/);
    }
    assert.equal(await exists("keep.txt"), true);
  });

  it("deletes a symlink itself, never its target (inside or outside)", async () => {
    await ws.write({ "target.txt": "t", "tdir/inner.txt": "i" });
    await symlink("target.txt", path.join(ws.root, "l1"));
    await symlink(path.join(outside, "victim.txt"), path.join(ws.root, "l2"));
    await symlink("tdir", path.join(ws.root, "l3"));
    await symlink(outside, path.join(ws.root, "l4"));
    await symlink("missing", path.join(ws.root, "dangling"));
    for (const link of ["l1", "l2", "l3", "l4", "dangling"]) {
      const r = await ws.call("delete_file", { path: link });
      assertOk(r);
      assert.equal(sc(r).deleted, "symlink");
      assert.equal(await exists(link), false);
    }
    assert.equal(await readFile(path.join(ws.root, "target.txt"), "utf8"), "t");
    assert.equal(await readFile(path.join(ws.root, "tdir/inner.txt"), "utf8"), "i");
    assert.equal(await readFile(path.join(outside, "victim.txt"), "utf8"), "safe");
  });

  it("a recursive folder delete removes links inside it, not their targets", async () => {
    await ws.write({ "d/f.txt": "f" });
    await symlink(outside, path.join(ws.root, "d/out"));
    assertOk(await ws.call("delete_file", { path: "d", recursive: true }));
    assert.equal(await readFile(path.join(outside, "victim.txt"), "utf8"), "safe");
  });

  it("refuses paths outside the workspace, also through a symlinked folder", async () => {
    assertToolError(await ws.call("delete_file", { path: "../x" }), /outside the workspace/);
    assertToolError(
      await ws.call("delete_file", { path: path.join(outside, "victim.txt") }),
      /outside the workspace/,
    );
    await symlink(outside, path.join(ws.root, "out"));
    assertToolError(await ws.call("delete_file", { path: "out/victim.txt" }), /symlink/);
    assert.equal(await readFile(path.join(outside, "victim.txt"), "utf8"), "safe");
  });

  it("reports an absent path", async () => {
    assertToolError(await ws.call("delete_file", { path: "nope.txt" }), /no such file/);
    assertToolError(await ws.call("delete_file", { path: "no/such/dir/f.txt" }), /no such file/);
    await ws.write({ "file.txt": "f" });
    assertToolError(await ws.call("delete_file", { path: "file.txt/child" }), /no such file/);
    assert.equal(await exists("file.txt"), true);
  });

  it("refuses protected paths and folders that contain them", async () => {
    await ws.write({ "vtcode.toml": "", ".git/HEAD": "ref\n", "pkg/vtcode.toml": "", "sub/.git/HEAD": "x" });
    assertToolError(await ws.call("delete_file", { path: "vtcode.toml" }), /protected_paths/);
    assertToolError(await ws.call("delete_file", { path: ".git", recursive: true }), /protected_paths/);
    assertToolError(await ws.call("delete_file", { path: ".git/HEAD" }), /protected_paths/);
    assert.equal(await exists("vtcode.toml"), true);
    assert.equal(await exists(".git/HEAD"), true);
    // A vtcode.toml in any folder is protected ("**/vtcode.toml"), so is the folder holding it.
    assertToolError(await ws.call("delete_file", { path: "pkg", recursive: true }), /pkg\/vtcode\.toml/);
    assert.equal(await exists("pkg/vtcode.toml"), true);
    // Patterns are workspace-relative: ".git/**" is the root's repository only.
    assertOk(await ws.call("delete_file", { path: "sub", recursive: true }));
  });

  it("rejects bad arguments with -32602", async () => {
    await assertInvalidParams(ws.call("delete_file", {}), /path/);
    await assertInvalidParams(ws.call("delete_file", { path: "" }));
    await assertInvalidParams(ws.call("delete_file", { path: 3 }));
    await assertInvalidParams(ws.call("delete_file", { path: "a", recursive: "true" }));
    await assertInvalidParams(ws.call("delete_file", { path: "a", force: true }), /unknown argument/);
  });

  it("a cancelled call deletes nothing", async () => {
    await ws.write({ "c.txt": "c" });
    const r = await ws.call("delete_file", { path: "c.txt" }, { signal: AbortSignal.abort() });
    assert.equal(r.isError, true);
    assert.equal(await exists("c.txt"), true);
    assert.ok((await stat(path.join(ws.root, "c.txt"))).isFile());
  });

  it("is marked destructive", () => {
    const tool = ws.registry.list().find((t) => t.name === "delete_file")!;
    assert.equal(tool.annotations?.destructiveHint, true);
    assert.equal(tool.annotations?.readOnlyHint, false);
  });
});
