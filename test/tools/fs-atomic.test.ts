import assert from "node:assert/strict";
import { mkdtemp, mkdir, readFile, readdir, realpath, rm, stat, writeFile, chmod } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  isTempName,
  mkdirParents,
  removeCreatedDirs,
  sha256Hex,
  tempPathFor,
  writeFileAtomic,
} from "../../src/support/fs-atomic.js";

let dir: string;
before(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-atomic-")));
});
after(() => rm(dir, { recursive: true, force: true }));

const leftovers = async (d: string): Promise<string[]> =>
  (await readdir(d)).filter((n) => n.includes(".toold-"));

describe("writeFileAtomic", () => {
  it("creates a file with the umask-derived mode and replaces it keeping its mode", async () => {
    const p = path.join(dir, "a.txt");
    await writeFileAtomic(p, "one");
    assert.equal(await readFile(p, "utf8"), "one");
    assert.equal((await stat(p)).mode & 0o777, 0o666 & ~process.umask());
    await chmod(p, 0o751);
    await writeFileAtomic(p, Buffer.from("two"));
    assert.equal(await readFile(p, "utf8"), "two");
    assert.equal((await stat(p)).mode & 0o777, 0o751);
    assert.deepEqual(await leftovers(dir), []);
  });

  it("applies an explicit mode", async () => {
    const p = path.join(dir, "m.txt");
    await writeFileAtomic(p, "x", { mode: 0o600 });
    assert.equal((await stat(p)).mode & 0o777, 0o600);
  });

  it("leaves the target untouched and removes the temp file when the rename fails", async () => {
    const target = path.join(dir, "isdir");
    await mkdir(target);
    await writeFile(path.join(target, "inside.txt"), "keep");
    await assert.rejects(writeFileAtomic(target, "data"));
    assert.equal(await readFile(path.join(target, "inside.txt"), "utf8"), "keep");
    assert.deepEqual(await leftovers(dir), []);
  });

  it("exclusive refuses an existing file (EEXIST) and leaves it as it was", async () => {
    const p = path.join(dir, "ex.txt");
    await writeFile(p, "original");
    await assert.rejects(writeFileAtomic(p, "new", { exclusive: true }), { code: "EEXIST" });
    assert.equal(await readFile(p, "utf8"), "original");
    assert.deepEqual(await leftovers(dir), []);
    const fresh = path.join(dir, "ex-new.txt");
    await writeFileAtomic(fresh, "new", { exclusive: true });
    assert.equal(await readFile(fresh, "utf8"), "new");
    assert.deepEqual(await leftovers(dir), []);
  });

  it("an abort during the write leaves the target untouched and no temp file", async () => {
    const p = path.join(dir, "big.txt");
    await writeFile(p, "small original");
    const ac = new AbortController();
    const big = Buffer.alloc(32 * 1024 * 1024, 0x61);
    setImmediate(() => ac.abort());
    await assert.rejects(writeFileAtomic(p, big, { signal: ac.signal }), { name: "AbortError" });
    assert.equal(await readFile(p, "utf8"), "small original");
    assert.deepEqual(await leftovers(dir), []);
  });

  it("an already-aborted signal writes nothing", async () => {
    const p = path.join(dir, "never.txt");
    await assert.rejects(writeFileAtomic(p, "x", { signal: AbortSignal.abort() }));
    await assert.rejects(stat(p), { code: "ENOENT" });
    assert.deepEqual(await leftovers(dir), []);
  });

  it("keeps temp names under the file-name limit for long names", async () => {
    const name = "n".repeat(250);
    const tmp = tempPathFor(path.join(dir, name));
    assert.ok(Buffer.byteLength(path.basename(tmp)) <= 255);
    assert.ok(isTempName(path.basename(tmp)));
    await writeFileAtomic(path.join(dir, name), "long");
    assert.equal(await readFile(path.join(dir, name), "utf8"), "long");
  });

  it("sha256Hex matches for strings and buffers", () => {
    assert.equal(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(sha256Hex(Buffer.from("abc")), sha256Hex("abc"));
  });
});

describe("mkdirParents / removeCreatedDirs", () => {
  it("creates missing folders and removes exactly those again", async () => {
    const p = path.join(dir, "x", "y", "z", "f.txt");
    const created = await mkdirParents(p);
    assert.deepEqual(created, [path.join(dir, "x"), path.join(dir, "x", "y"), path.join(dir, "x", "y", "z")]);
    assert.ok((await stat(path.join(dir, "x", "y", "z"))).isDirectory());
    await removeCreatedDirs(created);
    await assert.rejects(stat(path.join(dir, "x")), { code: "ENOENT" });
    assert.deepEqual(await mkdirParents(path.join(dir, "top.txt")), []);
  });
});
