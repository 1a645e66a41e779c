/**
 * `toold call`'s work, shared by the command (commands/call.ts) and the quick path the program
 * tries first (main.ts). A one-off call is what scripts and agents run most, one process each, so
 * its start-up is most of its cost: the quick path loads this module, the connecting code and the
 * peer, not the command table, the client library nor the start-up code. It takes only the plain
 * command lines (see quickArgs) against a daemon that answers; anything else, a daemon of another
 * version to replace included, goes to the full command line before the call is sent, so
 * messages, exit codes and the auto-start stay those of one implementation.
 */
import { RpcError, type RpcPeer } from "../client/peer.js";
import { connectSocket, registeredDaemon, resolveTarget, startSession } from "../client/session.js";
import { ErrorCodes } from "../protocol/errors.js";
import {
  ToolsCall,
  ToolsList,
  type ApproveParams,
  type InitializeResult,
  type ToolDescriptor,
  type ToolResult,
} from "../protocol/methods.js";
import { VERSION } from "../version.js";
import { unsupportedPlatform } from "../workspace/locate.js";
import {
  connectOptions,
  EXIT,
  fail,
  printJson,
  untilInterrupted,
  UsageError,
  type Globals,
} from "./command.js";

/** `{"a":1}`, `a=1 b=text`, or `-` (a JSON object on stdin). */
export async function parseToolArgs(rest: string[]): Promise<Record<string, unknown>> {
  if (rest.length === 0) return {};
  const parseObject = (text: string, where: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${where} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`${where} must be a JSON object, e.g. '{"path":"README.md"}'`);
    }
    return value as Record<string, unknown>;
  };
  if (rest.length === 1 && rest[0] === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return parseObject(Buffer.concat(chunks).toString("utf8"), "stdin");
  }
  if (rest.length === 1 && rest[0]?.trimStart().startsWith("{")) return parseObject(rest[0], "ARGS");
  const args: Record<string, unknown> = {};
  for (const pair of rest) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`argument "${pair}" is not key=value; or pass one JSON object`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      args[key] = JSON.parse(raw);
    } catch {
      args[key] = raw;
    }
  }
  return args;
}

async function askOnTerminal(request: ApproveParams): Promise<boolean> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const { renderApproval } = await import("../support/display.js");
  return new Promise((resolve) => {
    rl.question(`${renderApproval(request)}\n[y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/** Answers the daemon's approval requests: --yes approves, a terminal asks, otherwise refused. */
export function approver(
  yes: boolean,
  interactive: () => boolean,
): (req: ApproveParams) => boolean | Promise<boolean> {
  return (req) => (yes ? true : interactive() ? askOnTerminal(req) : false);
}

/** What a call needs of a connection: the client library's ToolDClient, or the quick path's peer. */
export interface ToolCaller {
  callTool(name: string, args: Record<string, unknown>, opts: { signal?: AbortSignal }): Promise<ToolResult>;
  listTools(): Promise<ToolDescriptor[]>;
}

/** The daemon's "unknown tool" lists every tool; say which one was probably meant instead. */
async function unknownTool(caller: ToolCaller, tool: string): Promise<string> {
  const { didYouMean } = await import("./suggest.js");
  const tools = await caller.listTools();
  const names = tools.flatMap((t) => [t.name, ...(t.aliases ?? [])]);
  const near = didYouMean(tool, names);
  return `unknown tool "${tool}"${near || `; the tools are ${tools.map((t) => t.name).join(", ")}`}; see \`toold tools\``;
}

/**
 * Makes the call on the connection `withCaller` lends (Ctrl-C asks the daemon to cancel it), prints
 * the result (stdout; an `isError` result's text on stderr), and returns the exit code.
 */
export async function runToolCall(
  tool: string,
  args: Record<string, unknown>,
  json: boolean,
  withCaller: (use: (caller: ToolCaller) => Promise<ToolResult>) => Promise<ToolResult>,
): Promise<number> {
  let cancelled = false;
  try {
    const result = await untilInterrupted((signal) => {
      signal.addEventListener("abort", () => (cancelled = true));
      return withCaller(async (c) => {
        try {
          return await c.callTool(tool, args, { signal });
        } catch (err) {
          if (err instanceof RpcError && err.code === ErrorCodes.MethodNotFound)
            throw new RpcError(err.code, await unknownTool(c, tool));
          throw err;
        }
      });
    });
    if (json) printJson(result);
    else {
      const text = result.content.map((c) => c.text).join("");
      if (result.isError) process.stderr.write(`${text.replace(/\n+$/, "")}\n`);
      else
        process.stdout.write(
          text.length > 0 && !text.endsWith("\n") && process.stdout.isTTY ? `${text}\n` : text,
        );
    }
    return result.isError ? EXIT.toolError : EXIT.ok;
  } catch (err) {
    // Ctrl-C: the client already told the daemon to cancel the call.
    if (cancelled) return fail(`${tool} cancelled`, EXIT.toolError);
    throw err;
  }
}

interface QuickArgs {
  globals: Globals;
  tool: string;
  rest: string[];
  json: boolean;
  yes: boolean;
}

/**
 * The command lines the quick path takes: `--workspace DIR`, `--socket PATH`, `--no-start`, `call`,
 * TOOL, ARGS (JSON or key=value), `--json`, `--yes`, in any order. Anything else (help, ARGS on
 * stdin, `--opt=value`, other commands, mistakes) is the full command line's to parse.
 */
export function quickArgs(argv: readonly string[]): QuickArgs | undefined {
  const globals: Globals = { workspace: undefined, socket: undefined, noStart: false };
  let json = false;
  let yes = false;
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--workspace" || arg === "--socket") {
      const value = argv[++i];
      if (!value || value.startsWith("-")) return undefined;
      globals[arg === "--workspace" ? "workspace" : "socket"] = value;
    } else if (arg === "--no-start") globals.noStart = true;
    else if (arg === "--json") json = true;
    else if (arg === "--yes" || arg === "-y") yes = true;
    else if (arg.startsWith("-")) return undefined;
    else positionals.push(arg);
  }
  const [command, tool, ...rest] = positionals;
  return command === "call" && tool ? { globals, tool, rest, json, yes } : undefined;
}

interface QuickSession {
  peer: RpcPeer;
  /** `initialize`'s answer; already checked, or (the registry vouching for the version) not awaited. */
  initialized: Promise<InitializeResult>;
}

/**
 * Connects and sends `initialize`. Undefined when no daemon answers on the socket (the full path
 * then starts one, or says why it cannot), or one of another version does (the full path replaces
 * it, unless --no-start).
 */
async function openQuick(
  q: QuickArgs,
  onApprove: (req: ApproveParams) => boolean | Promise<boolean>,
): Promise<QuickSession | undefined> {
  const opts = connectOptions(q.globals, { onApprove });
  let target;
  let socket;
  try {
    target = resolveTarget(opts);
    socket = await connectSocket(target.socket);
  } catch {
    return undefined;
  }
  const { peer, initialized } = startSession(socket, opts, () => undefined);
  // The registry says which version listens here: then the call need not wait for `initialize`'s
  // answer to learn it (one round trip less; the daemon handles the two in order).
  const owner = registeredDaemon(target.workspace, process.env);
  if (owner?.socket === target.socket && owner.version === VERSION) {
    initialized.catch(() => undefined); // its failure is the call's (see quickCall)
    return { peer, initialized };
  }
  let server;
  try {
    server = await initialized;
  } catch (err) {
    peer.close();
    throw err;
  }
  if (server.serverInfo.version !== VERSION && !q.globals.noStart) {
    peer.close();
    return undefined;
  }
  return { peer, initialized };
}

/**
 * A plain `toold call` against a daemon that answers: the exit code, or undefined (before
 * anything was sent but `initialize`) when the full command line must run it.
 */
export async function quickCall(argv: readonly string[]): Promise<number | undefined> {
  const q = quickArgs(argv);
  if (!q || unsupportedPlatform()) return undefined;
  let args: Record<string, unknown>;
  try {
    args = await parseToolArgs(q.rest);
  } catch {
    return undefined; // the full command line says what is wrong
  }
  try {
    // stdin is never the ARGS here; looked at only when the daemon asks for an approval.
    const session = await openQuick(
      q,
      approver(q.yes, () => process.stdin.isTTY === true),
    );
    if (!session) return undefined;
    const { peer, initialized } = session;
    const caller: ToolCaller = {
      callTool: async (name, callArgs, { signal }) => {
        const answer = peer.request(ToolsCall, { name, arguments: callArgs }, signal);
        // `initialize` failing fails the call, as when it is awaited first.
        await initialized.catch((err: unknown) => {
          answer.catch(() => undefined);
          throw err;
        });
        return answer;
      },
      listTools: async () => (await peer.request(ToolsList, {})).tools,
    };
    return await runToolCall(q.tool, args, q.json, async (use) => {
      try {
        return await use(caller);
      } finally {
        peer.close();
      }
    });
  } catch (err) {
    const { failWith } = await import("./failure.js");
    return failWith(err);
  }
}
