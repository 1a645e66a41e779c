/**
 * A peer that stops reading (issue 12, item 5): what the daemon queues for one connection is
 * bounded in bytes, not only in calls. Past the bound its calls are cancelled and it is closed,
 * and the memory comes back; other clients are served throughout.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { makeTestDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import type { ToolDClient } from "../../src/client/index.js";
import { RawSocket } from "./raw-socket.js";

let d: TestDaemon;
let good: ToolDClient;

before(async () => {
  // Defaults: 64 calls in flight per connection, so the count bound alone allows 64 big answers.
  // A peer that takes no byte for frame_timeout_ms while answers wait is not reading.
  d = await makeTestDaemon({
    toml: "[daemon]\nframe_timeout_ms = 1000\n",
    files: { "hello.txt": "hello\n" },
  });
  const started = await d.cli(["start"]);
  assert.equal(started.code, 0, started.stderr);
  good = await d.connect();
});

after(async () => {
  good.close();
  await d.cleanup();
});

test("unread answers are bounded in bytes: the peer is closed, its calls cancelled, the memory comes back", async () => {
  await writeFile(path.join(d.root, "big.txt"), "x".repeat(4 * 1024 * 1024));
  const rss = async () => (await good.stats()).process.rssBytes;
  // Warm the path once so the comparison is about what the peer makes the daemon hold.
  // max_line_chars: 0, or read_file would cut the one 4 MiB line to 2000 characters.
  await good.callTool("read_file", { path: "big.txt", max_line_chars: 0 });
  const before = await rss();
  const s = await RawSocket.connect(d.socket, "ndjson");
  s.socket.pause(); // never read
  let batch = "";
  for (let id = 1; id <= 64; id++) {
    batch += `${JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "read_file", arguments: { path: "big.txt", max_line_chars: 0 } } })}\n`;
  }
  s.write(batch);
  // Unbounded in bytes, the daemon would now hold 64 answers of 4 MiB (and their encodings).
  await waitFor(
    async () => (await good.stats()).connections.active === 1,
    20_000,
    "the daemon to close the connection that does not read",
  );
  const r = await good.callTool("read_file", { path: "hello.txt" });
  assert.equal(r.content[0]?.text, "hello\n", "other clients are served");
  await waitFor(
    async () => (await rss()) - before < 160 * 1024 * 1024,
    20_000,
    "the daemon's memory to come back",
  );
  s.destroy();
});
