/**
 * apply_patch's parser, in memory: the format's parts, every parse error with its line, and a
 * round trip property (any patch we can print parses back to the same operations).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parsePatch, type Hunk, type PatchOp } from "../../src/tools/shared/patch-parse.js";
import { ToolFailure } from "../../src/tools/shared/types.js";

const patch = (...body: string[]): string => ["*** Begin Patch", ...body, "*** End Patch"].join("\n");

describe("parsePatch", () => {
  it("parses add, delete, update with move, contexts and end-of-file", () => {
    const ops = parsePatch(
      patch(
        "*** Add File: new.txt",
        "+hello",
        "+",
        "*** Delete File: old.txt",
        "*** Update File: a.txt",
        "*** Move to: b.txt",
        "@@ class A",
        "@@ def f",
        " ctx",
        "-old",
        "+new",
        "",
        "@@",
        "-last",
        "+LAST",
        "*** End of File",
      ),
    );
    assert.equal(ops.length, 3);
    assert.deepEqual(ops[0], { type: "add", path: "new.txt", content: "hello\n\n", patchLine: 2, added: 2 });
    assert.deepEqual(ops[1], { type: "delete", path: "old.txt", patchLine: 5 });
    const up = ops[2]!;
    assert.equal(up.type, "update");
    if (up.type !== "update") return;
    assert.equal(up.moveTo, "b.txt");
    assert.equal(up.hunks.length, 2);
    assert.deepEqual(up.hunks[0]!.contexts, ["class A", "def f"]);
    assert.deepEqual(up.hunks[0]!.lines, [
      { kind: " ", text: "ctx" },
      { kind: "-", text: "old" },
      { kind: "+", text: "new" },
      { kind: " ", text: "" },
    ]);
    assert.equal(up.hunks[1]!.eof, true);
  });

  it("accepts a heredoc wrapper, CRLF input and unified-diff range headers", () => {
    const ops = parsePatch(
      "apply_patch <<'EOF'\r\n*** Begin Patch\r\n*** Update File: a\r\n@@ -1,2 +1,2 @@ fn main\r\n-x\r\n+y\r\n*** End Patch\r\nEOF\r\n",
    );
    assert.equal(ops.length, 1);
    const op = ops[0]!;
    assert.ok(op.type === "update");
    if (op.type === "update") {
      assert.deepEqual(op.hunks[0]!.contexts, ["fn main"]);
      assert.deepEqual(op.hunks[0]!.lines, [
        { kind: "-", text: "x" },
        { kind: "+", text: "y" },
      ]);
    }
  });

  const badPatches: Array<[string, string, RegExp]> = [
    [
      "no begin",
      "*** Update File: a\n-x\n*** End Patch",
      /line 1: the patch must start with "\*\*\* Begin Patch"/,
    ],
    ["no end", "*** Begin Patch\n*** Add File: a\n+x", /line 3: the patch must end with "\*\*\* End Patch"/],
    ["empty", "   \n", /empty/],
    ["no ops", "*** Begin Patch\n*** End Patch", /no file operations/],
    ["bad header", "*** Begin Patch\n*** Frobnicate: a\n*** End Patch", /line 2: expected "\*\*\* Add File/],
    [
      "add without +",
      "*** Begin Patch\n*** Add File: a\n+ok\nnot plus\n*** End Patch",
      /line 4: every line of an added file starts with "\+"/,
    ],
    [
      "bad hunk line",
      "*** Begin Patch\n*** Update File: a\n@@\n ctx\n?what\n*** End Patch",
      /line 5: unexpected line in a hunk of "a"/,
    ],
    ["empty update", "*** Begin Patch\n*** Update File: a\n*** End Patch", /line 2: .*has no hunks/],
    [
      "empty hunk",
      "*** Begin Patch\n*** Update File: a\n@@\n-x\n*** End of File\n@@\n*** End Patch",
      /line 6: hunk of "a" has no lines/,
    ],
    ["stray move", "*** Begin Patch\n*** Move to: b\n*** End Patch", /line 2: .*Move to/],
    ["no path", "*** Begin Patch\n*** Delete File: \n*** End Patch", /line 2: .*needs a path/],
  ];
  for (const [name, text, pattern] of badPatches) {
    it(`reports a parse error with its line number: ${name}`, () => {
      assert.throws(
        () => parsePatch(text),
        (err: unknown) =>
          err instanceof ToolFailure && pattern.test(err.message) && /Nothing was written/.test(err.message),
      );
    });
  }
});

const text = fc.stringMatching(/^[ -~]{0,12}$/);
const filePath = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,6}(\/[a-z0-9_.-]{1,6}){0,2}$/);
const contextText = fc.stringMatching(/^[a-z][a-z (){}]{0,10}[a-z]$/);
const hunkArb = fc.record({
  contexts: fc.array(contextText, { maxLength: 2 }),
  lines: fc.array(
    fc.record({ kind: fc.constantFrom(" ", "-", "+") as fc.Arbitrary<" " | "-" | "+">, text }),
    {
      minLength: 1,
      maxLength: 5,
    },
  ),
  eof: fc.boolean(),
});
const opArb = fc.oneof(
  fc.record({ type: fc.constant("add" as const), path: filePath, lines: fc.array(text, { maxLength: 4 }) }),
  fc.record({ type: fc.constant("delete" as const), path: filePath }),
  fc.record({
    type: fc.constant("update" as const),
    path: filePath,
    moveTo: fc.option(filePath, { nil: undefined }),
    hunks: fc.array(hunkArb, { maxLength: 3 }),
  }),
);

type OpSpec = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** Prints operations as a patch, and the ops parsePatch must return for it (line numbers included). */
function print(ops: OpSpec[]): { input: string; expected: PatchOp[] } {
  const out = ["*** Begin Patch"];
  const expected: PatchOp[] = [];
  for (const op of ops) {
    const patchLine = out.length + 1;
    if (op.type === "add") {
      out.push(`*** Add File: ${op.path}`, ...op.lines.map((l) => `+${l}`));
      const content = op.lines.map((l) => `${l}\n`).join("");
      expected.push({ type: "add", path: op.path, content, patchLine, added: op.lines.length });
    } else if (op.type === "delete") {
      out.push(`*** Delete File: ${op.path}`);
      expected.push({ type: "delete", path: op.path, patchLine });
    } else {
      const hunks = op.hunks.length === 0 && op.moveTo === undefined ? [] : op.hunks;
      out.push(`*** Update File: ${op.path}`);
      if (op.moveTo !== undefined) out.push(`*** Move to: ${op.moveTo}`);
      const parsed: Hunk[] = [];
      for (const h of hunks) {
        const hunkLine = out.length + 1;
        if (h.contexts.length === 0) out.push("@@");
        else out.push(...h.contexts.map((c) => `@@ ${c}`));
        out.push(...h.lines.map((l) => `${l.kind}${l.text}`));
        if (h.eof) out.push("*** End of File");
        const lines = h.lines.map((l) => ({ kind: l.kind, text: l.text }));
        parsed.push({ contexts: [...h.contexts], lines, eof: h.eof, patchLine: hunkLine });
      }
      if (parsed.length === 0 && op.moveTo === undefined) {
        // An update needs hunks or a move: print a minimal hunk.
        const hunkLine = out.length + 1;
        out.push("@@", "+x");
        parsed.push({ contexts: [], lines: [{ kind: "+", text: "x" }], eof: false, patchLine: hunkLine });
      }
      expected.push({
        type: "update",
        path: op.path,
        ...(op.moveTo !== undefined ? { moveTo: op.moveTo } : {}),
        hunks: parsed,
        patchLine,
      });
    }
  }
  out.push("*** End Patch");
  return { input: out.join("\n"), expected };
}

describe("parsePatch properties", () => {
  it("parses back every patch it is given, with the right line numbers", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (ops, crlf) => {
        const { input, expected } = print(ops);
        assert.deepEqual(parsePatch(crlf ? input.replace(/\n/g, "\r\n") : input), expected);
      }),
      { numRuns: 400 },
    );
  });

  it("never throws anything but a ToolFailure that names a line, whatever the input", () => {
    const noise = fc.array(
      fc.oneof(
        fc.constantFrom(
          "*** Begin Patch",
          "*** End Patch",
          "*** Add File: a",
          "*** Update File: b",
          "@@",
          "*** End of File",
          "*** Move to: c",
          "*** Delete File: d",
          "",
        ),
        fc.string({ maxLength: 8 }),
      ),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(noise, (lines) => {
        try {
          parsePatch(lines.join("\n"));
        } catch (err) {
          assert.ok(err instanceof ToolFailure, String(err));
          assert.match(err.message, /^invalid patch, line \d+: .*Nothing was written\.$/s);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
