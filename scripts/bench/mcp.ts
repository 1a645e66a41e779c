/**
 * Row m: `tools/call read_file` through `toold mcp` (the daemon behind it warm) against a bare MCP
 * SDK server over stdio (the floor), and, when it is installed, the official MCP filesystem server
 * (`@modelcontextprotocol/server-filesystem`, which reads from disk on every call). One SDK client
 * per server, sequential calls, median per call; all side by side in one run.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { median, type Row } from "./common.js";

export interface McpBenchOptions {
  repo: string;
  corpus: string;
  /** A small file of the corpus, relative to it. */
  small: string;
  /** The running bench daemon's socket. */
  socket: string;
  runs: number;
  quick: boolean;
}

async function connect(command: string, args: string[], env?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "toold-bench", version: "0" });
  await client.connect(
    new StdioClientTransport({
      command,
      args,
      stderr: "ignore",
      ...(env ? { env: { ...(process.env as Record<string, string>), ...env } } : {}),
    }),
  );
  return client;
}

/** Median ms per sequential call of `n`, after a warm-up. */
async function perCall(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  n: number,
): Promise<number> {
  // Steady state, as a long-running server is: each process (client, server, and for toold the
  // daemon) has compiled its hot path before timing starts (20 calls left toold's three processes
  // still warming up: ~500 µs per call over the first thousand, ~100 µs after).
  for (let i = 0; i < 500; i++) await client.callTool({ name, arguments: args });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await client.callTool({ name, arguments: args });
    times.push(performance.now() - t);
    if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  }
  return median(times);
}

/** The official filesystem server's entry, when the package is installed. */
function officialServer(repo: string): string | undefined {
  try {
    return createRequire(path.join(repo, "package.json")).resolve(
      "@modelcontextprotocol/server-filesystem/dist/index.js",
    );
  } catch {
    return undefined;
  }
}

export async function mcpRows(o: McpBenchOptions): Promise<Row[]> {
  const n = o.quick ? 100 : 300;
  const cli = path.join(o.repo, "dist/cli/main.js");
  const toold = await connect(process.execPath, [cli, "mcp", "--workspace", o.corpus, "--socket", o.socket]);
  const bare = await connect(process.execPath, [
    "--import",
    "tsx",
    path.join(o.repo, "scripts/bench/mcp-bare-server.ts"),
    o.corpus,
  ]);
  const officialEntry = officialServer(o.repo);
  const official = officialEntry ? await connect(process.execPath, [officialEntry, o.corpus]) : undefined;
  const officialTool = official
    ? (await official.listTools()).tools.some((t) => t.name === "read_text_file")
      ? "read_text_file"
      : "read_file"
    : undefined;
  const tooldMs: number[] = [];
  const bareMs: number[] = [];
  const officialMs: number[] = [];
  try {
    for (let run = 0; run < o.runs; run++) {
      // Interleaved, so load from elsewhere on the machine falls on all of them alike.
      bareMs.push(await perCall(bare, "read_file", { path: o.small }, n));
      tooldMs.push(await perCall(toold, "read_file", { path: o.small }, n));
      if (official)
        officialMs.push(await perCall(official, officialTool!, { path: path.join(o.corpus, o.small) }, n));
    }
  } finally {
    await Promise.all([toold.close(), bare.close(), official?.close()]);
  }
  const t = median(tooldMs);
  const b = median(bareMs);
  const fmt = (x: number) => `${x.toFixed(3)} ms`;
  const rows: Row[] = [
    {
      id: "m",
      figure: "MCP `tools/call read_file` through `toold mcp`, sequential, per call",
      baseline: `bare MCP SDK server over stdio ${fmt(b)}`,
      result: fmt(t),
      ratio: (t / b).toFixed(2),
      goal: "<= 1.5",
      met: t / b <= 1.5 ? "yes" : "no",
    },
  ];
  if (official) {
    const f = median(officialMs);
    rows.push({
      id: "m2",
      figure:
        "MCP read through `toold mcp` vs the official MCP filesystem server (reads from disk each call)",
      baseline: `@modelcontextprotocol/server-filesystem ${fmt(f)}`,
      result: fmt(t),
      ratio: (t / f).toFixed(2),
      goal: "< 1",
      met: t < f ? "yes" : "no",
    });
  } else {
    rows.push({
      id: "m2",
      figure: "MCP read through `toold mcp` vs the official MCP filesystem server",
      baseline: "@modelcontextprotocol/server-filesystem is not installed",
      result: "—",
      ratio: "—",
      goal: "< 1",
      met: "skipped",
    });
  }
  return rows;
}
