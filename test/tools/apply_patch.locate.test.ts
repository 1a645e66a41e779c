/**
 * apply_patch's locator and transaction, in memory: hunks made from a real diff of two texts
 * turn the one into the other (with LF, CRLF, a BOM, with whitespace drift); a commit that fails
 * at any step leaves every file as it was.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { structuredPatch } from "diff";
import fc from "fast-check";
import { applyHunks, HunkError } from "../../src/tools/shared/patch-locate.js";
import type { Hunk } from "../../src/tools/shared/patch-parse.js";
import { commitPatch, type FileState, type PatchIo } from "../../src/tools/shared/patch-transaction.js";
import { ToolFailure } from "../../src/tools/shared/types.js";

/** Texts whose lines are all different, so every hunk has one place to go. */
const uniqueLines = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}$/), { maxLength: 30 });

/** A new version of `lines`: some removed, some changed, some inserted (new lines are unique). */
function edited(lines: string[]): fc.Arbitrary<string[]> {
  return fc
    .array(fc.constantFrom("keep", "keep", "keep", "drop", "change", "insert"), {
      minLength: lines.length,
      maxLength: lines.length,
    })
    .chain((plan) =>
      fc.boolean().map((appendAtEnd) => {
        const out: string[] = [];
        plan.forEach((step, i) => {
          if (step === "keep") out.push(lines[i]!);
          else if (step === "change") out.push(`${lines[i]}-CHANGED`);
          else if (step === "insert") out.push(`NEW-${i}`, lines[i]!);
        });
        if (appendAtEnd) out.push("NEW-END");
        return out;
      }),
    );
}

/** The hunks of the Codex format for the diff of `a` to `b` (LF texts with a final newline). */
function hunksFor(a: string, b: string): Hunk[] {
  const patch = structuredPatch("a", "b", a, b, undefined, undefined, { context: 3 });
  return patch.hunks.map((h, n) => ({
    contexts: [],
    lines: h.lines.map((l) => ({ kind: l[0] as " " | "-" | "+", text: l.slice(1) })),
    eof: false,
    patchLine: n + 1,
  }));
}

const join = (lines: string[], eol = "\n") => lines.map((l) => l + eol).join("");

describe("applyHunks properties", () => {
  it("hunks from a diff of two texts turn the first into the second", () => {
    fc.assert(
      fc.property(
        uniqueLines.chain((a) => edited(a).map((b) => [a, b] as const)),
        ([a, b]) => {
          const before = join(a);
          const after = join(b);
          assert.equal(applyHunks(before, hunksFor(before, after)).text, after);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("keeps a CRLF file CRLF and a BOM in place", () => {
    fc.assert(
      fc.property(
        // An empty file has no line ending to keep: new lines get "\n".
        uniqueLines.filter((a) => a.length > 0).chain((a) => edited(a).map((b) => [a, b] as const)),
        fc.boolean(),
        ([a, b], bom) => {
          const hunks = hunksFor(join(a), join(b));
          const mark = bom ? "\uFEFF" : "";
          assert.equal(applyHunks(mark + join(a, "\r\n"), hunks).text, mark + join(b, "\r\n"));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("finds lines whose whitespace drifted, keeping the file's own context lines", () => {
    fc.assert(
      fc.property(
        uniqueLines.filter((a) => a.length > 0),
        fc.nat(),
        (a, pick) => {
          const i = pick % a.length;
          const file = join(a.map((l) => `  ${l}`));
          const hunk: Hunk = {
            contexts: [],
            lines: [
              ...(i > 0 ? [{ kind: " " as const, text: a[i - 1]! }] : []),
              { kind: "-", text: `${a[i]}   ` },
              { kind: "+", text: "  replaced" },
            ],
            eof: false,
            patchLine: 1,
          };
          const out = applyHunks(file, [hunk]);
          const expected = a.map((l, k) => (k === i ? "  replaced" : `  ${l}`));
          assert.equal(out.text, join(expected));
          assert.equal(out.fuzzy, true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("a hunk that is not there is a HunkError naming the hunk, and nothing is returned", () => {
    const hunk: Hunk = { contexts: [], lines: [{ kind: "-", text: "absent" }], eof: false, patchLine: 7 };
    assert.throws(
      () => applyHunks("a\nb\n", [hunk]),
      (err: unknown) => err instanceof HunkError && err.hunk === 1 && err.patchLine === 7,
    );
  });
});

/** An in-memory file system behind the transaction's I/O, failing at step `failAt` (1-based). */
function memoryIo(files: Map<string, string>, failAt: number): PatchIo & { steps: number } {
  const io = {
    steps: 0,
    step() {
      if (++io.steps === failAt) throw Object.assign(new Error("simulated EIO"), { code: "EIO" });
    },
    async writeFile(abs: string, data: Buffer, opts: { exclusive?: boolean }) {
      io.step();
      if (opts.exclusive && files.has(abs)) throw Object.assign(new Error("EEXIST"), { code: "EEXIST" });
      files.set(abs, data.toString());
    },
    async remove(abs: string) {
      io.step();
      if (!files.delete(abs)) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    },
    async mkdirParents() {
      return [];
    },
    async removeCreatedDirs() {},
  };
  return io;
}

describe("commitPatch (the transaction)", () => {
  const change = fc.record({
    name: fc.constantFrom("a", "b", "c", "d", "e"),
    before: fc.option(fc.stringMatching(/^[a-z]{0,4}$/), { nil: null }),
    after: fc.option(fc.stringMatching(/^[A-Z]{1,4}$/), { nil: null }),
  });

  it("writes every change, or, failing at any step, leaves every file as it was", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(change, { selector: (c) => c.name, minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        async (changes, failAt) => {
          const real = changes.filter((c) => c.before !== null || c.after !== null);
          const files = new Map<string, string>();
          for (const c of real) if (c.before !== null) files.set(c.name, c.before);
          const initial = new Map(files);
          const states: FileState[] = real.map((c) => ({
            abs: c.name,
            rel: c.name,
            original: c.before === null ? null : Buffer.from(c.before),
            current: c.after === null ? null : Buffer.from(c.after),
          }));
          const io = memoryIo(files, failAt);
          try {
            await commitPatch(states, io, new AbortController().signal);
          } catch (err) {
            assert.ok(err instanceof ToolFailure, String(err));
            assert.match(err.message, /simulated EIO/);
            assert.match(err.message, /restored, so nothing changed/);
            assert.deepEqual(files, initial);
            return;
          }
          const expected = new Map<string, string>();
          for (const c of real) if (c.after !== null) expected.set(c.name, c.after);
          assert.deepEqual(files, expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a cancelled commit writes nothing more and undoes what it wrote", async () => {
    const files = new Map([["a", "old"]]);
    const controller = new AbortController();
    const io = memoryIo(files, 0);
    const write = io.writeFile;
    io.writeFile = async (abs, data, opts) => {
      await write(abs, data, opts);
      if (abs === "a" && data.toString() === "new") controller.abort();
    };
    const states: FileState[] = [
      { abs: "a", rel: "a", original: Buffer.from("old"), current: Buffer.from("new") },
      { abs: "b", rel: "b", original: null, current: Buffer.from("B") },
    ];
    await assert.rejects(commitPatch(states, io, controller.signal), /cancelled.*restored/s);
    assert.deepEqual(files, new Map([["a", "old"]]));
  });
});
