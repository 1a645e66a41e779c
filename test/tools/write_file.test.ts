import assert from "node:assert/strict";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { createHash } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import {
  assertInvalidParams,
  assertNoTempFiles,
  assertOk,
  assertToolError,
  sc,
} from "../helpers/write-tools.js";

const sha = (s: string | Buffer): string => createHash("sha256").update(s).digest("hex");

let ws: TestWorkspace;
let outside: string;
beforeEach(async () => {
  ws = await makeTestWorkspace();
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-outside-")));
});
afterEach(async () => {
  await ws.cleanup();
  await rm(outside, { recursive: true, force: true });
});

const read = (rel: string): Promise<Buffer> => readFile(path.join(ws.root, rel));

describe("write_file", () => {
  it("creates a new file and its parent folders", async () => {
    const r = await ws.call("write_file", { path: "a/b/c.txt", content: "héllo\n" });
    assertOk(r);
    assert.equal((await read("a/b/c.txt")).toString(), "héllo\n");
    const s = sc(r);
    assert.equal(s.path, "a/b/c.txt");
    assert.equal(s.bytes_written, Buffer.byteLength("héllo\n"));
    assert.equal(s.created, true);
    assert.equal(s.mode, "overwrite");
    assert.equal(s.sha256, sha("héllo\n"));
    assert.match(textOf(r), /Created a\/b\/c\.txt/);
    await assertNoTempFiles(ws.root);
  });

  it("overwrites an existing file, keeping its permissions", async () => {
    await ws.write({ "x.sh": "old content that is longer\n" });
    await chmod(path.join(ws.root, "x.sh"), 0o751);
    const r = await ws.call("write_file", { path: "x.sh", content: "new\n" });
    assertOk(r);
    assert.equal((await read("x.sh")).toString(), "new\n");
    assert.equal((await stat(path.join(ws.root, "x.sh"))).mode & 0o777, 0o751);
    assert.equal(sc(r).created, false);
    await assertNoTempFiles(ws.root);
  });

  it("writes content byte-exact: CRLF, empty content, unicode", async () => {
    assertOk(await ws.call("write_file", { path: "crlf.txt", content: "a\r\nb\r\n" }));
    assert.deepEqual(await read("crlf.txt"), Buffer.from("a\r\nb\r\n"));
    const r = await ws.call("write_file", { path: "empty.txt", content: "" });
    assertOk(r);
    assert.equal((await read("empty.txt")).length, 0);
    assert.equal(sc(r).sha256, sha(""));
  });

  it("overwrites a binary file", async () => {
    await ws.write({ "bin.dat": Buffer.from([0, 1, 2, 255, 0]) });
    assertOk(await ws.call("write_file", { path: "bin.dat", content: "text now" }));
    assert.equal((await read("bin.dat")).toString(), "text now");
  });

  it('mode "fail_if_exists" refuses an existing file and leaves it byte-identical', async () => {
    const original = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a, 0x00]);
    await ws.write({ "keep.txt": original });
    const r = await ws.call("write_file", { path: "keep.txt", content: "replaced", mode: "fail_if_exists" });
    assertToolError(r, /already exists.*overwrite/);
    assert.deepEqual(await read("keep.txt"), original);
    await assertNoTempFiles(ws.root);
    assertOk(await ws.call("write_file", { path: "fresh.txt", content: "x", mode: "fail_if_exists" }));
    assert.equal((await read("fresh.txt")).toString(), "x");
  });

  it('mode "append" appends, or creates the file', async () => {
    await ws.write({ "log.txt": "one\n" });
    const r = await ws.call("write_file", { path: "log.txt", content: "two\n", mode: "append" });
    assertOk(r);
    assert.equal((await read("log.txt")).toString(), "one\ntwo\n");
    assert.equal(sc(r).bytes_written, 4);
    assert.equal(sc(r).file_bytes, 8);
    assert.equal(sc(r).sha256, sha("one\ntwo\n"));
    const c = await ws.call("write_file", { path: "new/log.txt", content: "first\n", mode: "append" });
    assertOk(c);
    assert.equal(sc(c).created, true);
    assert.equal((await read("new/log.txt")).toString(), "first\n");
  });

  it('mode "skip_if_exists" leaves an existing file alone', async () => {
    await ws.write({ "s.txt": "original" });
    const r = await ws.call("write_file", { path: "s.txt", content: "changed", mode: "skip_if_exists" });
    assertOk(r);
    assert.equal(sc(r).skipped, true);
    assert.equal(sc(r).bytes_written, 0);
    assert.equal(sc(r).sha256, sha("original"));
    assert.equal((await read("s.txt")).toString(), "original");
    assertOk(await ws.call("write_file", { path: "t.txt", content: "made", mode: "skip_if_exists" }));
    assert.equal((await read("t.txt")).toString(), "made");
  });

  it("accepts file_path as an alias, and absolute paths inside the workspace", async () => {
    assertOk(await ws.call("write_file", { file_path: "alias.txt", content: "a" }));
    assert.equal((await read("alias.txt")).toString(), "a");
    assertOk(await ws.call("write_file", { path: path.join(ws.root, "abs.txt"), content: "b" }));
    assert.equal((await read("abs.txt")).toString(), "b");
  });

  it("rejects missing, unknown and wrongly typed arguments with -32602", async () => {
    await assertInvalidParams(
      ws.call("write_file", { path: "a.txt" }),
      /missing required argument "content"/,
    );
    await assertInvalidParams(ws.call("write_file", { content: "x" }), /"path"/);
    await assertInvalidParams(ws.call("write_file", { path: 5, content: "x" }));
    await assertInvalidParams(ws.call("write_file", { path: "a.txt", content: 12 }));
    await assertInvalidParams(ws.call("write_file", { path: "a.txt", content: "x", mode: "truncate" }));
    await assertInvalidParams(
      ws.call("write_file", { path: "a.txt", content: "x", bogus: 1 }),
      /unknown argument/,
    );
    await assertInvalidParams(ws.call("write_file", { path: "a.txt", file_path: "b.txt", content: "x" }));
    await assertInvalidParams(ws.call("write_file", { path: "", content: "x" }));
  });

  it("refuses paths outside the workspace", async () => {
    const r = await ws.call("write_file", { path: "../escape.txt", content: "x" });
    assertToolError(r, /outside the workspace/);
    await assert.rejects(stat(path.join(path.dirname(ws.root), "escape.txt")), { code: "ENOENT" });
    assertToolError(
      await ws.call("write_file", { path: path.join(outside, "abs.txt"), content: "x" }),
      /outside/,
    );
    await assert.rejects(stat(path.join(outside, "abs.txt")), { code: "ENOENT" });
  });

  it("refuses to write through symlinks that lead outside", async () => {
    await writeFile(path.join(outside, "victim.txt"), "safe");
    await symlink(path.join(outside, "victim.txt"), path.join(ws.root, "link.txt"));
    await symlink(outside, path.join(ws.root, "outdir"));
    assertToolError(await ws.call("write_file", { path: "link.txt", content: "pwned" }), /symlink/);
    assertToolError(await ws.call("write_file", { path: "outdir/new.txt", content: "pwned" }), /symlink/);
    assertToolError(await ws.call("write_file", { path: "outdir/victim.txt", content: "pwned" }), /symlink/);
    assert.equal(await readFile(path.join(outside, "victim.txt"), "utf8"), "safe");
    await assert.rejects(stat(path.join(outside, "new.txt")), { code: "ENOENT" });
    await assertNoTempFiles(outside);
  });

  it("writes through a symlink inside the workspace to its target, keeping the link", async () => {
    await ws.write({ "real.txt": "old" });
    await symlink("real.txt", path.join(ws.root, "alias.txt"));
    const r = await ws.call("write_file", { path: "alias.txt", content: "new" });
    assertOk(r);
    assert.equal(sc(r).path, "real.txt");
    assert.equal((await read("real.txt")).toString(), "new");
    assert.ok((await lstat(path.join(ws.root, "alias.txt"))).isSymbolicLink());
    assert.equal(await readlink(path.join(ws.root, "alias.txt")), "real.txt");
  });

  it("refuses a directory, and a path ending with a slash", async () => {
    await mkdir(path.join(ws.root, "d"));
    await ws.write({ "d/inner.txt": "in" });
    assertToolError(await ws.call("write_file", { path: "d", content: "x" }), /is a directory/);
    assertToolError(await ws.call("write_file", { path: "newdir/", content: "x" }), /ends with a slash/);
    assert.equal((await read("d/inner.txt")).toString(), "in");
    await assert.rejects(stat(path.join(ws.root, "newdir")), { code: "ENOENT" });
  });

  it("refuses a path below an existing file", async () => {
    await ws.write({ "f.txt": "file" });
    assert.equal((await ws.call("write_file", { path: "f.txt/child.txt", content: "x" })).isError, true);
    assert.equal((await read("f.txt")).toString(), "file");
  });

  it("a cancelled call leaves the file as it was and no temp files", async () => {
    await ws.write({ "c.txt": "before" });
    const r = await ws.call(
      "write_file",
      { path: "c.txt", content: "after" },
      { signal: AbortSignal.abort() },
    );
    assert.equal(r.isError, true);
    assert.equal((await read("c.txt")).toString(), "before");
    await assertNoTempFiles(ws.root);
  });

  it("a cancellation during a large write leaves the file as it was, no temp files and no new folders", async () => {
    await ws.write({ "big.txt": "before" });
    const ac = new AbortController();
    const pending = ws.call(
      "write_file",
      { path: "big.txt", content: "x".repeat(48 * 1024 * 1024) },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 5);
    assert.equal((await pending).isError, true);
    assert.equal((await read("big.txt")).toString(), "before");
    await assertNoTempFiles(ws.root);
    const ac2 = new AbortController();
    const p2 = ws.call(
      "write_file",
      { path: "deep/er/big.txt", content: "y".repeat(48 * 1024 * 1024) },
      { signal: ac2.signal },
    );
    setTimeout(() => ac2.abort(), 5);
    assert.equal((await p2).isError, true);
    await assert.rejects(stat(path.join(ws.root, "deep")), { code: "ENOENT" });
  });

  it("refuses protected paths ([tools] protected_paths) and dangling symlinks", async () => {
    await ws.write({ "vtcode.toml": "[tools]\n", ".git/config": "[core]\n" });
    assertToolError(await ws.call("write_file", { path: "vtcode.toml", content: "x" }), /protected_paths/);
    assertToolError(await ws.call("write_file", { path: ".git/config", content: "x" }), /protected_paths/);
    assertToolError(await ws.call("write_file", { path: ".git/new", content: "x" }), /protected_paths/);
    await symlink("vtcode.toml", path.join(ws.root, "cfg-link"));
    assertToolError(await ws.call("write_file", { path: "cfg-link", content: "x" }), /protected_paths/);
    assert.equal((await read("vtcode.toml")).toString(), "[tools]\n");
    assert.equal((await read(".git/config")).toString(), "[core]\n");
    await symlink("missing-target", path.join(ws.root, "dangling"));
    assertToolError(
      await ws.call("write_file", { path: "dangling", content: "x" }),
      /dangling|does not exist/,
    );
    await assert.rejects(stat(path.join(ws.root, "missing-target")), { code: "ENOENT" });
    await assertNoTempFiles(ws.root);
  });

  it("declares its annotations and schema", () => {
    const tool = ws.registry.list().find((t) => t.name === "write_file")!;
    assert.equal(tool.annotations?.readOnlyHint, false);
    assert.equal(tool.annotations?.destructiveHint, true);
    assert.equal((tool.inputSchema as { additionalProperties?: boolean }).additionalProperties, false);
  });
});
