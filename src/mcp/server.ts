/**
 * `toold mcp`: an MCP server (stdio) that forwards `tools/list` and `tools/call` to the workspace's
 * daemon. It uses the SDK's low-level `Server` so the daemon's JSON Schemas pass through unchanged
 * (the high-level `McpServer` wants zod shapes). One daemon connection, opened on the first request
 * and reopened after a daemon restart; progress and cancellation are mapped both ways.
 */
import type { Readable, Writable } from "node:stream";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ElicitResultSchema,
  ErrorCode,
  JSONRPCMessageSchema,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
  type JSONRPCMessage,
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
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

  server.setRequestHandler(CallToolRequestSchema, (request, extra) =>
    callTool(link, request.params, extra.signal, (n) => extra.sendNotification(n)),
  );
  return { server, link };
}

interface CallParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: { progressToken?: string | number };
}
type ProgressNotification = {
  method: "notifications/progress";
  params: { progressToken: string | number; progress: number; message: string };
};

/**
 * One `tools/call`, forwarded to the daemon. Bad arguments come back as an `isError` result the
 * model can act on; an unknown tool is an McpError (a protocol error), as MCP says.
 */
async function callTool(
  link: DaemonLink,
  params: CallParams,
  signal: AbortSignal,
  notify: (n: ProgressNotification) => Promise<void>,
): Promise<CallToolResult> {
  const { name, arguments: args } = params;
  const progressToken = params._meta?.progressToken;
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
          void notify({
            method: "notifications/progress",
            params: { progressToken, progress: step, message },
          }).catch(() => undefined);
        };
  try {
    const result = await client.callTool(name, args ?? {}, {
      signal,
      ...(onProgress ? { onProgress } : {}),
    });
    return {
      content: result.content,
      ...(result.structuredContent ? { structuredContent: result.structuredContent } : {}),
      ...(result.isError ? { isError: true } : {}),
    };
  } catch (err) {
    if (signal.aborted) return errorResult(`toold: ${name} was cancelled`);
    if (err instanceof RpcError) {
      if (err.code === ErrorCodes.RequestCancelled) return errorResult(`toold: ${name} was cancelled`);
      // Bad arguments are a result the model sees and can correct (the MCP spec asks for this):
      // the daemon's message names each bad argument, the accepted ones and an example.
      if (err.code === ErrorCodes.InvalidParams) {
        return {
          ...errorResult(err.message),
          ...(isRecord(err.data) ? { structuredContent: { invalid_arguments: err.data } } : {}),
        };
      }
      if (err.code === ErrorCodes.MethodNotFound) throw new McpError(ErrorCode.InvalidParams, err.message);
      return errorResult(`toold: ${err.message}`);
    }
    if (err instanceof ConnectionClosedError) {
      return errorResult(
        `toold: the daemon connection dropped during ${name}; it may or may not have run. The next call reconnects.`,
      );
    }
    return errorResult(unreachableText(err) ?? `toold: ${name} failed: ${(err as Error).message}`);
  }
}

/** Longest line the transport buffers (a host sending more is broken or hostile). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

/**
 * MCP's stdio transport (one JSON-RPC message per line) with a fast path for `tools/call`, the
 * one message an agent sends over and over: it goes straight to the daemon, without the SDK's
 * per-message zod parsing (the line, the request, the params, then the result: most of a call's
 * CPU in this process). Everything else (initialize, tools/list, ping, cancellations of other
 * requests, answers to elicitation) goes to the SDK's Server, checked by the SDK's schema as its
 * own transport would.
 */
class FastCallTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly inFlight = new Map<string | number, AbortController>();
  private closed = false;

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    private readonly link: DaemonLink,
  ) {}

  async start(): Promise<void> {
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
  }

  private readonly onStreamError = (err: Error): void => this.onerror?.(err);

  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.chunks.length === 0 ? piece : Buffer.concat([...this.chunks, piece]);
      this.chunks = [];
      this.buffered = 0;
      start = nl + 1;
      this.onLine(line.toString("utf8"));
    }
    if (start < chunk.length) {
      this.chunks.push(chunk.subarray(start));
      this.buffered += chunk.length - start;
      if (this.buffered > MAX_LINE_BYTES) {
        this.chunks = [];
        this.buffered = 0;
        this.reply({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "message too large" } });
      }
    }
  };

  private onLine(line: string): void {
    if (line.trim() === "") return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.reply({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
      return;
    }
    const id = message.id;
    if (message.method === "tools/call" && (typeof id === "string" || typeof id === "number")) {
      void this.fastCall(id, message.params);
      return;
    }
    if (message.method === "notifications/cancelled") {
      const requestId = (message.params as { requestId?: string | number } | undefined)?.requestId;
      const running = requestId === undefined ? undefined : this.inFlight.get(requestId);
      if (running) {
        running.abort();
        return;
      }
    }
    const checked = JSONRPCMessageSchema.safeParse(message);
    if (!checked.success) {
      this.onerror?.(new Error(`invalid message from the host: ${checked.error.message}`));
      return;
    }
    this.onmessage?.(checked.data);
  }

  private async fastCall(id: string | number, params: unknown): Promise<void> {
    const p = params as Partial<CallParams> | undefined;
    if (!isRecord(p) || typeof p.name !== "string" || (p.arguments !== undefined && !isRecord(p.arguments))) {
      this.reply({
        jsonrpc: "2.0",
        id,
        error: {
          code: ErrorCode.InvalidParams,
          message: "tools/call needs params {name: string, arguments?: object}",
        },
      });
      return;
    }
    const abort = new AbortController();
    this.inFlight.set(id, abort);
    try {
      const result = await callTool(this.link, p as CallParams, abort.signal, async (n) =>
        this.reply({ jsonrpc: "2.0", ...n }),
      );
      // A cancelled request gets no answer (MCP: the receiver should not respond).
      if (!abort.signal.aborted || this.closed) this.reply({ jsonrpc: "2.0", id, result });
    } catch (err) {
      const code = err instanceof McpError ? err.code : ErrorCode.InternalError;
      this.reply({ jsonrpc: "2.0", id, error: { code, message: (err as Error).message } });
    } finally {
      this.inFlight.delete(id);
    }
  }

  private reply(message: unknown): void {
    if (this.closed) return;
    this.stdout.write(`${JSON.stringify(message)}\n`);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.reply(message);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    for (const abort of this.inFlight.values()) abort.abort();
    this.onclose?.();
  }
}

/** Serves MCP on the given streams until the host closes stdin. */
export async function runMcpBridge(opts: McpBridgeOptions): Promise<void> {
  const { server, link } = createMcpServer(opts.connect);
  const transport = new FastCallTransport(opts.stdin, opts.stdout, link);
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    // The host closing stdin means "stop".
    opts.stdin.once("end", () => void server.close());
    opts.stdin.once("close", () => void server.close());
  });
  server.onerror = (err) => opts.log(`toold mcp: ${err.message}`);
  await server.connect(transport);
  await closed;
  await link.close();
}
