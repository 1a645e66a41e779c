/**
 * `toold mcp`: an MCP server on stdio that forwards to the daemon. The SDK is loaded only here, so
 * other commands never pay for it.
 */
import { VERSION } from "../../version.js";
import { connectOptions, EXIT, type Command } from "../command.js";

export const mcp: Command = {
  name: "mcp",
  usage: "mcp",
  summary: "MCP server on stdio that forwards tool calls to the daemon (starting it)",
  details:
    "Register it with your MCP host (see docs/clients.md for Claude Code, Codex, Cursor, VS Code,\nClaude Desktop, Windsurf and Zed). Approvals are asked through the host where it can.",
  options: {},
  examples: ["toold mcp", "claude mcp add toold -- toold mcp"],
  async run({ globals }) {
    const { runMcpBridge } = await import("../../mcp/server.js");
    await runMcpBridge({
      connect: { ...connectOptions(globals), clientInfo: { name: "toold-mcp", version: VERSION } },
      stdin: process.stdin,
      stdout: process.stdout,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return EXIT.ok;
  },
};
