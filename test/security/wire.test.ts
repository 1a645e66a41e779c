/**
 * The wire, against the real daemon on a temp socket: oversized frames refused from the header,
 * stuck frames timed out, malformed input answered with the contract's errors, calls in flight
 * bounded per connection, connections bounded, and a well-behaved client answered throughout.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { makeTestDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import type { ToolDClient } from "../../src/client/index.js";
import { RawSocket } from "./raw-socket.js";

const MAX = 4096;
const TOML = `[daemon]
max_message_bytes = ${MAX}
frame_timeout_ms = 400
max_in_flight_per_connection = 2
max_connections = 6
[tools.policies]
run_terminal_cmd = "allow"
`;

let d: TestDaemon;
let good: ToolDClient;
let goodCalls = 0;
const goodFailures: string[] = [];
let stopGood = false;
let goodLoop: Promise<void>;

before(async () => {
  d = await makeTestDaemon({ toml: TOML, files: { "hello.txt": "hello\n" } });
  const started = await d.cli(["start"]);
  assert.equal(started.code, 0, started.stderr);
  good = await d.connect();
  // The well-behaved client: calls all through the file, each must answer correctly.
  goodLoop = (async () => {
    while (!stopGood) {
      try {
        const r = await good.callTool("read_file", { path: "hello.txt" });
        if (r.isError || r.content[0]?.text !== "hello\n") goodFailures.push(JSON.stringify(r));
        goodCalls++;
      } catch (err) {
        goodFailures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
});

after(async () => {
  stopGood = true;
  await goodLoop;
  good.close();
  await d.cleanup();
});

/** The well-behaved client has answered since `since` and nothing failed. */
async function assertGoodClientServed(since: number): Promise<void> {
  await waitFor(() => goodCalls > since + 2, 10_000, "the well-behaved client's calls");
  assert.deepEqual(goodFailures, []);
}

const listTools = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list", params: {} });

test("LSP: a Content-Length over max_message_bytes is refused from the header, before any body", async () => {
  const since = goodCalls;
  const s = await RawSocket.connect(d.socket, "lsp");
  s.write(`Content-Length: ${MAX * 1000}\r\n\r\n`); // no body sent at all
  const reply = await s.next();
  assert.equal(reply.error?.code, -32600);
  assert.match(
    reply.error?.message ?? "",
    new RegExp(`${MAX * 1000} bytes exceeds max_message_bytes \\(${MAX}\\)`),
  );
  assert.equal(reply.id, null);
  await s.waitClosed();
  await assertGoodClientServed(since);
});

test("NDJSON: a line over max_message_bytes gets an error and the connection is closed", async () => {
  const since = goodCalls;
  const s = await RawSocket.connect(d.socket, "ndjson");
  s.write(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"${"x".repeat(MAX * 2)}`); // no newline yet
  const reply = await s.next();
  assert.equal(reply.error?.code, -32600);
  assert.match(reply.error?.message ?? "", /exceeds max_message_bytes/);
  await s.waitClosed();
  await assertGoodClientServed(since);
});

test("a frame that stays incomplete past frame_timeout_ms closes its connection (both framings)", async () => {
  const since = goodCalls;
  const lsp = await RawSocket.connect(d.socket, "lsp");
  lsp.write('Content-Length: 60\r\n\r\n{"jsonrpc":"2.0",');
  const ndjson = await RawSocket.connect(d.socket, "ndjson");
  ndjson.write('{"jsonrpc":"2.0","id":1,');
  for (const s of [lsp, ndjson]) {
    const reply = await s.next(5000);
    assert.equal(reply.error?.code, -32600);
    assert.match(reply.error?.message ?? "", /incomplete message: no complete frame within 400 ms/);
    await s.waitClosed();
    assert.ok((s.closedAfterMs ?? 0) >= 350, `closed after ${s.closedAfterMs} ms, before the timeout`);
  }
  // A header that never ends is a partial frame too.
  const header = await RawSocket.connect(d.socket, "lsp");
  header.write("Content-Length: 10\r\n");
  assert.equal((await header.next()).error?.code, -32600);
  await header.waitClosed();
  await assertGoodClientServed(since);
});

test("invalid headers get -32600 and the connection closes (the stream cannot be resynchronised)", async () => {
  for (const bad of [
    "Garbage\r\n\r\n",
    "Content-Length: -5\r\n\r\n",
    "Content-Type: x\r\n\r\n",
    "Content-Length: 1e3\r\n\r\n",
  ]) {
    const s = await RawSocket.connect(d.socket, "lsp");
    s.write(bad);
    const reply = await s.next();
    assert.equal(reply.error?.code, -32600, bad);
    assert.match(reply.error?.message ?? "", /Content-Length/, bad);
    await s.waitClosed();
  }
  // More than 8 KiB of header without an end.
  const s = await RawSocket.connect(d.socket, "lsp");
  s.write(`X-Pad: ${"y".repeat(9000)}`);
  assert.match((await s.next()).error?.message ?? "", /header section longer than 8 KiB/);
  await s.waitClosed();
});

test("LSP: invalid JSON gets -32700, a non-object -32600, and the connection stays usable", async () => {
  const s = await RawSocket.connect(d.socket, "lsp");
  s.send("{not json}");
  assert.equal((await s.next()).error?.code, -32700);
  s.send("[1,2,3]");
  assert.equal((await s.next()).error?.code, -32600);
  s.send('"a string"');
  assert.equal((await s.next()).error?.code, -32600);
  s.send('{"jsonrpc":"1.0","id":7,"method":"tools/list"}');
  const wrongVersion = await s.next();
  assert.equal(wrongVersion.error?.code, -32600);
  assert.equal(wrongVersion.id, 7, "the id is echoed when it could be read");
  s.send(listTools(8));
  const ok = await s.next();
  assert.equal(ok.id, 8);
  assert.ok(Array.isArray((ok.result as { tools: unknown[] }).tools));
  assert.equal(s.closed, false);
  s.destroy();
});

test("NDJSON: invalid JSON -32700, non-objects -32600, unknown method -32601, then a valid call answers", async () => {
  const s = await RawSocket.connect(d.socket, "ndjson");
  s.write("{oops\n");
  assert.equal((await s.next()).error?.code, -32700);
  s.write("[]\n");
  assert.equal((await s.next()).error?.code, -32600);
  s.write("42\n");
  assert.equal((await s.next()).error?.code, -32600);
  s.write('{"jsonrpc":"2.0","id":3,"method":"no/such"}\n');
  assert.equal((await s.next()).error?.code, -32601);
  s.write(
    '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"hello.txt"}}}\n',
  );
  const ok = await s.next();
  assert.equal(ok.id, 4);
  assert.equal((ok.result as { content: { text: string }[] }).content[0]?.text, "hello\n");
  s.destroy();
});

test("input that ends mid-frame is answered at once; a last line without newline is still a message", async () => {
  const lsp = await RawSocket.connect(d.socket, "lsp");
  lsp.socket.end('Content-Length: 50\r\n\r\n{"jsonrpc"');
  const cut = await lsp.next(1000); // well before frame_timeout_ms would matter for a 30 s default
  assert.equal(cut.error?.code, -32600);
  assert.match(cut.error?.message ?? "", /incomplete message at the end of the input/);
  const nd = await RawSocket.connect(d.socket, "ndjson");
  nd.socket.end('{"jsonrpc":"2.0","id":9,"method":"tools/list"}'); // no newline, no params
  const ok = await nd.next();
  assert.equal(ok.id, 9);
  assert.ok(Array.isArray((ok.result as { tools: unknown[] }).tools), JSON.stringify(ok));
});

test("a connection starting with [ is read as NDJSON: a batch gets -32600 and the next line answers", async () => {
  const s = await RawSocket.connect(d.socket, "ndjson");
  s.write('[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]\n');
  const batch = await s.next();
  assert.equal(batch.error?.code, -32600);
  assert.match(batch.error?.message ?? "", /batch messages are not supported/);
  s.send(listTools(2));
  assert.equal((await s.next()).id, 2);
  s.destroy();
});

test("per connection at most max_in_flight_per_connection calls run; the rest wait; cancels still get through", async () => {
  const since = goodCalls;
  const gate = path.join(d.root, "gate");
  const s = await RawSocket.connect(d.socket, "ndjson");
  const blocked = { command: "while [ ! -f gate ]; do sleep 0.02; done; echo done" };
  let batch = "";
  for (let id = 1; id <= 8; id++) {
    // The last one would leave a trace if it ever ran.
    const args = id === 8 ? { command: "touch ran-8" } : blocked;
    batch += `${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "run_terminal_cmd", arguments: args } })}\n`;
  }
  s.write(batch); // one chunk: all eight arrive at once
  const inFlight = async () => (await good.stats()).requests.inFlight;
  // The well-behaved client's own call may add one.
  await waitFor(async () => (await inFlight()) >= 2, 10_000, "two calls in flight");
  for (let i = 0; i < 10; i++) {
    const n = await inFlight();
    assert.ok(n <= 3, `${n} calls in flight; the bound is 2 (+1 from the well-behaved client)`);
    await new Promise((r) => setTimeout(r, 30));
  }
  // A call still waiting for a slot is cancelled before it starts: it never runs.
  s.write(`${JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 8 } })}\n`);
  const early = await s.next(10_000);
  assert.equal(early.id, 8);
  assert.equal(early.error?.code, -32800);
  // The connection is full, yet its $/cancelRequest notification is read and acted on.
  s.write(`${JSON.stringify({ jsonrpc: "2.0", method: "$/cancelRequest", params: { id: 1 } })}\n`);
  const cancelled = await s.next(10_000);
  assert.equal(cancelled.id, 1);
  assert.equal(existsSync(gate), false, "answered before the gate opened: the cancel got through");
  await assertGoodClientServed(since);
  await writeFile(gate, "");
  const ids = new Set<unknown>();
  for (let i = 0; i < 6; i++) ids.add((await s.next(20_000)).id);
  assert.deepEqual([...ids].sort(), [2, 3, 4, 5, 6, 7]);
  assert.equal(existsSync(path.join(d.root, "ran-8")), false, "the cancelled call never ran");
  s.destroy();
});

test("a client that sends calls and never reads the answers cannot make the daemon buffer them", async () => {
  const since = goodCalls;
  await writeFile(path.join(d.root, "big.txt"), "x".repeat(1024 * 1024));
  const rss = async () => (await good.stats()).process.rssBytes;
  const before = await rss();
  const s = await RawSocket.connect(d.socket, "ndjson");
  s.socket.pause(); // never read
  const call = (id: number) =>
    JSON.stringify({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name: "read_file", arguments: { path: "big.txt" } },
    });
  const N = 200;
  for (let id = 1; id <= N; id++) s.write(`${call(id)}\n`);
  // Unbounded, the daemon would now hold ~200 MiB of answers; bounded, max_in_flight (2) of them.
  await new Promise((r) => setTimeout(r, 1500));
  const grown = (await rss()) - before;
  assert.ok(
    grown < 64 * 1024 * 1024,
    `daemon RSS grew by ${Math.round(grown / 1048576)} MiB while the client did not read`,
  );
  await assertGoodClientServed(since);
  s.destroy();
});

test("at most max_connections connections; the next gets -32002 and is closed; a freed slot is reused", async () => {
  const since = goodCalls;
  await waitFor(
    async () => (await good.stats()).connections.active === 1,
    5000,
    "only the good client connected",
  );
  const held: RawSocket[] = [];
  const gate = path.join(d.root, "gate-connections");
  for (let i = 0; i < 5; i++) {
    // Each one holds a call: an idle connection would be closed to make room for the next one.
    const s = await RawSocket.connect(d.socket, "ndjson");
    s.send({
      jsonrpc: "2.0",
      id: 100 + i,
      method: "tools/call",
      params: {
        name: "run_terminal_cmd",
        arguments: { command: "while [ ! -f gate-connections ]; do sleep 0.02; done" },
      },
    });
    held.push(s);
  }
  await waitFor(async () => (await good.stats()).connections.active === 6, 5000, "six connections");
  const extra = await RawSocket.connect(d.socket, "ndjson");
  extra.send(listTools(1));
  const refused = await extra.next();
  assert.equal(refused.error?.code, -32002);
  assert.match(refused.error?.message ?? "", /too many connections \(max_connections = 6\)/);
  await extra.waitClosed();
  await assertGoodClientServed(since);
  await writeFile(gate, "");
  for (const [i, s] of held.entries()) assert.equal((await s.next(10_000)).id, 100 + i);
  held.pop()?.destroy();
  await waitFor(async () => (await good.stats()).connections.active === 5, 5000, "a slot freed");
  const again = await RawSocket.connect(d.socket, "ndjson");
  again.send(listTools(2));
  assert.equal((await again.next()).id, 2);
  for (const s of [...held, again]) s.destroy();
});

test("a connection that sends nothing is closed after frame_timeout_ms, freeing its slot", async () => {
  const s = await RawSocket.connect(d.socket, "lsp");
  await s.waitClosed(5000);
  assert.ok((s.closedAfterMs ?? 0) >= 350, `closed after ${s.closedAfterMs} ms, before the timeout`);
});
