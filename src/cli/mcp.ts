/**
 * `toold mcp`: an MCP server on stdio that forwards to the daemon. The SDK is loaded only here, so
 * other commands never pay for it.
 */
import type { ConnectOptions } from "../client/index.js";

export async function runMcpServer(opts: ConnectOptions): Promise<void> {
  const { runMcpBridge } = await import("../mcp/server.js");
  await runMcpBridge({
    connect: {
      ...opts,
      clientInfo: {
        name: "toold-mcp",
        ...(opts.clientInfo?.version ? { version: opts.clientInfo.version } : {}),
      },
    },
    stdin: process.stdin,
    stdout: process.stdout,
    log: (line) => process.stderr.write(`${line}\n`),
  });
}
