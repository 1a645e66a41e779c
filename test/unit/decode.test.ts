/**
 * The frame decoders in memory (src/protocol/decode.ts), as vscode-jsonrpc's messages.test.ts
 * tests its readers: the same messages come out however the bytes are chunked, limits hold for
 * any chunking, and a failed stream stays failed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  LspDecoder,
  NdjsonDecoder,
  decoderFor,
  type Framing,
  type FrameDecoder,
} from "../../src/protocol/decode.js";

function encode(framing: Framing, bodies: string[]): Buffer {
  return Buffer.concat(
    bodies.map((b) =>
      framing === "lsp"
        ? Buffer.from(`Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}`)
        : Buffer.from(`${b}\n`),
    ),
  );
}

/** Cuts `bytes` at the given fractions (sorted, deduplicated), including inside multi-byte characters. */
function chunk(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  out.push(bytes.subarray(from));
  return out;
}

function feed(decoder: FrameDecoder, chunks: Buffer[]): { bodies: string[]; failure?: unknown } {
  const bodies: string[] = [];
  let failure: unknown;
  for (const c of chunks) {
    const step = decoder.push(c);
    bodies.push(...step.bodies);
    failure ??= step.failure;
  }
  const last = decoder.end();
  bodies.push(...last.bodies);
  failure ??= last.failure;
  return { bodies, failure };
}

// Bodies as a JSON encoder writes them: no raw newline (NDJSON relies on it), any Unicode.
const body = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.stringify({ jsonrpc: "2.0", id: 1, params: { v } }));
const framing = fc.constantFrom<Framing>("lsp", "ndjson");
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

test("both framings: the same messages come out for any chunking (fast-check)", () => {
  fc.assert(
    fc.property(framing, fc.array(body, { maxLength: 8 }), cuts, (f, bodies, at) => {
      const { bodies: out, failure } = feed(decoderFor(f, 1 << 20), chunk(encode(f, bodies), at));
      assert.equal(failure, undefined);
      assert.deepEqual(out, bodies);
    }),
    { numRuns: 500 },
  );
});

test("a message over the limit fails the stream for any chunking, after the messages before it", () => {
  fc.assert(
    fc.property(framing, fc.array(body, { maxLength: 4 }), cuts, (f, before, at) => {
      const limit = 256;
      const small = before.filter((b) => Buffer.byteLength(b) <= limit);
      const big = JSON.stringify({ jsonrpc: "2.0", pad: "x".repeat(limit) });
      const decoder = decoderFor(f, limit);
      const { bodies, failure } = feed(decoder, chunk(encode(f, [...small, big, small[0] ?? "{}"]), at));
      assert.deepEqual(bodies, small);
      assert.equal((failure as { kind: string } | undefined)?.kind, "too-large");
      // A failed stream stays failed: nothing more comes out.
      assert.deepEqual(decoder.push(encode(f, ["{}"])).bodies, []);
    }),
    { numRuns: 300 },
  );
});

test("NDJSON: never buffers more than the limit, even when no newline ever comes", () => {
  const d = new NdjsonDecoder(1000);
  let failure: unknown;
  for (let i = 0; i < 100 && failure === undefined; i++) failure = d.push(Buffer.alloc(64, 0x61)).failure;
  assert.deepEqual(failure, { kind: "too-large", bytes: 1024 });
  assert.equal(d.partial, false);
});

test("NDJSON: blank lines and CRLF are skipped; a last line without newline ends the input", () => {
  const d = new NdjsonDecoder(1000);
  assert.deepEqual(d.push(Buffer.from('\n\r\n  {"a":1}\r\n\n{"b"')).bodies, ['{"a":1}']);
  assert.equal(d.partial, true);
  assert.deepEqual(d.push(Buffer.from(":2}")).bodies, []);
  assert.deepEqual(d.end(), { bodies: ['{"b":2}'] });
});

test("LSP: the header is refused before any body when Content-Length is over the limit", () => {
  const d = new LspDecoder(100);
  assert.deepEqual(d.push(Buffer.from("Content-Length: 101\r\n\r\n")), {
    bodies: [],
    failure: { kind: "too-large", bytes: 101 },
  });
});

test("LSP: other headers are allowed, in any case; malformed ones fail with a reason", () => {
  const ok = new LspDecoder(100);
  assert.deepEqual(
    ok.push(Buffer.from("content-type: application/json\r\ncontent-length:  2\r\n\r\n{}")).bodies,
    ["{}"],
  );
  for (const bad of [
    "Garbage\r\n\r\n",
    "Content-Length: -5\r\n\r\n",
    "Content-Type: x\r\n\r\n",
    "Content-Length: 1e3\r\n\r\n",
    "Content-Length: 99999999999999999999\r\n\r\n",
  ]) {
    const step = new LspDecoder(100).push(Buffer.from(bad));
    assert.equal(step.failure?.kind, "malformed", bad);
    assert.match((step.failure as { reason: string }).reason, /Content-Length/, bad);
  }
  const long = new LspDecoder(100).push(Buffer.from(`X-Pad: ${"y".repeat(9000)}`));
  assert.match((long.failure as { reason: string }).reason, /header section longer than 8 KiB/);
});

test("LSP: input that ends mid-frame is reported as incomplete; between frames it is not", () => {
  const cut = new LspDecoder(100);
  cut.push(Buffer.from('Content-Length: 10\r\n\r\n{"a"'));
  assert.deepEqual(cut.end(), { bodies: [], failure: { kind: "incomplete" } });
  const whole = new LspDecoder(100);
  assert.deepEqual(whole.push(Buffer.from("Content-Length: 2\r\n\r\n{}")).bodies, ["{}"]);
  assert.deepEqual(whole.end(), { bodies: [] });
});
