/**
 * The transport in memory (src/protocol/transport.ts) over a real socket pair: the reader keeps
 * going after a message that would throw, and the writer coalesces progress for a peer that
 * does not read, so what waits for it stays bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { mkdtemp, rm } from "node:fs/promises";
import { createMessageConnection, type Message } from "vscode-jsonrpc/node";
import { NdjsonDecoder } from "../../src/protocol/decode.js";
import { DecodingReader, PooledMessageWriter } from "../../src/protocol/transport.js";

const lender = { acquire: (n: number) => Buffer.allocUnsafe(n), release: () => {} };

/** A connected pair of Unix sockets: [daemon side, peer side]. */
async function socketPair(): Promise<{ server: net.Socket; client: net.Socket; done: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "toold-transport-"));
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(path.join(dir, "s"), r));
  const accepted = new Promise<net.Socket>((r) => listener.once("connection", r));
  const client = net.connect(path.join(dir, "s"));
  const server = await accepted;
  return {
    server,
    client,
    done: async () => {
      client.destroy();
      server.destroy();
      listener.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test("reader: malformed and too-deep messages are answered, and the rest of the chunk still reaches the connection", async () => {
  const { server, client, done } = await socketPair();
  try {
    const reader = new DecodingReader(server, new NdjsonDecoder(1 << 20), {
      maxMessageBytes: 1 << 20,
      partialMessageTimeoutMs: 1000,
      maxInFlight: 4,
    });
    const writer = new PooledMessageWriter(server, "ndjson", lender, (id) => reader.requestAnswered(id));
    const problems: number[] = [];
    reader.onProblem((p) => problems.push(p.code));
    const conn = createMessageConnection(reader, writer, undefined, { maxParallelism: 4 });
    conn.onRequest("echo", (params: { n: number }) => params.n);
    conn.listen();
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    client.write(
      [
        `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":${deep}}}`,
        "{broken",
        `{"jsonrpc":"2.0","id":1,"method":"echo","params":{"n":41}}`,
      ].join("\n") + "\n",
    );
    const line = await new Promise<string>((resolve) =>
      client.once("data", (b: Buffer) => resolve(b.toString())),
    );
    assert.deepEqual(JSON.parse(line), { jsonrpc: "2.0", id: 1, result: 41 });
    assert.deepEqual(problems, [-32600, -32700]);
    conn.dispose();
  } finally {
    await done();
  }
});

test("writer: progress for a peer that does not read is coalesced to the latest value per token", async () => {
  const { server, client, done } = await socketPair();
  try {
    client.pause();
    let overflowed = false;
    const writer = new PooledMessageWriter(server, "ndjson", lender, undefined, {
      softBytes: 64 * 1024,
      hardBytes: 1 << 30,
      stallMs: 60_000,
      onOverflow: () => (overflowed = true),
    });
    const progress = (token: string, i: number) =>
      ({
        jsonrpc: "2.0",
        method: "$/progress",
        params: { token, value: { i, pad: "p".repeat(1000) } },
      }) as Message;
    // Fill the socket past the soft bound, then send 20,000 progress steps (about 20 MB).
    void writer.write({ jsonrpc: "2.0", id: 1, result: "r".repeat(1024 * 1024) } as Message).catch(() => {});
    for (let i = 0; i < 10_000; i++) {
      void writer.write(progress("a", i));
      void writer.write(progress("b", i));
    }
    assert.ok(server.writableLength < 2 * 1024 * 1024, `${server.writableLength} bytes queued`);
    assert.equal(overflowed, false);
    // The peer catches up: it gets the answer, then the latest step of each token.
    client.resume();
    const seen: { token: string; i: number }[] = [];
    const decoder = new NdjsonDecoder(1 << 24);
    await new Promise<void>((resolve) => {
      client.on("data", (chunk: Buffer) => {
        for (const body of decoder.push(chunk).bodies) {
          const msg = JSON.parse(body) as {
            method?: string;
            params?: { token: string; value: { i: number } };
          };
          if (msg.method === "$/progress") seen.push({ token: msg.params!.token, i: msg.params!.value.i });
          if (
            seen.some((s) => s.token === "a" && s.i === 9999) &&
            seen.some((s) => s.token === "b" && s.i === 9999)
          )
            resolve();
        }
      });
    });
    assert.ok(seen.length < 1000, `${seen.length} progress messages were written`);
  } finally {
    await done();
  }
});

test("writer: answers to a pipelining peer leave in batches; a lone answer and anything not an answer leave at once", async () => {
  const { server, client, done } = await socketPair();
  try {
    let unanswered = 0;
    const writer = new PooledMessageWriter(
      server,
      "ndjson",
      lender,
      () => unanswered--,
      undefined,
      () => unanswered,
    );
    const writes: number[] = [];
    const original = server._writev?.bind(server);
    // Count what reaches the socket as separate writes (writev of a batch counts once).
    server._write = ((chunk: Buffer, enc: BufferEncoding, cb: (e?: Error | null) => void) => {
      writes.push(1);
      return net.Socket.prototype._write.call(server, chunk, enc, cb);
    }) as typeof server._write;
    server._writev = ((chunks: { chunk: Buffer }[], cb: (e?: Error | null) => void) => {
      writes.push(chunks.length);
      return original!(chunks as never, cb);
    }) as typeof server._writev;
    const answer = (id: number) => ({ jsonrpc: "2.0", id, result: id }) as Message;
    const received: unknown[] = [];
    const decoder = new NdjsonDecoder(1 << 20);
    client.on("data", (chunk: Buffer) => {
      for (const body of decoder.push(chunk).bodies) received.push((JSON.parse(body) as { id: unknown }).id);
    });

    // Sequential: one request pending, its answer is written at once.
    unanswered = 1;
    await writer.write(answer(1));
    assert.deepEqual(writes, [1]);

    // Pipelined: five pending; the first four answers wait in the corked socket, the fifth
    // (nothing else pending) sends all five in one writev.
    writes.length = 0;
    unanswered = 5;
    const all = [2, 3, 4, 5].map((id) => writer.write(answer(id)));
    assert.deepEqual(writes, []);
    all.push(writer.write(answer(6)));
    await Promise.all(all);
    assert.deepEqual(writes, [5]);

    // A request to the client is never held behind pending answers.
    writes.length = 0;
    unanswered = 3;
    const held = writer.write(answer(7));
    assert.deepEqual(writes, []);
    await writer.write({ jsonrpc: "2.0", id: "s1", method: "client/approve", params: {} } as Message);
    await held;
    assert.deepEqual(writes, [2]);

    // A batch that never fills leaves after a millisecond.
    writes.length = 0;
    unanswered = 10;
    await writer.write(answer(8));
    assert.deepEqual(writes, [1]);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received, [1, 2, 3, 4, 5, 6, 7, "s1", 8]);
  } finally {
    await done();
  }
});

test("writer: any text, in either framing and on either side of the one-pass size, frames back to the same message", async () => {
  const { PassThrough } = await import("node:stream");
  const fc = (await import("fast-check")).default;
  const { decoderFor } = await import("../../src/protocol/decode.js");
  // Short and long strings of any code points (lone surrogates too): UTF-8 lengths differ from .length.
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 64 }),
    fc.string({ unit: "binary", minLength: 16 * 1024 - 40, maxLength: 16 * 1024 + 40 }),
    fc.string({ unit: "grapheme", maxLength: 6000 }),
  );
  await fc.assert(
    fc.asyncProperty(text, fc.constantFrom("lsp" as const, "ndjson" as const), async (s, framing) => {
      const stream = new PassThrough();
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(Buffer.from(c)));
      const writer = new PooledMessageWriter(stream, framing, lender);
      const message = { jsonrpc: "2.0", id: 1, result: { text: s } };
      await writer.send(message);
      const decoder = decoderFor(framing, 1 << 26);
      const step = decoder.push(Buffer.concat(chunks));
      assert.equal(step.failure, undefined);
      assert.equal(step.bodies.length, 1);
      // What JSON.stringify wrote, byte for byte (a lone surrogate becomes its \u escape).
      assert.equal(step.bodies[0], JSON.stringify(message));
      assert.deepEqual(JSON.parse(step.bodies[0]!), JSON.parse(JSON.stringify(message)));
    }),
    { numRuns: 300 },
  );
});
