/** `lineWindow` (src/support/text.ts) gives exactly what splitting every line and slicing gave (fast-check). */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { lineWindow, splitLinesKeepEnds } from "../../src/support/text.js";

test("lineWindow equals split-then-slice for any text, offset and limit", () => {
  const text = fc
    .array(fc.constantFrom("a", "bc", "\n", "\r\n", "é", ""), { maxLength: 40 })
    .map((p) => p.join(""));
  fc.assert(
    fc.property(
      text,
      fc.integer({ min: 1, max: 25 }),
      fc.integer({ min: 1, max: 25 }),
      (t, offset, limit) => {
        const lines = splitLinesKeepEnds(t);
        const w = lineWindow(t, offset, limit);
        assert.equal(w.totalLines, lines.length);
        if (offset > Math.max(lines.length, 1)) return;
        const slice = lines.slice(offset - 1, offset - 1 + limit);
        assert.equal(w.content, slice.join(""));
        assert.equal(w.endLine, offset - 1 + slice.length);
      },
    ),
    { numRuns: 2000 },
  );
});
