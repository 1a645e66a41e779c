import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
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
  type Loose,
} from "../helpers/write-tools.js";

const sha = (s: string | Buffer): string => createHash("sha256").update(s).digest("hex");

let ws: TestWorkspace;
beforeEach(async () => {
  ws = await makeTestWorkspace();
});
afterEach(() => ws.cleanup());

const read = (rel: string): Promise<Buffer> => readFile(path.join(ws.root, rel));

/** Runs a call that must fail and checks the file kept its exact bytes and no temp file is left. */
async function failsUnchanged(rel: string, args: Record<string, unknown>, pattern: RegExp): Promise<Loose> {
  const before = await read(rel);
  const r = await ws.call("edit_file", { path: rel, ...args });
  assertToolError(r, pattern);
  assert.deepEqual(await read(rel), before);
  await assertNoTempFiles(ws.root);
  return (r.structuredContent ?? {}) as Loose;
}

const SRC = "function a() {\n  return 1;\n}\n\nfunction b() {\n  return 2;\n}\n";

describe("edit_file", () => {
  it("replaces a unique match and returns a unified diff and hashes", async () => {
    await ws.write({ "f.js": SRC });
    const r = await ws.call("edit_file", { path: "f.js", old_str: "  return 2;", new_str: "  return 42;" });
    assertOk(r);
    const expected = SRC.replace("return 2;", "return 42;");
    assert.equal((await read("f.js")).toString(), expected);
    const s = sc(r);
    assert.equal(s.replacements, 1);
    assert.equal(s.whitespace_tolerant, false);
    assert.equal(s.sha256_before, sha(SRC));
    assert.equal(s.sha256_after, sha(expected));
    assert.match(s.diff, /^--- a\/f\.js\n\+\+\+ b\/f\.js\n@@ -3,5 \+3,5 @@\n/);
    assert.match(s.diff, /\n- {2}return 2;\n\+ {2}return 42;\n/);
    assert.match(textOf(r), /Edited f\.js: 1 replacement\n\n--- a\/f\.js/);
    await assertNoTempFiles(ws.root);
  });

  it("refuses several matches, listing the count and line numbers", async () => {
    await ws.write({ "f.js": SRC });
    const s = await failsUnchanged(
      "f.js",
      { old_str: "function", new_str: "fn" },
      /matches 2 times .*lines 1, 5.*replace_all/s,
    );
    assert.equal(s.match_count, 2);
    assert.deepEqual(s.lines, [1, 5]);
  });

  it("counts overlapping occurrences as ambiguous", async () => {
    await ws.write({ "o.txt": "aaa\n" });
    await failsUnchanged("o.txt", { old_str: "aa", new_str: "b" }, /matches 2 times/);
  });

  it("replace_all replaces every occurrence", async () => {
    await ws.write({ "f.js": SRC });
    const r = await ws.call("edit_file", {
      path: "f.js",
      old_str: "return",
      new_str: "yield",
      replace_all: true,
    });
    assertOk(r);
    assert.equal(sc(r).replacements, 2);
    assert.equal((await read("f.js")).toString(), SRC.replaceAll("return", "yield"));
    assert.match(textOf(r), /2 replacements/);
  });

  it("reports no match with a hint, and writes nothing", async () => {
    await ws.write({ "f.js": SRC });
    await failsUnchanged("f.js", { old_str: "return 3;", new_str: "x" }, /not found.*read_file/s);
    const s = await failsUnchanged(
      "f.js",
      { old_str: "function a() {\n  return 99;", new_str: "x" },
      /first line occurs at line 1/,
    );
    assert.deepEqual(s.first_line_matches, [1]);
  });

  it("falls back to a whitespace-tolerant match when it is unique, and re-indents new_str", async () => {
    await ws.write({ "p.py": "class A:\n    def f(self):\n        x  =  1   \n        return x\n" });
    const r = await ws.call("edit_file", {
      path: "p.py",
      old_str: "def f(self):\n    x = 1\n    return x",
      new_str: "def f(self):\n    x = 2\n    return x * 2",
    });
    assertOk(r);
    assert.equal(sc(r).whitespace_tolerant, true);
    assert.match(textOf(r), /matched ignoring whitespace/);
    assert.equal(
      (await read("p.py")).toString(),
      "class A:\n    def f(self):\n        x = 2\n        return x * 2\n",
    );
  });

  it("refuses an ambiguous whitespace-tolerant match", async () => {
    await ws.write({ "w.txt": "  a  b\nc\n\ta b\nc\n" });
    const s = await failsUnchanged(
      "w.txt",
      { old_str: "a b\n c", new_str: "z" },
      /ignoring whitespace it matches 2 places .*lines 1, 3/s,
    );
    assert.deepEqual(s.lines, [1, 3]);
  });

  it("checks expected_sha256 before writing", async () => {
    await ws.write({ "f.js": SRC });
    const s = await failsUnchanged(
      "f.js",
      { old_str: "return 1;", new_str: "return 0;", expected_sha256: "0".repeat(64) },
      /changed since you read it.*nothing was written/s,
    );
    assert.equal(s.actual_sha256, sha(SRC));
    const read1 = await ws.call("read_file", { path: "f.js" });
    const r = await ws.call("edit_file", {
      path: "f.js",
      old_str: "return 1;",
      new_str: "return 0;",
      expected_sha256: String(sc(read1).sha256).toUpperCase(),
    });
    assertOk(r);
    await assertInvalidParams(
      ws.call("edit_file", { path: "f.js", old_str: "a", new_str: "b", expected_sha256: "xyz" }),
    );
  });

  it("keeps CRLF line endings when old_str and new_str use LF", async () => {
    await ws.write({ "w.txt": "one\r\ntwo\r\nthree\r\n" });
    const r = await ws.call("edit_file", { path: "w.txt", old_str: "one\ntwo\n", new_str: "one\n2a\n2b\n" });
    assertOk(r);
    assert.deepEqual(await read("w.txt"), Buffer.from("one\r\n2a\r\n2b\r\nthree\r\n"));
    assert.ok(!sc(r).diff.includes("\r"));
  });

  it("keeps a UTF-8 BOM", async () => {
    await ws.write({
      "b.txt": Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("héllo world\n")]),
    });
    assertOk(await ws.call("edit_file", { path: "b.txt", old_str: "world", new_str: "wörld" }));
    assert.deepEqual(
      await read("b.txt"),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("héllo wörld\n")]),
    );
  });

  it("keeps the file's permissions and deletes text with an empty new_str", async () => {
    await ws.write({ "x.sh": "#!/bin/sh\necho hi\necho bye\n" });
    await chmod(path.join(ws.root, "x.sh"), 0o755);
    assertOk(await ws.call("edit_file", { path: "x.sh", old_str: "echo bye\n", new_str: "" }));
    assert.equal((await read("x.sh")).toString(), "#!/bin/sh\necho hi\n");
    assert.equal((await stat(path.join(ws.root, "x.sh"))).mode & 0o777, 0o755);
  });

  it("refuses an empty old_str (invalid params) and old_str equal to new_str", async () => {
    await ws.write({ "f.js": SRC });
    const before = await read("f.js");
    await assertInvalidParams(ws.call("edit_file", { path: "f.js", old_str: "", new_str: "x" }), /old_str/);
    assert.deepEqual(await read("f.js"), before);
    await assertInvalidParams(
      ws.call("edit_file", { path: "f.js", old_str: "return 1;", new_str: "return 1;" }),
      /the same/,
    );
    assert.deepEqual(await read("f.js"), before);
  });

  it("refuses binary, non-UTF-8 and empty files", async () => {
    await ws.write({
      "bin.dat": Buffer.from([0x61, 0x00, 0x62, 0x0a]),
      "latin1.txt": Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]),
      "empty.txt": "",
    });
    await failsUnchanged("bin.dat", { old_str: "a", new_str: "b" }, /binary/);
    await failsUnchanged("latin1.txt", { old_str: "caf", new_str: "CAF" }, /not valid UTF-8/);
    await failsUnchanged("empty.txt", { old_str: "x", new_str: "y" }, /file is empty/);
  });

  it("reports absent files, directories and paths outside the workspace", async () => {
    assertToolError(
      await ws.call("edit_file", { path: "nope.txt", old_str: "a", new_str: "b" }),
      /no such file/,
    );
    await mkdir(path.join(ws.root, "d"));
    assertToolError(await ws.call("edit_file", { path: "d", old_str: "a", new_str: "b" }), /is a directory/);
    assertToolError(
      await ws.call("edit_file", { path: "../x", old_str: "a", new_str: "b" }),
      /outside the workspace/,
    );
    assertToolError(
      await ws.call("edit_file", { path: "/etc/hostname", old_str: "a", new_str: "b" }),
      /outside the workspace/,
    );
  });

  it("edits the target of an inside symlink and refuses one leading outside", async () => {
    await ws.write({ "real.txt": "alpha\n" });
    await symlink("real.txt", path.join(ws.root, "link.txt"));
    assertOk(await ws.call("edit_file", { path: "link.txt", old_str: "alpha", new_str: "beta" }));
    assert.equal((await read("real.txt")).toString(), "beta\n");
    assert.ok((await lstat(path.join(ws.root, "link.txt"))).isSymbolicLink());
    const outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-out-")));
    try {
      await writeFile(path.join(outside, "secret.txt"), "alpha\n");
      await symlink(path.join(outside, "secret.txt"), path.join(ws.root, "out.txt"));
      assertToolError(
        await ws.call("edit_file", { path: "out.txt", old_str: "alpha", new_str: "x" }),
        /symlink/,
      );
      assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), "alpha\n");
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses protected paths", async () => {
    await ws.write({ "vtcode.toml": '[tools]\ndefault_policy = "allow"\n' });
    await failsUnchanged("vtcode.toml", { old_str: "allow", new_str: "deny" }, /protected_paths/);
  });

  it("accepts the file_path, old_text and new_text aliases", async () => {
    await ws.write({ "f.js": SRC });
    assertOk(await ws.call("edit_file", { file_path: "f.js", old_text: "return 1;", new_text: "return 7;" }));
    assert.match((await read("f.js")).toString(), /return 7;/);
    await assertInvalidParams(
      ws.call("edit_file", { path: "f.js", old_str: "a", old_text: "a", new_str: "b" }),
      /same argument/,
    );
  });

  it("rejects missing and wrongly typed arguments with -32602", async () => {
    await assertInvalidParams(ws.call("edit_file", { path: "f.js", new_str: "b" }), /old_str/);
    await assertInvalidParams(ws.call("edit_file", { path: "f.js", old_str: "a" }), /new_str/);
    await assertInvalidParams(ws.call("edit_file", { old_str: "a", new_str: "b" }), /path/);
    await assertInvalidParams(ws.call("edit_file", { path: "f.js", old_str: 1, new_str: "b" }));
    await assertInvalidParams(
      ws.call("edit_file", { path: "f.js", old_str: "a", new_str: "b", replace_all: "yes" }),
    );
  });

  it("a cancelled call writes nothing", async () => {
    await ws.write({ "f.js": SRC });
    const r = await ws.call(
      "edit_file",
      { path: "f.js", old_str: "return 1;", new_str: "x" },
      { signal: AbortSignal.abort() },
    );
    assert.equal(r.isError, true);
    assert.equal((await read("f.js")).toString(), SRC);
    await assertNoTempFiles(ws.root);
  });
});

describe("edit_file: several edits, dry runs, aliases, numbered lines", () => {
  const CODE = "function a() {\n  return 1;\n}\nfunction b() {\n  return 2;\n}\n";

  it("applies edits in order, each on the text the previous one made", async () => {
    await ws.write({ "m.js": CODE });
    const r = await ws.call("edit_file", {
      path: "m.js",
      edits: [
        { old_str: "return 1;", new_str: "return 10;" },
        { old_str: "return 10;", new_str: "return 100;" },
        { old_str: "function", new_str: "async function", replace_all: true },
      ],
    });
    assertOk(r);
    assert.equal(
      (await read("m.js")).toString(),
      "async function a() {\n  return 100;\n}\nasync function b() {\n  return 2;\n}\n",
    );
    assert.equal(sc(r).replacements, 4);
    assert.equal(sc(r).edits, 3);
  });

  it("writes nothing when any edit fails, and names the one that did", async () => {
    await ws.write({ "m.js": CODE });
    const out = await failsUnchanged(
      "m.js",
      {
        edits: [
          { old_str: "return 1;", new_str: "return 10;" },
          { old_str: "return", new_str: "yield" },
        ],
      },
      /edit 2 of 2: old_str matches 2 times/,
    );
    assert.equal(out.match_count, 2);
  });

  it("dry_run returns the diff and writes nothing", async () => {
    await ws.write({ "m.js": CODE });
    const before = await stat(path.join(ws.root, "m.js"));
    const r = await ws.call("edit_file", {
      path: "m.js",
      old_str: "return 2;",
      new_str: "return 3;",
      dry_run: true,
    });
    assertOk(r);
    assert.match(textOf(r), /^Dry run, nothing written: would edit m\.js: 1 replacement/);
    assert.match(String(sc(r).diff), /- {2}return 2;\n\+ {2}return 3;/);
    assert.equal(sc(r).dry_run, true);
    assert.equal((await read("m.js")).toString(), CODE);
    assert.equal((await stat(path.join(ws.root, "m.js"))).mtimeMs, before.mtimeMs);
    const alias = await ws.call("edit_file", {
      path: "m.js",
      old_str: "return 2;",
      new_str: "x",
      dryRun: true,
    });
    assert.equal(sc(alias).dry_run, true);
    assert.equal((await read("m.js")).toString(), CODE);
  });

  it("accepts VT Code's aliases, at the top and in edits", async () => {
    for (const [oldName, newName] of [
      ["original", "replacement"],
      ["target", "to"],
      ["from", "to"],
      ["oldText", "newText"],
    ] as const) {
      await ws.write({ "m.js": CODE });
      assertOk(await ws.call("edit_file", { path: "m.js", [oldName]: "return 1;", [newName]: "return 7;" }));
      assert.match((await read("m.js")).toString(), /return 7;/);
      await ws.write({ "m.js": CODE });
      assertOk(
        await ws.call("edit_file", {
          path: "m.js",
          edits: [{ [oldName]: "return 2;", [newName]: "return 8;" }],
        }),
      );
      assert.match((await read("m.js")).toString(), /return 8;/);
    }
    await assertInvalidParams(
      ws.call("edit_file", { path: "m.js", edits: [{ original: "a", old_str: "a", new_str: "b" }] }),
      /"edits\[0\]\.old_str" and "edits\[0\]\.original" name the same argument/,
    );
    await assertInvalidParams(
      ws.call("edit_file", {
        path: "m.js",
        old_str: "a",
        new_str: "b",
        edits: [{ old_str: "a", new_str: "b" }],
      }),
      /give either edits/,
    );
    await assertInvalidParams(
      ws.call("edit_file", { path: "m.js", edits: [{ old_str: "a" }] }),
      /edits\[0\]\.new_str is missing/,
    );
    await assertInvalidParams(ws.call("edit_file", { path: "m.js", edits: [] }), /edits/);
  });

  it("strips L<n>: prefixes copied from a numbered read when the file lacks them", async () => {
    await ws.write({ "m.js": CODE });
    const numbered = textOf(
      await ws.call("read_file", { path: "m.js", offset: 4, limit: 2, line_numbers: true }),
    );
    assert.equal(numbered, "L4: function b() {\nL5:   return 2;\n");
    const r = await ws.call("edit_file", {
      path: "m.js",
      old_str: numbered,
      new_str: "L4: function b() {\nL5:   return 20;\n",
    });
    assertOk(r);
    assert.equal(sc(r).stripped_line_numbers, true);
    assert.match((await read("m.js")).toString(), /function b\(\) \{\n {2}return 20;\n\}/);
  });

  it("keeps prefixes that are really in the file, and uniqueness still rules after stripping", async () => {
    await ws.write({ "log.txt": "L1: start\nL2: stop\n" });
    assertOk(await ws.call("edit_file", { path: "log.txt", old_str: "L2: stop", new_str: "L2: halt" }));
    assert.equal((await read("log.txt")).toString(), "L1: start\nL2: halt\n");
    await ws.write({ "dup.js": "x = 1;\nx = 1;\n" });
    await failsUnchanged("dup.js", { old_str: "L1: x = 1;", new_str: "L1: x = 2;" }, /matches 2 times/);
  });
});
