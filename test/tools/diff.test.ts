import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diffStats, unifiedDiff } from "../../src/support/diff.js";

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
});
