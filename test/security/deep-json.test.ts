/**
 * Deep JSON (issue 12, item 9): nesting is limited while decoding, before anything walks the value.
 * Before the limit a 100,000-deep `path` got -32603 (a stack overflow in the error formatter) and a
 * deep `$/cancelRequest` id threw in the socket's data handler, dropping the rest of the chunk.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import { RawSocket } from "./raw-socket.js";

let d: TestDaemon;

before(async () => {
  d = await makeTestDaemon({ files: { "hello.txt": "hello\n" } });
  const started = await d.cli(["start"]);
  assert.equal(started.code, 0, started.stderr);
});

after(async () => {
  await d.cleanup();
});

const listTools = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list", params: {} });

test("deep JSON: a 100,000-deep path gets -32602, a deep $/cancelRequest id -32600, and the rest of the chunk is served", async () => {
  const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
  for (const framing of ["ndjson", "lsp"] as const) {
    const s = await RawSocket.connect(d.socket, framing);
    const bodies = [
      `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":${deep}}}}`,
      `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":${deep}}}`,
      JSON.stringify(listTools(2)),
    ];
    // One write: the three messages arrive together, so a throw on the second would drop the third.
    s.write(
      bodies
        .map((b) => (framing === "lsp" ? `Content-Length: ${Buffer.byteLength(b)}\r\n\r\n${b}` : `${b}\n`))
        .join(""),
    );
    const replies = [await s.next(10_000), await s.next(10_000), await s.next(10_000)];
    const byId = (id: unknown) => replies.find((r) => r.id === id);
    assert.equal(byId(1)?.error?.code, -32602, JSON.stringify(replies).slice(0, 300));
    assert.match(byId(1)?.error?.message ?? "", /nested deeper than 64 levels/);
    assert.equal(byId(null)?.error?.code, -32600);
    assert.ok(
      Array.isArray((byId(2)?.result as { tools?: unknown[] } | undefined)?.tools),
      "the rest of the chunk",
    );
    assert.equal(s.closed, false);
    s.destroy();
  }
  // The daemon is the same process and still answers.
  const c = await d.connect();
  assert.equal((await c.callTool("read_file", { path: "hello.txt" })).content[0]?.text, "hello\n");
  c.close();
});
