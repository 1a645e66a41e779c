/**
 * The quiet seams of exec output, as properties: the bounded buffer keeps a prefix and a suffix
 * of what was pushed and counts the rest; successive reads lose nothing while it fits; the token
 * budget keeps head and tail within budget and says how much it cut.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { HeadTailBuffer, type OutputParts } from "../../src/exec/head-tail-buffer.js";
import { approxTokenCount, budgetOutput } from "../../src/exec/truncate.js";

const chunks = fc.array(fc.uint8Array({ minLength: 0, maxLength: 200 }), { maxLength: 30 });
/** Text with multi-byte characters, as chunks cut at any byte. */
const utf8Chunks = fc
  .tuple(fc.string({ unit: "grapheme", maxLength: 300 }), fc.array(fc.nat(), { maxLength: 10 }))
  .map(([text, cuts]) => {
    const bytes = Buffer.from(text);
    const points = [...new Set(cuts.map((c) => (bytes.length === 0 ? 0 : c % bytes.length)))].sort(
      (a, b) => a - b,
    );
    const out: Buffer[] = [];
    let at = 0;
    for (const p of points) {
      out.push(bytes.subarray(at, p));
      at = p;
    }
    out.push(bytes.subarray(at));
    return { text, chunks: out };
  });

describe("HeadTailBuffer", () => {
  it("keeps a prefix and a suffix of the stream and counts what it dropped, within its cap", () => {
    fc.assert(
      fc.property(chunks, fc.integer({ min: 0, max: 600 }), (cs, cap) => {
        const b = new HeadTailBuffer(cap);
        const all = Buffer.concat(cs.map((c) => Buffer.from(c)));
        let maxHeld = 0;
        for (const c of cs) {
          b.push(Buffer.from(c));
          maxHeld = Math.max(maxHeld, b.heldBytes);
        }
        const { head, dropped, tail } = b.parts();
        assert.equal(head.length + dropped + tail.length, all.length);
        assert.deepEqual(head, all.subarray(0, head.length));
        assert.deepEqual(tail, all.subarray(all.length - tail.length));
        assert.ok(head.length + tail.length <= cap);
        if (all.length <= cap) assert.equal(dropped, 0);
        // Memory: the cap plus at most one chunk of slack in the tail.
        assert.ok(maxHeld <= cap + 200, `${maxHeld} held for cap ${cap}`);
      }),
    );
  });

  it("successive reads give back the stream exactly while it fits, never splitting a character", () => {
    fc.assert(
      fc.property(
        utf8Chunks,
        fc.array(fc.boolean(), { maxLength: 12 }),
        ({ text, chunks: cs }, readAfter) => {
          const b = new HeadTailBuffer(1 << 20);
          let out = "";
          cs.forEach((c, i) => {
            b.push(c);
            if (readAfter[i]) {
              const p = b.take(false);
              assert.equal(p.dropped, 0);
              const piece = Buffer.concat([p.head, p.tail]).toString("utf8");
              assert.ok(!piece.includes("\ufffd"), "a read split a character");
              out += piece;
            }
          });
          const last = b.take(true);
          out += Buffer.concat([last.head, last.tail]).toString("utf8");
          assert.equal(out, text);
          assert.equal(b.total, 0);
        },
      ),
    );
  });
});

describe("budgetOutput", () => {
  it("returns everything within budget, else head + marker + tail within budget, with honest counts", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 400 }),
        fc.integer({ min: 0, max: 120 }),
        fc.nat({ max: 5000 }),
        (text, maxTokens, dropped) => {
          const bytes = Buffer.from(text);
          const split = Math.floor(bytes.length / 2);
          const parts: OutputParts =
            dropped === 0
              ? { head: bytes, dropped: 0, tail: Buffer.alloc(0) }
              : { head: bytes.subarray(0, split), dropped, tail: bytes.subarray(split) };
          const total = bytes.length + dropped;
          const r = budgetOutput(parts, maxTokens);
          assert.equal(r.originalTokenCount, approxTokenCount(total));
          if (dropped === 0 && bytes.length <= maxTokens * 4) {
            assert.equal(r.truncated, false);
            assert.equal(r.text, text);
            return;
          }
          assert.equal(r.truncated, true);
          const m = /…(\d+) tokens truncated…/.exec(r.text);
          assert.ok(m, r.text);
          const body = r.text.replace(/^Total output lines: \d+\n\n/, "");
          const [head, tail] = [
            body.slice(0, body.indexOf(m[0])),
            body.slice(body.indexOf(m[0]) + m[0].length),
          ];
          const kept = Buffer.byteLength(head) + Buffer.byteLength(tail);
          assert.ok(kept <= maxTokens * 4, `${kept} bytes kept for ${maxTokens} tokens`);
          assert.equal(Number(m[1]), approxTokenCount(total - kept));
          assert.ok(!head.includes("\ufffd") && !tail.includes("\ufffd"), "a cut split a character");
          if (dropped === 0) {
            assert.ok(text.startsWith(head) && text.endsWith(tail));
            assert.match(r.text, /^Total output lines: \d+\n\n/);
          }
        },
      ),
    );
  });

  it("turns a terminal's CRLF into LF", () => {
    const r = budgetOutput(
      { head: Buffer.from("a\r\nb\rc\r\n"), dropped: 0, tail: Buffer.alloc(0) },
      100,
      true,
    );
    assert.equal(r.text, "a\nb\rc\n");
  });
});
