/**
 * The floor for the MCP row: a bare MCP SDK server on stdio (the SDK's low-level Server, as
 * `toold mcp` uses) answering `tools/call read_file` by reading the file itself. Argument: root.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const root = process.argv[2] ?? process.cwd();
const server = new Server({ name: "bare", version: "0" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: "read_file",
      description: "read a file",
      inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
    },
  ],
}));
server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const rel = String(req.params.arguments?.path ?? "");
  const text = await readFile(path.join(root, rel), "utf8");
  return { content: [{ type: "text", text }] };
});
await server.connect(new StdioServerTransport());
