import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyPatch } from "diff";
import fc from "fast-check";
import { diffStats, unifiedDiff } from "../../src/support/diff.js";

const lineText = fc
  .array(fc.constantFrom("a", "b", "c", "d", ""), { maxLength: 30 })
  .chain((lines) =>
    fc.boolean().map((finalNewline) => lines.join("\n") + (finalNewline && lines.length > 0 ? "\n" : "")),
  );

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    assert.equal(unifiedDiff("a\n", "a\n", { oldPath: "f" }), "");
  });

  it("writes headers and a hunk with 3 lines of context", () => {
    const a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
    const b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n";
    assert.equal(
      unifiedDiff(a, b, { oldPath: "x.txt" }),
      "--- a/x.txt\n+++ b/x.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n",
    );
  });

  it("splits distant changes into separate hunks and merges close ones", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `l${i + 1}`);
    const a = lines.join("\n") + "\n";
    const changed = [...lines];
    changed[1] = "X";
    changed[27] = "Y";
    const d = unifiedDiff(a, changed.join("\n") + "\n", { oldPath: "f" });
    assert.equal(d.match(/^@@/gm)?.length, 2);
    assert.match(d, /@@ -1,5 \+1,5 @@/);
    assert.match(d, /@@ -25,6 \+25,6 @@/);
    const close = [...lines];
    close[5] = "A";
    close[10] = "B";
    assert.equal(unifiedDiff(a, close.join("\n") + "\n", { oldPath: "f" }).match(/^@@/gm)?.length, 1);
  });

  it("marks a missing final newline and handles insertion into an empty file", () => {
    assert.equal(
      unifiedDiff("a\nb", "a\nc", { oldPath: "f" }),
      "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n",
    );
    assert.equal(unifiedDiff("", "x\n", { oldPath: "f" }), "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+x\n");
  });

  it("shows CRLF lines without the CR and counts changes", () => {
    const d = unifiedDiff("a\r\nb\r\n", "a\r\nc\r\n", { oldPath: "f" });
    assert.ok(!d.includes("\r"));
    assert.deepEqual(diffStats(d), { added: 1, removed: 1 });
    assert.deepEqual(diffStats(unifiedDiff("-- x\n", "++ y\nz\n", { oldPath: "f" })), {
      added: 2,
      removed: 1,
    });
  });

  it("is a patch that turns the old text into the new one (property)", () => {
    fc.assert(
      fc.property(lineText, lineText, fc.integer({ min: 0, max: 4 }), (a, b, context) => {
        const d = unifiedDiff(a, b, { oldPath: "f", context });
        if (a === b) return d === "";
        return applyPatch(a, d) === b;
      }),
      { numRuns: 500 },
    );
  });

  it("shows a huge rewrite as one replaced block instead of stalling", () => {
    const a = Array.from({ length: 20_000 }, (_, i) => `old ${i}`);
    const b = Array.from({ length: 20_000 }, (_, i) => `new ${i}`);
    const oldText = ["head", ...a, "tail"].join("\n") + "\n";
    const newText = ["head", ...b, "tail"].join("\n") + "\n";
    const d = unifiedDiff(oldText, newText, { oldPath: "f" });
    assert.equal(d.match(/^@@/gm)?.length, 1);
    assert.match(d, /^@@ -1,20002 \+1,20002 @@$/m);
    assert.deepEqual(diffStats(d), { added: 20_000, removed: 20_000 });
    assert.equal(applyPatch(oldText, d), newText);
  });
});
