/** The daemon's lifecycle, end to end through the real CLI and daemon processes. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { makeTestDaemon, pidAlive, spawnForeground, waitFor } from "../helpers/daemon.js";

test("start → tools → call → stats → stop leaves no process, socket or state file", async () => {
  const d = await makeTestDaemon({ files: { "README.md": "# hello\nworld\n" } });
  try {
    // No daemon yet: `call` starts one.
    const first = await d.cli(["call", "read_file", "path=README.md"]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, "# hello\nworld\n");
    const state = JSON.parse(readFileSync(d.state, "utf8")) as {
      pid: number;
      phase: string;
      socket: string;
    };
    assert.equal(state.phase, "ready");
    assert.equal(state.socket, d.socket);

    const tools = await d.cli(["tools", "--json"]);
    const names = (
      JSON.parse(tools.stdout) as { tools: { name: string; inputSchema: { type: string } }[] }
    ).tools.map((t) => t.name);
    assert.ok(names.includes("read_file") && names.includes("list_files"), names.join(","));

    for (let i = 0; i < 3; i++)
      assert.equal((await d.cli(["call", "read_file", '{"path":"README.md"}'])).code, 0);
    const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout);
    assert.equal(stats.tools.read_file.calls, 4);
    assert.ok(stats.hotCache.hits >= 3, `hot cache hits ${stats.hotCache.hits}`);
    assert.equal(stats.hotCache.misses, 1);
    // Repeated reads are served warm: by the file cache (on by default), else by the pool.
    assert.ok(
      stats.fileCache.hits + stats.memoryPool.hits >= 3,
      `file cache hits ${stats.fileCache.hits}, pool hits ${stats.memoryPool.hits}`,
    );
    assert.ok(stats.process.rssBytes > 0);
    assert.equal(typeof stats.process.searchThreads, "number", "search worker threads are reported");
    assert.equal(typeof stats.tools.read_file.p99Ms, "number");

    const status = await d.cli(["status", "--json"]);
    assert.equal(status.code, 0);
    assert.equal(JSON.parse(status.stdout).pid, state.pid);

    const stop = await d.cli(["stop"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(existsSync(d.socket), false, "socket removed");
    assert.equal(existsSync(d.state), false, "state file removed");
    assert.equal(pidAlive(state.pid), false, "process gone");
    assert.equal((await d.cli(["status"])).code, 3, "status says not running");
    assert.equal((await d.cli(["call", "--no-start", "read_file", "path=README.md"])).code, 3);
  } finally {
    await d.cleanup();
  }
});

test("hot_cache_size from vtcode.toml shows as the capacity", async () => {
  const d = await makeTestDaemon({
    toml: "[optimization.tool_registry]\nhot_cache_size = 32\n",
    files: { "a.txt": "a" },
  });
  try {
    assert.equal((await d.cli(["call", "read_file", "path=a.txt"])).code, 0);
    const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout);
    assert.equal(stats.hotCache.capacity, 32);
  } finally {
    await d.cleanup();
  }
});

test("two concurrent starts give one daemon", async () => {
  const d = await makeTestDaemon();
  try {
    const results = await Promise.all([d.cli(["start"]), d.cli(["start"]), d.cli(["start"])]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const pids = new Set(results.map((r) => /pid (\d+)/.exec(r.stdout)?.[1]));
    assert.equal(pids.size, 1, `one pid for all starters: ${[...pids].join(",")}`);
    const { pid } = JSON.parse(readFileSync(d.state, "utf8")) as { pid: number };
    assert.equal(String(pid), [...pids][0]);
  } finally {
    await d.cleanup();
  }
});

test("kill -9, then a call brings a new daemon up over the stale socket and state file", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
  try {
    assert.equal((await d.cli(["start"])).code, 0);
    const { pid } = JSON.parse(readFileSync(d.state, "utf8")) as { pid: number };
    process.kill(pid, "SIGKILL");
    await waitFor(() => !pidAlive(pid), 5000, "daemon to die");
    assert.ok(existsSync(d.socket), "stale socket left behind");
    const r = await d.cli(["call", "read_file", "path=a.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "alpha\n");
    const next = JSON.parse(readFileSync(d.state, "utf8")) as { pid: number };
    assert.notEqual(next.pid, pid);
    assert.ok(pidAlive(next.pid));
  } finally {
    await d.cleanup();
  }
});

test("a bad vtcode.toml: the daemon refuses to start and the CLI says which key", async () => {
  const d = await makeTestDaemon({ toml: "[optimization.tool_registry]\nhot_cache_size = 0\n" });
  try {
    const r = await d.cli(["call", "read_file", "path=x"]);
    assert.equal(r.code, 3);
    assert.match(
      r.stderr,
      /line 2: optimization\.tool_registry\.hot_cache_size must be an integer from 1 to 4096 \(got 0\)/,
    );
    assert.equal(existsSync(d.socket), false);
  } finally {
    await d.cleanup();
  }
});

test("one-off NDJSON caller: tools/call without initialize, over a raw socket", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "raw\n" } });
  try {
    assert.equal((await d.cli(["start"])).code, 0);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(d.socket);
      let data = "";
      s.on("data", (c) => {
        data += c;
        if (data.includes("\n")) {
          s.end();
          resolve(data);
        }
      });
      s.on("error", reject);
      s.write(
        `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "read_file", arguments: { path: "a.txt" } } })}\n`,
      );
    });
    const msg = JSON.parse(reply);
    assert.equal(msg.id, 1);
    assert.equal(msg.result.content[0].text, "raw\n");
    assert.equal(msg.result.structuredContent.total_lines, 1);
  } finally {
    await d.cleanup();
  }
});

test("SIGTERM drains: an in-flight call finishes, new calls are refused, files are removed", async () => {
  const d = await makeTestDaemon({ toml: '[tools.policies]\nrun_terminal_cmd = "allow"\n' });
  const child = spawnForeground(d);
  try {
    // Wait for an answer, not for the socket file: it exists from bind(), a moment before listen().
    let connected: Awaited<ReturnType<typeof d.connect>> | undefined;
    await waitFor(
      async () => (connected = await d.connect({ autoStart: false }).catch(() => undefined)) !== undefined,
      10_000,
      "the daemon to answer",
    );
    const client = connected!;
    const call = client.callTool("run_terminal_cmd", { command: "sleep 0.7; echo finished" });
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 150));
    await assert.rejects(client.callTool("list_files", {}), (err: { code?: number; message: string }) => {
      assert.equal(err.code, -32001, err.message);
      assert.match(err.message, /shutting down/);
      return true;
    });
    const result = await call;
    assert.equal(result.isError ?? false, false, JSON.stringify(result));
    assert.match(result.content[0]?.text ?? "", /finished/);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    assert.equal(code, 0);
    assert.equal(existsSync(d.socket), false);
    assert.equal(existsSync(d.state), false);
  } finally {
    child.kill("SIGKILL");
    await d.cleanup();
  }
});

test("cancelling a call aborts the handler's signal", async () => {
  const d = await makeTestDaemon({ toml: '[tools.policies]\nrun_terminal_cmd = "allow"\n' });
  try {
    const client = await d.connect();
    const controller = new AbortController();
    const started = Date.now();
    const call = client.callTool("run_terminal_cmd", { command: "sleep 20" }, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    const result = await call;
    assert.equal(result.isError, true);
    assert.ok(Date.now() - started < 15_000, "the command did not run to its end");
    const stats = await client.stats();
    assert.equal(stats.requests.inFlight, 0);
    client.close();
  } finally {
    await d.cleanup();
  }
});

test("idle timeout: with no connection for idle_timeout_secs the daemon exits and cleans up", async () => {
  const d = await makeTestDaemon({ toml: "[daemon]\nidle_timeout_secs = 1\n" });
  try {
    assert.equal((await d.cli(["start"])).code, 0);
    const { pid } = JSON.parse(readFileSync(d.state, "utf8")) as { pid: number };
    await waitFor(() => !pidAlive(pid), 10_000, "idle daemon to exit");
    assert.equal(existsSync(d.socket), false);
    assert.equal(existsSync(d.state), false);
  } finally {
    await d.cleanup();
  }
});

test("a daemon of another version is asked to shut down and replaced", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "new\n" } });
  // A stand-in for an old daemon: answers initialize with another version, obeys daemon/shutdown.
  let shutdownAsked = false;
  const old = net.createServer((sock) => {
    let buf = "";
    sock.on("data", (chunk) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) !== -1) {
        const msg = JSON.parse(buf.slice(0, nl)) as { id: number; method: string };
        buf = buf.slice(nl + 1);
        if (msg.method === "initialize") {
          sock.write(
            `${JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { serverInfo: { name: "toold", version: "0.0.0-old" }, protocolVersion: "old", workspace: d.root, capabilities: {} } })}\n`,
          );
        } else if (msg.method === "daemon/shutdown") {
          shutdownAsked = true;
          sock.write(`${JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { ok: true } })}\n`);
          old.close();
        }
      }
    });
  });
  await new Promise<void>((r) => old.listen(d.socket, r));
  try {
    const r = await d.cli(["call", "read_file", "path=a.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "new\n");
    assert.equal(shutdownAsked, true, "the old daemon was asked to shut down");
    const status = JSON.parse((await d.cli(["status", "--json"])).stdout) as { version: string };
    assert.notEqual(status.version, "0.0.0-old");
  } finally {
    old.close();
    await d.cleanup();
  }
});
