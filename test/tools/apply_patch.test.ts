import assert from "node:assert/strict";
import { chmod, lstat, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { patchIo } from "../../src/tools/shared/patch-transaction.js";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
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

const read = (rel: string): Promise<string> => readFile(path.join(ws.root, rel), "utf8");
const exists = (rel: string): Promise<boolean> =>
  lstat(path.join(ws.root, rel)).then(
    () => true,
    () => false,
  );
const patch = (...body: string[]): string => ["*** Begin Patch", ...body, "*** End Patch"].join("\n");

/** A snapshot of every file's bytes, to prove a failed patch changed nothing. */
async function snapshot(rels: string[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const rel of rels) out[rel] = await readFile(path.join(ws.root, rel), "latin1").catch(() => null);
  return out;
}

describe("apply_patch", () => {
  it("adds, updates, deletes and moves files in one patch", async () => {
    await ws.write({
      "a.txt": "one\ntwo\nthree\n",
      "gone.txt": "bye\n",
      "src/old.ts": "export const x = 1;\nexport const y = 2;\n",
    });
    const r = await ws.call("apply_patch", {
      input: patch(
        "*** Add File: dir/new.txt",
        "+fresh",
        "+file",
        "*** Update File: a.txt",
        "@@",
        " one",
        "-two",
        "+TWO",
        " three",
        "*** Delete File: gone.txt",
        "*** Update File: src/old.ts",
        "*** Move to: src/new.ts",
        "@@",
        "-export const y = 2;",
        "+export const y = 3;",
      ),
    });
    assertOk(r);
    assert.equal(await read("dir/new.txt"), "fresh\nfile\n");
    assert.equal(await read("a.txt"), "one\nTWO\nthree\n");
    assert.equal(await exists("gone.txt"), false);
    assert.equal(await exists("src/old.ts"), false);
    assert.equal(await read("src/new.ts"), "export const x = 1;\nexport const y = 3;\n");
    assert.equal(
      textOf(r),
      "Applied patch (4 file operations):\nA dir/new.txt\nM a.txt\nD gone.txt\nR src/old.ts -> src/new.ts",
    );
    assert.deepEqual(
      sc(r).files.map((f: Record<string, unknown>) => [f.path, f.action, f.from]),
      [
        ["dir/new.txt", "add", undefined],
        ["a.txt", "update", undefined],
        ["gone.txt", "delete", undefined],
        ["src/new.ts", "move", "src/old.ts"],
      ],
    );
    await assertNoTempFiles(ws.root);
  });

  it("uses the @@ context line to pick among repeated code, and applies hunks in order", async () => {
    const text = "fn a() {\n    return 0;\n}\nfn b() {\n    return 0;\n}\nfn c() {\n    return 0;\n}\n";
    await ws.write({ "m.rs": text });
    const r = await ws.call("apply_patch", {
      patch: patch(
        "*** Update File: m.rs",
        "@@ fn b() {",
        "-    return 0;",
        "+    return 2;",
        "@@ fn c() {",
        "-    return 0;",
        "+    return 3;",
      ),
    });
    assertOk(r);
    assert.equal(
      await read("m.rs"),
      text.replace(/(fn b\(\) \{\n {4}return )0/, "$12").replace(/(fn c\(\) \{\n {4}return )0/, "$13"),
    );
  });

  it("anchors a hunk marked End of File at the end", async () => {
    await ws.write({ "e.txt": "x\nend\nx\nend\n" });
    assertOk(
      await ws.call("apply_patch", {
        input: patch("*** Update File: e.txt", "@@", " x", "-end", "+END", "*** End of File"),
      }),
    );
    assert.equal(await read("e.txt"), "x\nend\nx\nEND\n");
  });

  it("matches ignoring trailing, then surrounding whitespace, keeping the file's context lines", async () => {
    await ws.write({ "w.txt": "keep   \n  indented\nchange me\n" });
    const r = await ws.call("apply_patch", {
      input: patch("*** Update File: w.txt", "@@", " keep", " indented", "-change me", "+changed"),
    });
    assertOk(r);
    assert.equal(await read("w.txt"), "keep   \n  indented\nchanged\n");
    assert.equal(sc(r).files[0].whitespace_tolerant, true);
  });

  it("inserts pure additions after the @@ context line, or at the end", async () => {
    await ws.write({ "i.txt": "a\nb\nc\n" });
    assertOk(await ws.call("apply_patch", { input: patch("*** Update File: i.txt", "@@ a", "+a2") }));
    assertOk(await ws.call("apply_patch", { input: patch("*** Update File: i.txt", "@@", "+z") }));
    assert.equal(await read("i.txt"), "a\na2\nb\nc\nz\n");
  });

  it("preserves CRLF line endings, a BOM, a missing final newline and file permissions", async () => {
    await ws.write({ "crlf.txt": "\uFEFFone\r\ntwo\r\nthree", "x.sh": "#!/bin/sh\necho a\n" });
    await chmod(path.join(ws.root, "x.sh"), 0o750);
    assertOk(
      await ws.call("apply_patch", {
        input: patch(
          "*** Update File: crlf.txt",
          "@@",
          " one",
          "-two",
          "+2",
          "+2b",
          " three",
          "*** Update File: x.sh",
          "@@",
          "-echo a",
          "+echo b",
        ),
      }),
    );
    assert.equal(await read("crlf.txt"), "\uFEFFone\r\n2\r\n2b\r\nthree");
    assert.equal(await read("x.sh"), "#!/bin/sh\necho b\n");
    assert.equal((await stat(path.join(ws.root, "x.sh"))).mode & 0o777, 0o750);
  });

  it("lets later operations see earlier ones (add then update the same file)", async () => {
    const r = await ws.call("apply_patch", {
      input: patch("*** Add File: t.txt", "+v1", "*** Update File: t.txt", "@@", "-v1", "+v2"),
    });
    assertOk(r);
    assert.equal(await read("t.txt"), "v2\n");
  });

  it("a hunk that does not apply names the file and hunk, and writes nothing at all", async () => {
    await ws.write({ "a.txt": "one\ntwo\n", "b.txt": "alpha\nbeta\n", "c.txt": "delete me\n" });
    const before = await snapshot(["a.txt", "b.txt", "c.txt", "new.txt"]);
    const r = await ws.call("apply_patch", {
      input: patch(
        "*** Update File: a.txt",
        "@@",
        "-one",
        "+ONE",
        "*** Add File: new.txt",
        "+n",
        "*** Delete File: c.txt",
        "*** Update File: b.txt",
        "@@",
        "-alpha",
        "+ALPHA",
        "@@",
        " gamma",
        " delta",
        "-epsilon",
        "+EPSILON",
      ),
    });
    assertToolError(r, /hunk 2 of "b\.txt" \(patch line 13\) did not apply/);
    assert.match(textOf(r), /\| gamma\n {2}\| delta\n {2}\| epsilon/);
    assert.match(textOf(r), /re-read "b\.txt" with read_file/);
    assert.deepEqual(sc(r).hunk, 2);
    assert.deepEqual(await snapshot(["a.txt", "b.txt", "c.txt", "new.txt"]), before);
    await assertNoTempFiles(ws.root);
  });

  it("reports a missing @@ context line", async () => {
    await ws.write({ "a.txt": "x\n" });
    assertToolError(
      await ws.call("apply_patch", {
        input: patch("*** Update File: a.txt", "@@ def nowhere():", "-x", "+y"),
      }),
      /hunk 1 of "a\.txt".*could not find its context line "@@ def nowhere\(\):"/s,
    );
    assert.equal(await read("a.txt"), "x\n");
  });

  it("rolls back files already written when a write fails midway", async () => {
    await ws.write({ "a.txt": "a1\n", "b.txt": "b1\n", "c.txt": "c1\n" });
    await chmod(path.join(ws.root, "a.txt"), 0o640);
    const before = await snapshot(["a.txt", "b.txt", "c.txt", "n/new.txt"]);
    const realWrite = patchIo.writeFile;
    let writes = 0;
    patchIo.writeFile = async (abs, data, opts) => {
      if (++writes === 3) throw Object.assign(new Error("simulated ENOSPC"), { code: "ENOSPC" });
      return realWrite(abs, data, opts);
    };
    try {
      const r = await ws.call("apply_patch", {
        input: patch(
          "*** Update File: a.txt",
          "-a1",
          "+a2",
          "*** Add File: n/new.txt",
          "+new",
          "*** Update File: b.txt",
          "-b1",
          "+b2",
          "*** Delete File: c.txt",
        ),
      });
      assertToolError(r, /failed while writing "b\.txt" \(simulated ENOSPC\).*restored, so nothing changed/s);
      assert.equal(sc(r).rolled_back, 2);
    } finally {
      patchIo.writeFile = realWrite;
    }
    assert.deepEqual(await snapshot(["a.txt", "b.txt", "c.txt", "n/new.txt"]), before);
    assert.equal(await exists("n"), false);
    assert.equal((await stat(path.join(ws.root, "a.txt"))).mode & 0o777, 0o640);
    await assertNoTempFiles(ws.root);
  });

  it("refuses adding an existing file, deleting or updating a missing one, and moving onto an existing file", async () => {
    await ws.write({ "e.txt": "e\n", "f.txt": "f\n" });
    const before = await snapshot(["e.txt", "f.txt"]);
    assertToolError(
      await ws.call("apply_patch", { input: patch("*** Add File: e.txt", "+x") }),
      /already exists/,
    );
    assertToolError(
      await ws.call("apply_patch", { input: patch("*** Delete File: nope.txt") }),
      /no such file/,
    );
    assertToolError(
      await ws.call("apply_patch", { input: patch("*** Update File: nope.txt", "@@", "-a", "+b") }),
      /no such file/,
    );
    assertToolError(
      await ws.call("apply_patch", {
        input: patch("*** Update File: e.txt", "*** Move to: f.txt", "@@", "-e", "+E"),
      }),
      /destination already exists/,
    );
    assert.deepEqual(await snapshot(["e.txt", "f.txt"]), before);
  });

  it("renames without hunks", async () => {
    await ws.write({ "from.txt": "same\n" });
    assertOk(
      await ws.call("apply_patch", { input: patch("*** Update File: from.txt", "*** Move to: sub/to.txt") }),
    );
    assert.equal(await read("sub/to.txt"), "same\n");
    assert.equal(await exists("from.txt"), false);
  });

  it("confines every path to the workspace", async () => {
    const outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-out-")));
    try {
      await writeFile(path.join(outside, "v.txt"), "safe\n");
      await symlink(outside, path.join(ws.root, "out"));
      await ws.write({ "in.txt": "in\n" });
      const cases = [
        patch("*** Add File: ../escape.txt", "+x"),
        patch("*** Add File: out/new.txt", "+x"),
        patch("*** Update File: out/v.txt", "@@", "-safe", "+owned"),
        patch(`*** Delete File: ${path.join(outside, "v.txt")}`),
        patch("*** Update File: in.txt", "*** Move to: ../moved.txt"),
        patch("*** Update File: in.txt", "@@", "-in", "+IN", "*** Add File: out/x.txt", "+x"),
      ];
      for (const input of cases) {
        const r = await ws.call("apply_patch", { input });
        assert.equal(r.isError, true, input);
        assert.match(textOf(r), /outside|symlink/);
      }
      assert.equal(await readFile(path.join(outside, "v.txt"), "utf8"), "safe\n");
      assert.equal(await read("in.txt"), "in\n");
      await assert.rejects(stat(path.join(outside, "new.txt")));
      await assert.rejects(stat(path.join(path.dirname(ws.root), "escape.txt")));
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("refuses protected paths, writing nothing", async () => {
    await ws.write({ "vtcode.toml": "a = 1\n", "ok.txt": "ok\n" });
    for (const input of [
      patch("*** Update File: ok.txt", "-ok", "+OK", "*** Update File: vtcode.toml", "-a = 1", "+a = 2"),
      patch("*** Add File: .git/config", "+x"),
      patch("*** Delete File: vtcode.toml"),
      patch("*** Update File: ok.txt", "*** Move to: .git/ok.txt"),
    ]) {
      assertToolError(await ws.call("apply_patch", { input }), /protected_paths/);
    }
    assert.equal(await read("vtcode.toml"), "a = 1\n");
    assert.equal(await read("ok.txt"), "ok\n");
    assert.equal(await exists(".git"), false);
  });

  it("refuses to delete through a symlink and to update binary files", async () => {
    await ws.write({ "t.txt": "t\n", "b.bin": Buffer.from([1, 0, 2, 10]) });
    await symlink("t.txt", path.join(ws.root, "link"));
    assertToolError(await ws.call("apply_patch", { input: patch("*** Delete File: link") }), /symlink/);
    assert.ok((await lstat(path.join(ws.root, "link"))).isSymbolicLink());
    assertToolError(
      await ws.call("apply_patch", { input: patch("*** Update File: b.bin", "@@", "-x", "+y") }),
      /binary/,
    );
    assert.deepEqual(await readFile(path.join(ws.root, "b.bin")), Buffer.from([1, 0, 2, 10]));
  });

  it("updates an empty file and adds an empty file", async () => {
    await ws.write({ "empty.txt": "" });
    assertOk(
      await ws.call("apply_patch", {
        input: patch("*** Update File: empty.txt", "@@", "+first", "*** Add File: blank.txt"),
      }),
    );
    assert.equal(await read("empty.txt"), "first\n");
    assert.equal(await read("blank.txt"), "");
  });

  it("returns parse errors as tool errors and rejects bad arguments with -32602", async () => {
    assertToolError(
      await ws.call("apply_patch", { input: "diff --git a/x b/x" }),
      /line 1: the patch must start/,
    );
    await assertInvalidParams(ws.call("apply_patch", {}), /input/);
    await assertInvalidParams(ws.call("apply_patch", { input: 42 }));
    await assertInvalidParams(ws.call("apply_patch", { input: "" }));
    await assertInvalidParams(ws.call("apply_patch", { input: "x", patch: "y" }), /same argument/);
  });

  it("a cancelled call writes nothing", async () => {
    await ws.write({ "a.txt": "a\n" });
    const r = await ws.call(
      "apply_patch",
      { input: patch("*** Update File: a.txt", "-a", "+b", "*** Add File: z.txt", "+z") },
      { signal: AbortSignal.abort() },
    );
    assert.equal(r.isError, true);
    assert.equal(await read("a.txt"), "a\n");
    assert.equal(await exists("z.txt"), false);
  });
});
