/** move_file, copy_file, create_directory, file_info and write_file's VT Code aliases. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
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

let ws: TestWorkspace;
let outside: string;
beforeEach(async () => {
  ws = await makeTestWorkspace({ warm: false, toml: "[tools]\nmax_copy_bytes = 1000\n" });
  outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-outside-")));
  await writeFile(path.join(outside, "secret.txt"), "secret\n");
  await ws.write({
    "a.txt": "alpha\n",
    "b.txt": "beta\n",
    "src/one.ts": "export const one = 1;\n",
    "src/deep/two.ts": "export const two = 2;\n",
    "vtcode.toml": "[tools]\nmax_copy_bytes = 1000\n",
    ".git/config": "[core]\n",
  });
});
afterEach(async () => {
  await ws.cleanup();
  await rm(outside, { recursive: true, force: true });
});

const abs = (rel: string) => path.join(ws.root, rel);
const text = (rel: string) => readFile(abs(rel), "utf8");
const exists = (rel: string) =>
  lstat(abs(rel)).then(
    () => true,
    () => false,
  );

/** Every entry below the root, for "nothing changed" checks. */
async function tree(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      out.push(
        `${path.relative(ws.root, p)}${e.isDirectory() ? "/" : e.isSymbolicLink() ? "@" : `=${await readFile(p, "utf8")}`}`,
      );
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(ws.root);
  return out.sort();
}

/** The call must fail as a tool error and leave the tree exactly as it was. */
async function refusedUnchanged(name: string, args: Record<string, unknown>, pattern: RegExp): Promise<void> {
  const before = await tree();
  assertToolError(await ws.call(name, args), pattern);
  assert.deepEqual(await tree(), before);
  await assertNoTempFiles(ws.root);
}

describe("move_file", () => {
  it("renames a file, creating parents, and a folder with what is in it", async () => {
    const r = await ws.call("move_file", { source: "a.txt", destination: "new/dir/a2.txt" });
    assertOk(r);
    assert.equal(await text("new/dir/a2.txt"), "alpha\n");
    assert.equal(await exists("a.txt"), false);
    assert.deepEqual(sc(r), {
      source: "a.txt",
      destination: "new/dir/a2.txt",
      type: "file",
      overwritten: false,
    });
    assertOk(await ws.call("move_file", { source: "src", destination: "lib" }));
    assert.equal(await text("lib/deep/two.ts"), "export const two = 2;\n");
    assert.equal(await exists("src"), false);
  });

  it("moves a symlink itself, never its target", async () => {
    await symlink("b.txt", abs("link"));
    assertOk(await ws.call("move_file", { source: "link", destination: "moved-link" }));
    assert.equal(await readlink(abs("moved-link")), "b.txt");
    assert.equal(await text("b.txt"), "beta\n");
  });

  it("refuses an existing destination without overwrite, and replaces it with overwrite", async () => {
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: "b.txt" },
      /already exists .*pass overwrite: true/,
    );
    const r = await ws.call("move_file", { source: "a.txt", destination: "b.txt", overwrite: true });
    assertOk(r);
    assert.equal(await text("b.txt"), "alpha\n");
    assert.equal(sc(r).overwritten, true);
  });

  it("refuses a folder into itself, onto a file, onto a non-empty folder", async () => {
    await refusedUnchanged("move_file", { source: "src", destination: "src/deep/inner" }, /into itself/);
    await refusedUnchanged(
      "move_file",
      { source: "src", destination: "a.txt", overwrite: true },
      /a folder cannot replace it/,
    );
    await mkdir(abs("full"));
    await writeFile(abs("full/x"), "x");
    await refusedUnchanged("move_file", { source: "src", destination: "full", overwrite: true }, /not empty/);
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: "full", overwrite: true },
      /is a folder and the source is a file/,
    );
  });

  it("refuses protected paths as source, destination, or inside a moved folder", async () => {
    await refusedUnchanged("move_file", { source: "vtcode.toml", destination: "v.toml" }, /protected/);
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: ".git/hooks/pre-commit" },
      /protected/,
    );
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: "vtcode.toml", overwrite: true },
      /protected/,
    );
    await refusedUnchanged("move_file", { source: ".git", destination: "git-copy" }, /protected/);
  });

  it("refuses paths outside the workspace and through symlinks that lead out", async () => {
    await symlink(outside, abs("out"));
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: "out/a.txt" },
      /outside the workspace/,
    );
    await refusedUnchanged(
      "move_file",
      { source: "out/secret.txt", destination: "stolen.txt" },
      /outside the workspace/,
    );
    await refusedUnchanged(
      "move_file",
      { source: "a.txt", destination: "../escaped.txt" },
      /outside the workspace/,
    );
    await refusedUnchanged(
      "move_file",
      { source: "missing.txt", destination: "x.txt" },
      /no such file or folder/,
    );
    assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), "secret\n");
    assert.deepEqual(await readdir(outside), ["secret.txt"]);
  });

  it("accepts from/to aliases and lists the accepted names for an unknown one", async () => {
    assertOk(await ws.call("move_file", { from: "a.txt", to: "c.txt" }));
    assert.equal(await text("c.txt"), "alpha\n");
    await assertInvalidParams(
      ws.call("move_file", { source: "c.txt", destinaton: "d.txt" }),
      /unknown argument "destinaton" \(did you mean "destination"\?\)\. Accepted: source, destination, overwrite, from/,
    );
  });
});

describe("copy_file", () => {
  it("copies a file with its mode, and a folder with its files and links", async () => {
    await chmod(abs("a.txt"), 0o640);
    const r = await ws.call("copy_file", { source: "a.txt", destination: "copies/a.txt" });
    assertOk(r);
    assert.equal(await text("copies/a.txt"), "alpha\n");
    assert.equal((await stat(abs("copies/a.txt"))).mode & 0o777, 0o640);
    assert.equal(await text("a.txt"), "alpha\n");
    await symlink("one.ts", abs("src/one-link.ts"));
    const d = await ws.call("copy_file", { source: "src", destination: "src2" });
    assertOk(d);
    assert.equal(await text("src2/deep/two.ts"), "export const two = 2;\n");
    assert.equal(await readlink(abs("src2/one-link.ts")), "one.ts");
    assert.equal(sc(d).files, 2);
    await assertNoTempFiles(ws.root);
  });

  it("refuses an existing destination unless overwrite, and replaces a file with overwrite", async () => {
    await refusedUnchanged("copy_file", { source: "a.txt", destination: "b.txt" }, /already exists/);
    assertOk(await ws.call("copy_file", { source: "a.txt", destination: "b.txt", overwrite: true }));
    assert.equal(await text("b.txt"), "alpha\n");
  });

  it("refuses a copy over [tools] max_copy_bytes before writing anything", async () => {
    await writeFile(abs("big.bin"), Buffer.alloc(1001, 1));
    await refusedUnchanged(
      "copy_file",
      { source: "big.bin", destination: "big2.bin" },
      /over \[tools\] max_copy_bytes 1000; nothing was copied/,
    );
    await mkdir(abs("many"));
    for (let i = 0; i < 5; i++) await writeFile(abs(`many/f${i}`), Buffer.alloc(300, 1));
    await refusedUnchanged("copy_file", { source: "many", destination: "many2" }, /max_copy_bytes/);
  });

  it("refuses a folder into itself, links leading out, protected destinations", async () => {
    await refusedUnchanged("copy_file", { source: "src", destination: "src/deep/copy" }, /into itself/);
    await symlink(path.join(outside, "secret.txt"), abs("src/leak"));
    await refusedUnchanged(
      "copy_file",
      { source: "src", destination: "src3" },
      /symlink leading outside the workspace/,
    );
    await refusedUnchanged(
      "copy_file",
      { source: "src/leak", destination: "leak.txt" },
      /outside the workspace/,
    );
    await refusedUnchanged("copy_file", { source: "a.txt", destination: ".git/a.txt" }, /protected/);
  });

  it("a cancelled copy leaves nothing behind", async () => {
    const before = await tree();
    const r = await ws.call(
      "copy_file",
      { source: "src", destination: "later" },
      { signal: AbortSignal.abort() },
    );
    assert.equal(r.isError, true);
    assert.deepEqual(await tree(), before);
  });
});

describe("create_directory", () => {
  it("creates a folder and its parents; an existing folder is fine", async () => {
    const r = await ws.call("create_directory", { path: "x/y/z" });
    assertOk(r);
    assert.deepEqual(sc(r).created_dirs, ["x", "x/y", "x/y/z"]);
    assert.ok((await stat(abs("x/y/z"))).isDirectory());
    const again = await ws.call("create_directory", { path: "x/y/z" });
    assertOk(again);
    assert.equal(sc(again).created, false);
  });

  it("refuses a file in the way, protected paths and escapes", async () => {
    await refusedUnchanged("create_directory", { path: "a.txt" }, /not a folder/);
    await refusedUnchanged("create_directory", { path: "a.txt/sub" }, /"a.txt" is a file, not a folder/);
    await refusedUnchanged("create_directory", { path: ".git/newdir" }, /protected/);
    await symlink(outside, abs("out"));
    await refusedUnchanged("create_directory", { path: "out/made" }, /outside the workspace/);
    assert.deepEqual(await readdir(outside), ["secret.txt"]);
  });
});

describe("file_info", () => {
  it("describes a text file: size, mode, mtime, lines and the sha256 read_file gives", async () => {
    const r = await ws.call("file_info", { path: "src/one.ts" });
    assertOk(r);
    const s = sc(r);
    assert.equal(s.type, "file");
    assert.equal(s.size, 22);
    assert.equal(s.lines, 1);
    assert.equal(s.sha256, createHash("sha256").update("export const one = 1;\n").digest("hex"));
    assert.equal(s.sha256, sc(await ws.call("read_file", { path: "src/one.ts" })).sha256);
    assert.match(String(s.mode), /^0[0-7]{3}$/);
    assert.ok(!Number.isNaN(Date.parse(String(s.mtime))));
    assert.match(textOf(r), /^src\/one\.ts: file, 22 bytes/);
  });

  it("describes folders, binary files and symlinks (target only when inside)", async () => {
    assert.equal(sc(await ws.call("file_info", { path: "src" })).entries, 2);
    await writeFile(abs("bin"), Buffer.from([0, 1, 2]));
    const bin = sc(await ws.call("file_info", { path: "bin" }));
    assert.equal(bin.binary, true);
    assert.equal(bin.lines, undefined);
    await symlink("a.txt", abs("in-link"));
    await symlink(path.join(outside, "secret.txt"), abs("out-link"));
    await symlink("nowhere", abs("dangling"));
    const inLink = sc(await ws.call("file_info", { path: "in-link" }));
    assert.equal(inLink.type, "symlink");
    assert.equal(inLink.target, "a.txt");
    const outLink = await ws.call("file_info", { path: "out-link" });
    assert.equal(sc(outLink).target_inside, false);
    assert.ok(!JSON.stringify(outLink).includes(outside), "the outside path is not shown");
    assert.equal(sc(await ws.call("file_info", { path: "dangling" })).target_exists, false);
    assertToolError(await ws.call("file_info", { path: "nope" }), /no such file/);
    assertToolError(await ws.call("file_info", { path: "../x" }), /outside the workspace/);
  });
});

describe("write_file VT Code aliases", () => {
  it("takes contents/text/data for content, write_mode for mode, overwrite as a switch", async () => {
    assertOk(await ws.call("write_file", { path: "w1.txt", contents: "one\n" }));
    assertOk(await ws.call("write_file", { file_path: "w2.txt", text: "two\n" }));
    assertOk(await ws.call("write_file", { path: "w3.txt", data: "three\n", write_mode: "fail_if_exists" }));
    assert.equal(await text("w1.txt"), "one\n");
    assert.equal(await text("w2.txt"), "two\n");
    assert.equal(await text("w3.txt"), "three\n");
    assertToolError(
      await ws.call("write_file", { path: "w1.txt", content: "x", overwrite: false }),
      /already exists/,
    );
    assert.equal(await text("w1.txt"), "one\n");
    assertOk(await ws.call("write_file", { path: "w1.txt", content: "x\n", overwrite: true }));
    assert.equal(await text("w1.txt"), "x\n");
    await assertInvalidParams(
      ws.call("write_file", { path: "w1.txt", content: "y", overwrite: false, mode: "append" }),
      /contradicts mode "append"/,
    );
    await assertInvalidParams(
      ws.call("write_file", { path: "w1.txt", contents: "a", text: "b" }),
      /name the same argument/,
    );
    await assertInvalidParams(
      ws.call("write_file", { path: "w1.txt", content: "a", mode: "replace" }),
      /mode: expected one of "overwrite", "fail_if_exists", "append", "skip_if_exists"/,
    );
  });
});
