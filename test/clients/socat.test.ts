/**
 * Shell clients on the wire: NDJSON over the socket with `socat`, no framing and no client
 * library, against the real daemon (started by the real CLI).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

/** Pipes `input` into `socat -t 30 - UNIX-CONNECT:<socket>` and returns the lines it printed. */
function socat(socket: string, input: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "socat",
      ["-t", "30", "-", `UNIX-CONNECT:${socket}`],
      { timeout: 30_000 },
      (err, stdout) => {
        if (err) reject(err);
        else resolve(stdout.split("\n").filter((l) => l.length > 0));
      },
    );
    child.stdin?.end(input);
  });
}

type Reply = {
  id: number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Reply);
const req = (id: number, method: string, params: unknown) =>
  JSON.stringify({ jsonrpc: "2.0", id, method, params });

describe("NDJSON mode with socat", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({
      toml: `[tools.policies]\nrun_terminal_cmd = "allow"\n`,
      files: { "src/a.txt": "needle one\nhay\n" },
    });
    const started = await d.cli(["start"]);
    assert.equal(started.code, 0, started.stderr);
  });
  after(() => d.cleanup());

  it("answers the contract's one-liner at the path `toold socket` prints", async () => {
    const printed = (await d.cli(["socket"])).stdout.trim();
    assert.equal(printed, d.socket);
    const [reply] = parse(
      await socat(
        printed,
        `${req(1, "tools/call", { name: "read_file", arguments: { path: "src/a.txt" } })}\n`,
      ),
    );
    assert.equal(reply?.id, 1);
    const content = reply?.result?.content as { text: string }[];
    assert.match(content[0]?.text ?? "", /needle one/);
  });

  it("answers several requests on one connection, each by its id, even after the client stops sending", async () => {
    const input = [
      req(1, "initialize", { clientInfo: { name: "sh" } }),
      req(2, "tools/list", {}),
      // Slower than socat's default 0.5 s grace: only answered because the daemon waits for it.
      req(3, "tools/call", { name: "run_terminal_cmd", arguments: { command: "sleep 0.8; echo late" } }),
      req(4, "daemon/status", {}),
    ].join("\n");
    const replies = parse(await socat(d.socket, `${input}\n`));
    const byId = new Map(replies.map((r) => [r.id, r]));
    assert.deepEqual([...byId.keys()].sort(), [1, 2, 3, 4]);
    assert.equal((byId.get(1)?.result?.serverInfo as { name: string }).name, "toold");
    assert.ok((byId.get(2)?.result?.tools as unknown[]).length > 0);
    assert.match(JSON.stringify(byId.get(3)?.result), /late/);
    assert.equal(byId.get(4)?.result?.socket, d.socket);
  });

  it("answers bad lines with JSON-RPC errors and keeps the connection", async () => {
    const input = [
      req(1, "tools/call", { name: "no_such_tool", arguments: {} }),
      "{not json",
      req(2, "tools/call", { name: "read_file", arguments: { path: 42 } }),
      req(3, "tools/call", { name: "read_file", arguments: { path: "src/a.txt" } }),
    ].join("\n");
    const replies = parse(await socat(d.socket, `${input}\n`));
    assert.equal(replies.find((r) => r.id === null)?.error?.code, -32700);
    assert.equal(replies.find((r) => r.id === 1)?.error?.code, -32601);
    assert.equal(replies.find((r) => r.id === 2)?.error?.code, -32602);
    assert.match(JSON.stringify(replies.find((r) => r.id === 3)?.result), /needle one/);
    // The daemon is still up for the next client.
    assert.equal((await d.cli(["status"])).code, 0);
  });
});
