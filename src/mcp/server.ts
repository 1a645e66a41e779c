/**
 * `toold mcp`: an MCP server (stdio) that forwards `tools/list` and `tools/call` to the workspace's
 * daemon. It uses the SDK's low-level `Server` so the daemon's JSON Schemas pass through unchanged
 * (the high-level `McpServer` wants zod shapes). One daemon connection, opened on the first request
 * and reopened after a daemon restart; progress and cancellation are mapped both ways.
 */
import type { Readable, Writable } from "node:stream";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import {
  ConnectionClosedError,
  DaemonStartError,
  DaemonUnreachableError,
  ErrorCodes,
  RpcError,
  ToolDClient,
  type ApproveParams,
  type ConnectOptions,
  type ToolDescriptor,
} from "../client/index.js";
import { renderApproval } from "../support/display.js";
import { VERSION } from "../version.js";
import { WorkspaceError } from "../workspace/locate.js";
import { fileURLToPath } from "node:url";

export interface McpBridgeOptions {
  connect: ConnectOptions;
  stdin: Readable;
  stdout: Writable;
  /** One line of diagnostics (stderr in the CLI): stdout belongs to the protocol. */
  log: (line: string) => void;
}

/** Maps a daemon tool to an MCP tool; the schema and annotations are already MCP-shaped. */
export function toMcpTool(t: ToolDescriptor): Tool {
  return {
    name: t.name,
    description: t.aliases?.length
      ? `${t.description} (also known as ${t.aliases.join(", ")})`
      : t.description,
    inputSchema: t.inputSchema as Tool["inputSchema"],
    ...(t.annotations ? { annotations: t.annotations } : {}),
  };
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

/**
 * Opens the daemon connection lazily (on the first request, so the host's capabilities are known)
 * and shares it; `reconnect` replaces it after a daemon restart.
 */
class DaemonLink {
  private client: Promise<ToolDClient> | undefined;
  constructor(
    private readonly opts: ConnectOptions,
    private readonly extra: () => Promise<Partial<ConnectOptions>>,
  ) {}

  get(): Promise<ToolDClient> {
    this.client ??= this.extra()
      .then((extra) => ToolDClient.connect({ ...this.opts, ...extra, reconnect: true }))
      .catch((err: unknown) => {
        // Do not cache a failure: the next request tries again (the daemon may be fixed by then).
        this.client = undefined;
        throw err;
      });
    return this.client;
  }

  async close(): Promise<void> {
    const c = await this.client?.catch(() => undefined);
    c?.close();
  }
}

function unreachableText(err: unknown): string | undefined {
  if (err instanceof WorkspaceError) return `toold: ${err.message}`;
  if (err instanceof DaemonUnreachableError || err instanceof DaemonStartError) {
    return `toold: cannot reach the daemon: ${err.message}`;
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "ECONNREFUSED" || code === "ENOENT") {
    return `toold: cannot reach the daemon: ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * Asks the host's user through MCP elicitation whether a `prompt`-policy call may run. Sent as a
 * plain `elicitation/create` request: hosts that declare `elicitation: {}` (form mode, as before
 * modes existed) are asked too.
 */
async function askHost(server: Server, req: ApproveParams): Promise<boolean> {
  try {
    const answer = await server.request(
      {
        method: "elicitation/create",
        params: {
          message: renderApproval(req),
          requestedSchema: {
            type: "object",
            properties: { approve: { type: "boolean", title: `Allow ${req.tool}` } },
            required: ["approve"],
          },
        },
      },
      ElicitResultSchema,
    );
    return answer.action === "accept" && answer.content?.approve === true;
  } catch {
    return false; // no answer is a no
  }
}

/**
 * Without --workspace, the host's first file root (MCP roots) is where the workspace is looked for,
 * as from a shell in that folder: hosts such as Claude Desktop start servers in `/`.
 */
async function workspaceFromRoots(server: Server): Promise<Partial<ConnectOptions>> {
  if (!server.getClientCapabilities()?.roots) return {};
  try {
    const { roots } = await server.listRoots(undefined, { timeout: 5000 });
    const first = roots.find((r) => r.uri.startsWith("file:"));
    return first ? { cwd: fileURLToPath(first.uri) } : {};
  } catch {
    return {}; // the host declared roots but did not answer: fall back to the current folder
  }
}

/** The MCP server and the daemon link behind it. */
export function createMcpServer(connect: ConnectOptions): { server: Server; link: DaemonLink } {
  const server = new Server(
    { name: "toold", version: VERSION },
    { capabilities: { tools: { listChanged: false } } },
  );
  // Only a host that can ask its user declares approvals; others get the daemon's denial, which
  // says which policy to change.
  const link = new DaemonLink(connect, async () => ({
    ...(server.getClientCapabilities()?.elicitation
      ? { onApprove: (req: ApproveParams) => askHost(server, req) }
      : {}),
    ...(connect.workspace === undefined ? await workspaceFromRoots(server) : {}),
  }));

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    // tools/list has no effects, so one retry covers a connection that dropped under it.
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await link.get();
        return { tools: (await client.listTools()).map(toMcpTool) };
      } catch (err) {
        if (err instanceof ConnectionClosedError && attempt === 0) continue;
        const text = unreachableText(err);
        throw new McpError(
          ErrorCode.InternalError,
          text ?? `toold: tools/list failed: ${(err as Error).message}`,
        );
      }
    }
  });

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args } = request.params;
    const progressToken = request.params._meta?.progressToken;
    let client: ToolDClient;
    try {
      client = await link.get();
    } catch (err) {
      return errorResult(unreachableText(err) ?? `toold: ${(err as Error).message}`);
    }
    let step = 0;
    const onProgress =
      progressToken === undefined
        ? undefined
        : (value: unknown) => {
            step++;
            const message =
              value && typeof value === "object" && typeof (value as { chunk?: unknown }).chunk === "string"
                ? (value as { chunk: string }).chunk
                : JSON.stringify(value);
            void extra
              .sendNotification({
                method: "notifications/progress",
                params: { progressToken, progress: step, message },
              })
              .catch(() => undefined);
          };
    try {
      const result = await client.callTool(name, args ?? {}, {
        signal: extra.signal,
        ...(onProgress ? { onProgress } : {}),
      });
      return {
        content: result.content,
        ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
        ...(result.isError ? { isError: true } : {}),
      };
    } catch (err) {
      if (extra.signal.aborted) return errorResult(`toold: ${name} was cancelled`);
      if (err instanceof RpcError) {
        if (err.code === ErrorCodes.RequestCancelled) return errorResult(`toold: ${name} was cancelled`);
        // Unknown tool and bad arguments are the host's mistakes: protocol errors, as MCP says.
        if (err.code === ErrorCodes.MethodNotFound || err.code === ErrorCodes.InvalidParams) {
          throw new McpError(ErrorCode.InvalidParams, err.message);
        }
        return errorResult(`toold: ${err.message}`);
      }
      if (err instanceof ConnectionClosedError) {
        return errorResult(
          `toold: the daemon connection dropped during ${name}; it may or may not have run. The next call reconnects.`,
        );
      }
      return errorResult(unreachableText(err) ?? `toold: ${name} failed: ${(err as Error).message}`);
    }
  });
  return { server, link };
}

/** Serves MCP on the given streams until the host closes stdin. */
export async function runMcpBridge(opts: McpBridgeOptions): Promise<void> {
  const { server, link } = createMcpServer(opts.connect);
  const transport = new StdioServerTransport(opts.stdin, opts.stdout);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    // The SDK's stdio transport does not notice end of input; the host closing stdin means "stop".
    opts.stdin.once("end", () => void server.close());
    opts.stdin.once("close", () => void server.close());
  });
  server.onerror = (err) => opts.log(`toold mcp: ${err.message}`);
  await server.connect(transport);
  await closed;
  await link.close();
}
