/** read_file's ranges (offset/limit, head, tail), numbered lines, cut long lines and batch reads. */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { assertInvalidParams, assertOk, assertToolError, sc } from "../helpers/write-tools.js";
import { MAX_BATCH_READS } from "../../src/tools/read_file.js";

let ws: TestWorkspace;
beforeEach(async () => {
  ws = await makeTestWorkspace({ warm: false });
  await ws.write({
    "five.txt": "one\ntwo\nthree\nfour\nfive\n",
    "crlf.txt": "a\r\nb\r\nc",
    "long.txt": `${"x".repeat(5000)}\nshort\n`,
    "bin.dat": Buffer.from([1, 0, 2]),
  });
});
afterEach(() => ws.cleanup());

describe("read_file ranges", () => {
  it("head and tail return the first and last lines, with paging facts", async () => {
    const head = await ws.call("read_file", { path: "five.txt", head: 2 });
    assert.equal(textOf(head), "one\ntwo\n");
    assert.equal(sc(head).has_more, true);
    assert.equal(sc(head).next_offset, 3);
    const tail = await ws.call("read_file", { path: "five.txt", tail: 2 });
    assert.equal(textOf(tail), "four\nfive\n");
    assert.equal(sc(tail).start_line, 4);
    assert.equal(sc(tail).has_more, false);
    const all = await ws.call("read_file", { path: "five.txt", tail: 99 });
    assert.equal(textOf(all), "one\ntwo\nthree\nfour\nfive\n");
    const crlf = await ws.call("read_file", { path: "crlf.txt", tail: 2 });
    assert.equal(textOf(crlf), "b\r\nc");
  });

  it("refuses contradictory ranges as invalid arguments", async () => {
    await assertInvalidParams(ws.call("read_file", { path: "five.txt", head: 1, tail: 1 }), /head and tail/);
    await assertInvalidParams(
      ws.call("read_file", { path: "five.txt", head: 1, offset: 2 }),
      /head and offset/,
    );
    await assertInvalidParams(ws.call("read_file", {}), /missing required argument "path"/);
  });

  it("numbers lines as Codex does, keeping the line endings", async () => {
    const r = await ws.call("read_file", { path: "crlf.txt", line_numbers: true });
    assert.equal(textOf(r), "L1: a\r\nL2: b\r\nL3: c");
    const mid = await ws.call("read_file", { path: "five.txt", offset: 3, limit: 2, line_numbers: true });
    assert.equal(textOf(mid), "L3: three\nL4: four\n");
  });

  it("cuts long lines with a marker saying how to get the rest, and lists them", async () => {
    const r = await ws.call("read_file", { path: "long.txt" });
    const [first, second] = textOf(r).split("\n");
    assert.equal(first!.slice(0, 2000), "x".repeat(2000));
    assert.match(first!, /\[line 1 cut: 2000 of 5000 characters shown; read it with max_line_chars: 0/);
    assert.equal(second, "short");
    assert.deepEqual(sc(r).cut_lines, [1]);
    const whole = await ws.call("read_file", { path: "long.txt", max_line_chars: 0 });
    assert.equal(textOf(whole), `${"x".repeat(5000)}\nshort\n`);
    assert.equal(sc(whole).cut_lines, undefined);
  });

  it("carries the text once: not again in structuredContent", async () => {
    const r = await ws.call("read_file", { path: "five.txt" });
    assert.equal(sc(r).content, undefined);
    assert.ok(!JSON.stringify(r.structuredContent).includes("three"));
  });

  it("any window of lines equals the same slice of the file (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom("a", "bb", "", "c c", "\r"), { maxLength: 12 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 14 }),
        async (lines, finalNewline, offset, limit) => {
          const text = lines.join("\n") + (finalNewline && lines.length ? "\n" : "");
          await ws.write({ "p.txt": text });
          const all = text.length === 0 ? [] : text.split(/(?<=\n)/);
          const r = await ws.call("read_file", { path: "p.txt", offset, limit });
          if (offset > Math.max(all.length, 1)) return r.isError === true;
          assert.equal(textOf(r), all.slice(offset - 1, offset - 1 + limit).join(""));
          assert.equal(sc(r).total_lines, all.length);
          return true;
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("read_file batch (reads)", () => {
  it("reads several files, each result separate; one bad path does not fail the others", async () => {
    const r = await ws.call("read_file", {
      reads: [
        { path: "five.txt", head: 1 },
        { path: "nope.txt" },
        { path: "bin.dat" },
        { path: "crlf.txt", offset: 3 },
      ],
      line_numbers: true,
    });
    assertOk(r);
    const files = sc(r).files as Record<string, unknown>[];
    assert.equal(files.length, 4);
    assert.equal(files[0]!.path, "five.txt");
    assert.equal(files[0]!.next_offset, 2);
    assert.match(String(files[1]!.error), /no such file/);
    assert.match(String(files[2]!.error), /binary/);
    assert.equal(files[3]!.start_line, 3);
    assert.equal(sc(r).failed, 2);
    assert.equal(
      textOf(r),
      "==> five.txt <==\nL1: one\n\n==> nope.txt <==\n[error] " +
        String(files[1]!.error) +
        "\n\n==> bin.dat <==\n[error] " +
        String(files[2]!.error) +
        "\n\n==> crlf.txt <==\nL3: c\n",
    );
  });

  it("is an error result only when every read failed", async () => {
    const r = await ws.call("read_file", { reads: [{ path: "nope.txt" }, { path: "gone.txt" }] });
    assertToolError(r, /nope\.txt[\s\S]*gone\.txt/);
  });

  it("bounds the batch and refuses mixing it with a single path", async () => {
    const many = Array.from({ length: MAX_BATCH_READS + 1 }, () => ({ path: "five.txt" }));
    await assertInvalidParams(
      ws.call("read_file", { reads: many }),
      /reads: expected array length to be less or equal to 100 \(got an array of 101 items\)/,
    );
    await assertInvalidParams(
      ws.call("read_file", { reads: Array(10_000).fill({ path: "five.txt" }) }),
      /reads/,
    );
    await assertInvalidParams(
      ws.call("read_file", { reads: [{ path: "five.txt" }], path: "five.txt" }),
      /reads .* path/,
    );
    await assertInvalidParams(
      ws.call("read_file", { reads: [{ path: "five.txt", head: 1, tail: 1 }] }),
      /reads\[0\]\.head and reads\[0\]\.tail/,
    );
    await assertInvalidParams(ws.call("read_file", { reads: [{ pth: "five.txt" }] }), /did you mean "path"/);
  });
});

describe("read_file and grep_file on one cached file", () => {
  // The file cache keeps per-file facts on each entry for every tool. The two tools judge
  // "binary" differently (read_file: a NUL in the first 8 KiB; grep_file: a NUL anywhere, as rg),
  // so neither may take the other's answer for its own, whichever ran first.
  const lateNul = `${"a\n".repeat(5000)}\0tail\n`; // its NUL at byte 10000

  it("a grep that found the file binary does not make read_file refuse it", async () => {
    const w = await makeTestWorkspace({ warm: true });
    try {
      await w.write({ "late.txt": lateNul });
      const g = await w.call("grep_file", { pattern: "tail", path: "." });
      assert.equal((sc(g).skipped as { binary?: number } | undefined)?.binary, 1);
      const r = await w.call("read_file", { path: "late.txt", limit: 1 });
      assertOk(r);
      assert.match(textOf(r), /a/);
    } finally {
      await w.cleanup();
    }
  });

  it("a read that found the file text does not make grep_file search it", async () => {
    const w = await makeTestWorkspace({ warm: true });
    try {
      await w.write({ "late.txt": lateNul });
      assertOk(await w.call("read_file", { path: "late.txt", limit: 1 }));
      const g = await w.call("grep_file", { pattern: "tail", path: "." });
      assert.equal((sc(g).skipped as { binary?: number } | undefined)?.binary, 1);
      assert.equal(sc(g).total_matches, 0);
    } finally {
      await w.cleanup();
    }
  });
});
