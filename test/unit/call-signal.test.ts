/**
 * A call's AbortSignal is made on first use (src/dispatch/call-signal.ts): it must report what a
 * signal made when the call started would have, whenever the tool first looks at it. The
 * dispatcher tests at the end run a tool that looks only after the cancel (or the close) arrived,
 * through a real vscode-jsonrpc connection.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { Type } from "@sinclair/typebox";
import { pino } from "pino";
import { CancellationTokenSource } from "vscode-jsonrpc";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";
import { CallSignal } from "../../src/dispatch/call-signal.js";
import { Dispatcher, Session, type DaemonControl } from "../../src/dispatch/dispatcher.js";
import { Stats } from "../../src/dispatch/stats.js";
import { defaultConfig } from "../../src/config/load.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { defineTool, textResult } from "../../src/tools/shared/types.js";
import { Workspace } from "../../src/workspace/workspace.js";
import type { ToolResult } from "../../src/protocol/methods.js";

const reason = (signal: AbortSignal) => (signal.reason as Error | undefined)?.message;

describe("CallSignal", () => {
  test("never asked for: nothing is made or listened to, and `aborted` follows the token and the connection", () => {
    const source = new CancellationTokenSource();
    const closed = new AbortController();
    const call = new CallSignal(source.token, closed.signal);
    assert.equal(call.aborted, false);
    assert.equal(getEventListeners(closed.signal, "abort").length, 0);
    source.cancel();
    assert.equal(call.aborted, true);
    call.dispose();
    assert.equal(call.aborted, true);
  });

  test("a cancel before the first use: the signal is aborted as it is made", () => {
    const source = new CancellationTokenSource();
    const call = new CallSignal(source.token, new AbortController().signal);
    source.cancel();
    assert.equal(call.signal.aborted, true);
    assert.equal(reason(call.signal), "cancelled by the caller");
  });

  test("a cancel after the first use aborts it then", () => {
    const source = new CancellationTokenSource();
    const call = new CallSignal(source.token, new AbortController().signal);
    const signal = call.signal;
    assert.equal(signal.aborted, false);
    let fired = 0;
    signal.addEventListener("abort", () => fired++);
    source.cancel();
    assert.equal(signal.aborted, true);
    assert.equal(fired, 1);
    assert.equal(reason(signal), "cancelled by the caller");
    assert.equal(call.signal, signal, "one signal per call");
  });

  test("the connection closing, before or after the first use", () => {
    const closedBefore = new AbortController();
    const before = new CallSignal(new CancellationTokenSource().token, closedBefore.signal);
    closedBefore.abort();
    assert.equal(before.signal.aborted, true);
    assert.equal(reason(before.signal), "the connection closed");

    const closedAfter = new AbortController();
    const after = new CallSignal(new CancellationTokenSource().token, closedAfter.signal);
    const signal = after.signal;
    assert.equal(getEventListeners(closedAfter.signal, "abort").length, 1);
    closedAfter.abort();
    assert.equal(signal.aborted, true);
    assert.equal(reason(signal), "the connection closed");
  });

  test("after the call ended: listeners are gone and the state is the one it ended in", () => {
    const source = new CancellationTokenSource();
    const closed = new AbortController();
    const used = new CallSignal(source.token, closed.signal);
    const signal = used.signal;
    const unused = new CallSignal(source.token, closed.signal);
    used.dispose();
    unused.dispose();
    assert.equal(getEventListeners(closed.signal, "abort").length, 0);
    source.cancel();
    closed.abort();
    assert.equal(signal.aborted, false, "a cancel after the end is not the call's");
    assert.equal(used.aborted, false);
    assert.equal(unused.aborted, false);
    assert.equal(unused.signal.aborted, false, "first asked for after the end: as the call ended");

    const cancelledSource = new CancellationTokenSource();
    const cancelled = new CallSignal(cancelledSource.token, new AbortController().signal);
    cancelledSource.cancel();
    cancelled.dispose();
    assert.equal(cancelled.signal.aborted, true);
  });
});

/** A dispatcher on one in-memory connection, with one tool that waits for `release` and then reports its signal. */
async function dispatcherWithLateTool() {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-call-signal-")));
  let entered!: () => void;
  const enteredP = new Promise<void>((r) => (entered = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const lateTool = defineTool({
    name: "late_signal",
    description: "Waits, then says whether its signal is aborted (test only).",
    inputSchema: Type.Object({}),
    annotations: { readOnlyHint: true },
    async handler(_args, ctx) {
      entered();
      await released;
      return textResult(ctx.signal.aborted ? `aborted: ${reason(ctx.signal)}` : "running");
    },
  });
  const config = defaultConfig();
  const log = pino({ level: "silent" });
  const control: DaemonControl = {
    version: "test",
    socketPath: path.join(root, "sock"),
    pid: process.pid,
    memoryUsage: () => ({ rss: 0, heapUsed: 0 }),
    config: () => config,
    reloadConfig: async () => undefined,
    shutdown: () => {},
    isDraining: () => false,
  };
  const dispatcher = new Dispatcher({
    registry: new ToolRegistry([lateTool], config.optimization.tool_registry),
    pool: new BufferPool({ enabled: true, maxPerClass: 4 }),
    workspace: new Workspace(root),
    stats: new Stats(),
    control,
    log,
    files: new FileCache({ maxBytes: 1024 * 1024 }),
  });
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  const server = createMessageConnection(
    new StreamMessageReader(toServer),
    new StreamMessageWriter(toClient),
  );
  const session = new Session(1);
  dispatcher.attach(server, session);
  server.listen();
  const client = createMessageConnection(
    new StreamMessageReader(toClient),
    new StreamMessageWriter(toServer),
  );
  client.listen();
  /** Resolves once the server's reader has taken a message containing `text` (a listener added after its own). */
  const serverSaw = (text: string) =>
    new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        if (!chunk.toString("utf8").includes(text)) return;
        toServer.off("data", onData);
        setImmediate(resolve);
      };
      toServer.on("data", onData);
    });
  return {
    client,
    session,
    entered: enteredP,
    release,
    serverSaw,
    cleanup: async () => {
      client.dispose();
      server.dispose();
      await rm(root, { recursive: true, force: true });
    },
  };
}

describe("dispatcher: a tool that looks at its signal only late", () => {
  test("sees the $/cancelRequest that came while it waited", async () => {
    const d = await dispatcherWithLateTool();
    try {
      const source = new CancellationTokenSource();
      const answer = d.client.sendRequest("tools/call", { name: "late_signal", arguments: {} }, source.token);
      await d.entered;
      const cancelSeen = d.serverSaw("$/cancelRequest");
      source.cancel();
      await cancelSeen;
      d.release();
      const result = (await answer.catch((err: unknown) => err)) as ToolResult;
      assert.equal(result.content?.[0]?.text, "aborted: cancelled by the caller");
    } finally {
      await d.cleanup();
    }
  });

  test("sees the connection closed while it waited", async () => {
    const d = await dispatcherWithLateTool();
    try {
      const answer = d.client.sendRequest("tools/call", { name: "late_signal", arguments: {} });
      await d.entered;
      d.session.closed.abort();
      d.release();
      const result = (await answer) as ToolResult;
      assert.equal(result.content[0]?.text, "aborted: the connection closed");
    } finally {
      await d.cleanup();
    }
  });

  test("is not aborted when nothing happened", async () => {
    const d = await dispatcherWithLateTool();
    try {
      const answer = d.client.sendRequest("tools/call", { name: "late_signal", arguments: {} });
      await d.entered;
      d.release();
      assert.equal(((await answer) as ToolResult).content[0]?.text, "running");
    } finally {
      await d.cleanup();
    }
  });
});
