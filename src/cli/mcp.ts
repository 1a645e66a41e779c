/** `toold mcp`: an MCP server on stdio that forwards to the daemon. */
import type { ConnectOptions } from "../client/index.js";

export async function runMcpServer(_opts: ConnectOptions): Promise<void> {
  throw new Error("toold mcp is not built yet");
}
