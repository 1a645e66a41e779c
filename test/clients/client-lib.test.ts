/**
 * The `toold/client` package export, as an editor extension uses it: imported by its package name
 * (so the `exports` map is exercised), against the real compiled daemon on a temp socket.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import {
  ConnectionClosedError,
  DaemonUnreachableError,
  ErrorCodes,
  RpcError,
  ToolDClient,
  type ApproveParams,
} from "toold/client";
import { makeTestDaemon, pidAlive, waitFor, type TestDaemon } from "../helpers/daemon.js";

const TOML = `[tools.policies]\nrun_terminal_cmd = "allow"\ndelete_file = "prompt"\n`;

describe("toold/client against a real daemon", () => {
  let d: TestDaemon;
  let client: ToolDClient;
  before(async () => {
    d = await makeTestDaemon({
      toml: TOML,
      files: { "a.txt": "hello\n", "keep.txt": "k\n", "gone.txt": "g\n" },
    });
  });
  after(async () => {
    client?.close();
    await d.cleanup();
  });

  it("refuses to start the daemon when autoStart is false", async () => {
    await assert.rejects(
      ToolDClient.connect({ workspace: d.root, socket: d.socket, env: d.env, autoStart: false }),
      (err: unknown) => err instanceof DaemonUnreachableError && /toold start/.test(err.message),
    );
    assert.equal(existsSync(d.socket), false);
  });

  it("connects, starting the daemon, and lists typed tools", async () => {
    client = await ToolDClient.connect({
      workspace: d.root,
      socket: d.socket,
      env: d.env,
      clientInfo: { name: "test-ext" },
    });
    assert.equal(existsSync(d.socket), true);
    assert.equal(client.server.workspace, d.root);
    const tools = await client.listTools();
    const read = tools.find((t) => t.name === "read_file");
    assert.ok(read, "read_file listed");
    assert.equal(read.inputSchema.type, "object");
  });

  it("calls a tool and counts it in stats", async () => {
    const r = await client.callTool("read_file", { path: "a.txt" });
    assert.match(r.content.map((c) => c.text).join(""), /hello/);
    const stats = await client.stats();
    assert.ok((stats.tools.read_file?.calls ?? 0) >= 1);
    assert.ok(stats.connections.active >= 1);
  });

  it("delivers progress to the callback", async () => {
    const seen: unknown[] = [];
    const r = await client.callTool(
      "run_terminal_cmd",
      { command: "echo first; sleep 0.3; echo second" },
      {
        onProgress: (v) => seen.push(v),
      },
    );
    assert.ok(!r.isError, JSON.stringify(r));
    assert.match(JSON.stringify(seen), /first/);
  });

  it("cancels: the daemon stops the command and answers with what it had", async () => {
    const controller = new AbortController();
    let printed = "";
    const call = client.callTool(
      "run_terminal_cmd",
      { command: "echo early; sleep 20; echo late > late.txt" },
      // Cancel once the command has printed: cancelling earlier may come before "early" exists.
      { signal: controller.signal, onProgress: (v) => (printed += JSON.stringify(v)) },
    );
    await waitFor(() => printed.includes("early"), 10_000, "the command's first output");
    controller.abort();
    const result = await call;
    assert.equal(result.isError, true);
    const text = result.content.map((c) => c.text).join("");
    assert.match(text, /cancelled/);
    assert.match(text, /early/);
    assert.equal((await client.stats()).requests.inFlight, 0);
    assert.equal(existsSync(path.join(d.root, "late.txt")), false);
  });

  it("asks the approvals handler under a prompt policy, and obeys its answer", async () => {
    const asked: ApproveParams[] = [];
    const approver = await ToolDClient.connect({
      workspace: d.root,
      socket: d.socket,
      env: d.env,
      onApprove: (req) => {
        asked.push(req);
        return req.arguments.path === "gone.txt";
      },
    });
    try {
      const denied = await approver.callTool("delete_file", { path: "keep.txt" });
      assert.equal(denied.isError, true);
      assert.equal(existsSync(path.join(d.root, "keep.txt")), true);
      const allowed = await approver.callTool("delete_file", { path: "gone.txt" });
      assert.ok(!allowed.isError, JSON.stringify(allowed));
      assert.equal(existsSync(path.join(d.root, "gone.txt")), false);
      assert.deepEqual(
        asked.map((a) => [a.tool, a.arguments.path]),
        [
          ["delete_file", "keep.txt"],
          ["delete_file", "gone.txt"],
        ],
      );
      assert.match(asked[0]?.reason ?? "", /prompt/);
    } finally {
      approver.close();
    }
  });

  it("answers bad arguments with an RpcError the caller can branch on", async () => {
    await assert.rejects(
      client.callTool("read_file", { nope: 1 }),
      (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.InvalidParams,
    );
    await assert.rejects(
      client.callTool("no_such_tool", {}),
      (err: unknown) => err instanceof RpcError && err.code === ErrorCodes.MethodNotFound,
    );
  });

  it("rejects pending calls when the daemon dies, and reconnects on the next call when asked to", async () => {
    const plain = await ToolDClient.connect({ workspace: d.root, socket: d.socket, env: d.env });
    const resilient = await ToolDClient.connect({
      workspace: d.root,
      socket: d.socket,
      env: d.env,
      reconnect: true,
    });
    let drops = 0;
    resilient.onClose(() => drops++);
    const { pid } = await plain.status();
    const pendingPlain = plain.callTool("run_terminal_cmd", { command: "sleep 30" });
    const pendingResilient = resilient.callTool("run_terminal_cmd", { command: "sleep 30" });
    await waitFor(async () => (await resilient.stats()).requests.inFlight >= 2, 10_000, "both calls to run");
    // Both outcomes are watched before the kill: each rejects as soon as its socket closes.
    const outcomes = Promise.all([
      assert.rejects(pendingPlain, ConnectionClosedError),
      assert.rejects(pendingResilient, ConnectionClosedError),
    ]);
    process.kill(pid, "SIGKILL");
    await outcomes;
    await waitFor(() => !pidAlive(pid), 10_000, "the daemon to die");
    assert.equal(drops, 1);
    // Without reconnect the client stays closed; with it the next call starts a new daemon.
    await assert.rejects(plain.callTool("read_file", { path: "a.txt" }), ConnectionClosedError);
    const r = await resilient.callTool("read_file", { path: "a.txt" });
    assert.match(r.content[0]?.text ?? "", /hello/);
    const status = await resilient.status();
    assert.notEqual(status.pid, pid);
    assert.equal(resilient.server.workspace, d.root);
    plain.close();
    resilient.close();
    client.close();
  });
});
