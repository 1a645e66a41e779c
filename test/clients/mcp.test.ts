/**
 * `toold mcp` driven by the MCP SDK's own Client over stdio: the real compiled CLI forwards to a
 * real daemon on a temp socket.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  CallToolResultSchema,
  ElicitRequestSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { existsSync } from "node:fs";
import { CLI, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const TOML = `[tools.policies]\nrun_terminal_cmd = "allow"\n`;

async function mcpClient(
  d: TestDaemon,
  client = new Client({ name: "toold-test", version: "0" }),
): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "--workspace", d.root, "--socket", d.socket],
    env: d.env as Record<string, string>,
    stderr: "pipe",
  });
  await client.connect(transport);
  return client;
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

describe("toold mcp with the MCP SDK client", () => {
  let d: TestDaemon;
  let client: Client;
  before(async () => {
    d = await makeTestDaemon({
      toml: TOML,
      files: { "notes.txt": "alpha\nbeta\n", "keep.txt": "k\n", "doomed.txt": "d\n" },
    });
    client = await mcpClient(d); // the daemon is not running yet: the first request starts it
  });
  after(async () => {
    await client?.close();
    await d.cleanup();
  });

  it("lists the daemon's tools with their JSON Schemas unchanged", async () => {
    const { tools } = await client.listTools();
    const fromDaemon = await d.cli(["tools", "--json"]);
    const daemonTools = (JSON.parse(fromDaemon.stdout) as { tools: { name: string; inputSchema: unknown }[] })
      .tools;
    assert.deepEqual(
      tools.map((t) => t.name),
      daemonTools.map((t) => t.name),
    );
    const read = tools.find((t) => t.name === "read_file");
    assert.deepEqual(read?.inputSchema, daemonTools.find((t) => t.name === "read_file")?.inputSchema);
  });

  it("forwards tools/call and tool errors as isError results", async () => {
    const ok = (await client.callTool({
      name: "read_file",
      arguments: { path: "notes.txt" },
    })) as CallToolResult;
    assert.equal(ok.isError, undefined);
    assert.match(text(ok), /alpha/);
    await client.callTool({ name: "write_file", arguments: { path: "out.txt", content: "from mcp\n" } });
    assert.equal(await readFile(path.join(d.root, "out.txt"), "utf8"), "from mcp\n");
    const missing = (await client.callTool({
      name: "read_file",
      arguments: { path: "nope.txt" },
    })) as CallToolResult;
    assert.equal(missing.isError, true);
    assert.match(text(missing), /nope\.txt/);
  });

  it("answers an unknown tool with a protocol error naming it", async () => {
    await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), /no_such_tool/);
  });

  it("passes progress from the daemon to the host", async () => {
    const messages: string[] = [];
    const r = (await client.callTool(
      { name: "run_terminal_cmd", arguments: { command: "echo one; sleep 0.3; echo two" } },
      CallToolResultSchema,
      { onprogress: (p) => messages.push(String(p.message ?? "")) },
    )) as CallToolResult;
    assert.equal(r.isError, undefined, text(r));
    assert.match(messages.join(""), /one/);
  });

  it("cancels the daemon call when the host cancels", async () => {
    const controller = new AbortController();
    const call = client.callTool(
      { name: "run_terminal_cmd", arguments: { command: "sleep 30; echo late > late.txt" } },
      CallToolResultSchema,
      { signal: controller.signal },
    );
    // Wait until the daemon runs it, then cancel.
    for (let i = 0; i < 200; i++) {
      const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout) as {
        requests: { inFlight: number };
      };
      if (stats.requests.inFlight > 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    controller.abort();
    await assert.rejects(call);
    // The daemon saw the cancellation: nothing stays in flight and the command never finished.
    for (let i = 0; i < 200; i++) {
      const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout) as {
        requests: { inFlight: number };
      };
      if (stats.requests.inFlight === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout) as { requests: { inFlight: number } };
    assert.equal(stats.requests.inFlight, 0);
    await assert.rejects(readFile(path.join(d.root, "late.txt")));
  });

  it("denies prompt-policy tools to a host that cannot ask its user, saying what to change", async () => {
    const r = (await client.callTool({
      name: "delete_file",
      arguments: { path: "keep.txt" },
    })) as CallToolResult;
    assert.equal(r.isError, true);
    assert.match(text(r), /needs approval .*delete_file/);
    assert.equal(existsSync(path.join(d.root, "keep.txt")), true);
  });

  it("asks a host that supports elicitation, and follows the user's answer", async () => {
    const asker = new Client({ name: "asking-host", version: "0" }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    asker.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      const approve = req.params.message.includes("doomed.txt");
      return { action: "accept", content: { approve } };
    });
    await mcpClient(d, asker);
    try {
      const no = (await asker.callTool({
        name: "delete_file",
        arguments: { path: "keep.txt" },
      })) as CallToolResult;
      assert.equal(no.isError, true);
      assert.equal(existsSync(path.join(d.root, "keep.txt")), true);
      const yes = (await asker.callTool({
        name: "delete_file",
        arguments: { path: "doomed.txt" },
      })) as CallToolResult;
      assert.equal(yes.isError, undefined, text(yes));
      assert.equal(existsSync(path.join(d.root, "doomed.txt")), false);
      assert.equal(asked.length, 2);
      assert.match(asked[0] ?? "", /allow delete_file\? .*prompt[\s\S]*\n {2}path: keep\.txt$/);
    } finally {
      await asker.close();
    }
  });

  it("survives a daemon restart", async () => {
    const before = JSON.parse((await d.cli(["status", "--json"])).stdout) as { pid: number };
    const restarted = await d.cli(["restart"]);
    assert.equal(restarted.code, 0, restarted.stderr);
    const after = JSON.parse((await d.cli(["status", "--json"])).stdout) as { pid: number };
    assert.notEqual(after.pid, before.pid);
    const r = (await client.callTool({
      name: "read_file",
      arguments: { path: "notes.txt" },
    })) as CallToolResult;
    assert.match(text(r), /beta/);
    const { tools } = await client.listTools();
    assert.ok(tools.length > 0);
  });
});
