#!/usr/bin/env node
/**
 * The `toold` command. Kept lean: a one-off `toold call` loads only the client (node builtins and
 * the NDJSON peer), never the daemon, pino or the schema library.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  ConnectionClosedError,
  DaemonStartError,
  DaemonUnreachableError,
  ErrorCodes,
  resolveTarget,
  RpcError,
  ToolDClient,
  type ApproveParams,
  type ConfigWarnings,
  type ConnectOptions,
} from "../client/index.js";
import { VERSION } from "../version.js";
// format, stats, logs and readline are imported where used: a one-off `call` never needs them,
// and every module loaded is start-up time of every call.
import { runtimeFiles } from "../workspace/locate.js";

export const EXIT = { ok: 0, toolError: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `toold ${VERSION} — keeps a coding agent's tools warm

Usage: toold <command> [options]

Commands:
  start [--foreground]       start the daemon for this workspace (idempotent)
  stop                       drain and stop the daemon
  restart                    stop, then start
  status [--json]            pid, version, uptime, workspace, socket, connections (exit 3 if not running)
  call TOOL [ARGS] [--json] [--yes]
                             one tool call; ARGS is a JSON object, key=value pairs, or - (JSON on stdin)
  tools [--json]             the tools with descriptions and input schemas
  stats [--json | --prometheus] [--watch [--interval SECS] [--count N]]
                             the daemon's statistics; --watch redraws until Ctrl-C (default every 2 s)
  logs [-f] [-n LINES]       the daemon's log, one line per record (default the last 50); -f follows
  config get [--json]        the effective configuration
  config reload              re-read vtcode.toml (the old config stays if the file is invalid)
  socket                     print the socket path
  mcp                        MCP server on stdio that forwards to the daemon

Global options:
  --workspace DIR   workspace root (default: nearest ancestor with vtcode.toml or .git)
  --socket PATH     socket path (default: $TOOLD_SOCKET, $XDG_RUNTIME_DIR/toold/<id>.sock, or <tmp>/toold-<uid>/<id>.sock)
  --no-start        do not start the daemon when none answers
  --json            print JSON
  --yes             approve tool calls that need approval
  -h, --help        this help
  -v, --version     the version
`;

class UsageError extends Error {}

/** vtcode.toml's warnings on stderr: the path once, then one line each. */
function printConfigWarnings(report: ConfigWarnings | undefined): void {
  if (!report || report.warnings.length === 0) return;
  process.stderr.write(`toold: warnings in ${report.file}:\n  ${report.warnings.join("\n  ")}\n`);
}

function fail(message: string, code: number): number {
  // A config error is a heading and one indented line per problem: keep its lines.
  process.stderr.write(`toold: ${message.replace(/\n+$/, "")}\n`);
  return code;
}

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
  const { renderApproval } = await import("../support/display.js");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(`${renderApproval(request)}\n[y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

interface Globals {
  workspace?: string | undefined;
  socket?: string | undefined;
  noStart: boolean;
  json: boolean;
  yes: boolean;
}

function connectOptions(g: Globals, extra: Partial<ConnectOptions> = {}): ConnectOptions {
  return {
    ...(g.workspace ? { workspace: g.workspace } : {}),
    ...(g.socket ? { socket: g.socket } : {}),
    autoStart: !g.noStart,
    clientInfo: { name: "toold-cli", version: VERSION },
    ...extra,
  };
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function withClient<T>(
  g: Globals,
  autoStart: boolean,
  fn: (c: ToolDClient) => Promise<T>,
  extra: Partial<ConnectOptions> = {},
): Promise<T> {
  const client = await ToolDClient.connect({
    ...connectOptions(g, extra),
    autoStart: autoStart && !g.noStart,
  });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

async function cmdCall(g: Globals, positionals: string[]): Promise<number> {
  const [tool, ...rest] = positionals;
  if (!tool) throw new UsageError("call needs a tool name: toold call read_file path=README.md");
  const args = await parseToolArgs(rest);
  const interactive = process.stdin.isTTY === true && rest[0] !== "-";
  const onApprove = (req: ApproveParams) => (g.yes ? true : interactive ? askOnTerminal(req) : false);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    const result = await withClient(g, true, (c) => c.callTool(tool, args, { signal: controller.signal }), {
      onApprove,
    });
    if (g.json) printJson(result);
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
    if (controller.signal.aborted) return fail(`${tool} cancelled`, EXIT.toolError);
    throw err;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

async function cmdStart(g: Globals, foreground: boolean): Promise<number> {
  if (foreground) {
    const target = resolveTarget(connectOptions(g));
    const { main } = await import("../daemon/main.js");
    await main(["--workspace", target.workspace, "--socket", target.socket, "--foreground"]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  }
  let status;
  try {
    status = await withClient({ ...g, noStart: false }, true, (c) => c.status());
  } catch (err) {
    // The contract: `start` exits 1 when the daemon cannot come up (3 is for `call` and friends).
    if (err instanceof DaemonStartError || err instanceof DaemonUnreachableError) {
      return fail(`could not start the daemon: ${err.message}`, EXIT.toolError);
    }
    throw err;
  }
  process.stdout.write(`toold running: pid ${status.pid}, socket ${status.socket}\n`);
  printConfigWarnings(status.configWarnings);
  return EXIT.ok;
}

async function cmdStop(g: Globals): Promise<number> {
  const target = resolveTarget(connectOptions(g));
  let client: ToolDClient;
  try {
    client = await ToolDClient.connect({
      ...connectOptions(g),
      autoStart: false,
      restartOnVersionMismatch: false,
    });
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      process.stdout.write("toold is not running\n");
      return EXIT.ok;
    }
    throw err;
  }
  const { pid } = await client.status();
  await client.shutdown();
  // The socket is gone; wait for the process too so `stop` leaves nothing behind.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  process.stdout.write(
    `toold stopped (pid ${pid}${existsSync(target.socket) ? ", socket still present" : ""})\n`,
  );
  return EXIT.ok;
}

function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const parts = [
    Math.floor(s / 86400) && `${Math.floor(s / 86400)}d`,
    Math.floor(s / 3600) % 24 && `${Math.floor(s / 3600) % 24}h`,
    Math.floor(s / 60) % 60 && `${Math.floor(s / 60) % 60}m`,
    `${s % 60}s`,
  ];
  return parts.filter(Boolean).join(" ");
}

function positiveNumber(raw: string | undefined, option: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`${option} must be a positive number, got "${raw}"`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      workspace: { type: "string" },
      socket: { type: "string" },
      "no-start": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      yes: { type: "boolean", short: "y", default: false },
      foreground: { type: "boolean", default: false },
      watch: { type: "boolean", short: "w", default: false },
      interval: { type: "string" },
      count: { type: "string" },
      prometheus: { type: "boolean", default: false },
      follow: { type: "boolean", short: "f", default: false },
      lines: { type: "string", short: "n" },
      help: { type: "boolean", short: "h", default: false },
      version: { type: "boolean", short: "v", default: false },
    },
  });
  const g: Globals = {
    workspace: values.workspace,
    socket: values.socket,
    noStart: values["no-start"] === true,
    json: values.json === true,
    yes: values.yes === true,
  };
  const [command, ...rest] = positionals;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? EXIT.ok : EXIT.usage;
  }
  switch (command) {
    case "socket":
      process.stdout.write(`${resolveTarget(connectOptions(g)).socket}\n`);
      return EXIT.ok;
    case "call":
      return cmdCall(g, rest);
    case "start":
      return cmdStart(g, values.foreground === true);
    case "stop":
      return cmdStop(g);
    case "restart": {
      await cmdStop(g);
      return cmdStart(g, values.foreground === true);
    }
    case "status": {
      const status = await withClient(g, false, (c) => c.status());
      if (g.json) printJson(status);
      else {
        process.stdout.write(
          `toold ${status.version} running\n  pid          ${status.pid}\n  uptime       ${formatDuration(status.uptimeMs)}\n  workspace    ${status.workspace}\n  socket       ${status.socket}\n  connections  ${status.connections}\n${status.logFile ? `  log          ${status.logFile}\n` : ""}`,
        );
      }
      return EXIT.ok;
    }
    case "tools": {
      const tools = await withClient(g, true, (c) => c.listTools());
      if (g.json) printJson({ tools });
      else process.stdout.write((await import("./format.js")).formatToolsTable(tools));
      return EXIT.ok;
    }
    case "stats": {
      if (g.json && values.prometheus) throw new UsageError("stats takes --json or --prometheus, not both");
      const interval = positiveNumber(values.interval, "--interval", 2);
      const count = positiveNumber(values.count, "--count", Infinity);
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once("SIGINT", onSigint);
      try {
        const { runStats } = await import("./stats.js");
        await runStats({
          connect: () => ToolDClient.connect({ ...connectOptions(g), autoStart: false, reconnect: true }),
          format: values.prometheus ? "prometheus" : g.json ? "json" : "table",
          watch: values.watch === true,
          intervalMs: interval * 1000,
          count,
          signal: stop.signal,
          out: process.stdout,
          errors: process.stderr,
        });
      } finally {
        process.off("SIGINT", onSigint);
      }
      return EXIT.ok;
    }
    case "logs": {
      const file = runtimeFiles(resolveTarget(connectOptions(g)).socket).log;
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once("SIGINT", onSigint);
      try {
        const [{ showLogs }, { formatLogLine }] = await Promise.all([
          import("./logs.js"),
          import("./format.js"),
        ]);
        const found = await showLogs({
          file,
          maxRotated: 100,
          lines:
            values.lines === "all"
              ? Infinity
              : values.lines === "0"
                ? 0
                : positiveNumber(values.lines, "-n", 50),
          follow: values.follow === true,
          signal: stop.signal,
          emit: (line) => process.stdout.write(`${g.json ? line : formatLogLine(line)}\n`),
        });
        if (found === "missing") {
          return fail(
            `no log at ${file}: the daemon has not run for this workspace, or runs with --foreground (it logs to its stderr)`,
            EXIT.toolError,
          );
        }
      } finally {
        process.off("SIGINT", onSigint);
      }
      return EXIT.ok;
    }
    case "config": {
      const [sub] = rest;
      if (sub === "get") {
        const config = await withClient(g, true, (c) => c.config());
        process.stdout.write(
          g.json ? `${JSON.stringify(config, null, 2)}\n` : `${JSON.stringify(config, null, 2)}\n`,
        );
        return EXIT.ok;
      }
      if (sub === "reload") {
        try {
          printConfigWarnings((await withClient(g, false, (c) => c.reloadConfig())).configWarnings);
        } catch (err) {
          if (err instanceof RpcError && err.code === ErrorCodes.ConfigInvalid)
            return fail(err.message, EXIT.toolError);
          throw err;
        }
        process.stdout.write("config reloaded\n");
        return EXIT.ok;
      }
      throw new UsageError('config needs "get" or "reload"');
    }
    case "mcp": {
      const { runMcpServer } = await import("./mcp.js");
      await runMcpServer(connectOptions(g));
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown command "${command}"; run toold --help`);
  }
}

export async function cli(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError) return fail(err.message, EXIT.usage);
    if ((err as NodeJS.ErrnoException).code?.startsWith?.("ERR_PARSE_ARGS"))
      return fail((err as Error).message, EXIT.usage);
    if (err instanceof DaemonUnreachableError) return fail(err.message, EXIT.unreachable);
    if (err instanceof DaemonStartError)
      return fail(`could not start the daemon: ${err.message}`, EXIT.unreachable);
    if (err instanceof ConnectionClosedError) return fail(err.message, EXIT.unreachable);
    if (err instanceof RpcError) {
      const usage = err.code === ErrorCodes.InvalidParams || err.code === ErrorCodes.MethodNotFound;
      return fail(err.message, usage ? EXIT.usage : EXIT.toolError);
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "ECONNREFUSED" || code === "ENOENT") {
      return fail(`cannot reach the daemon: ${(err as Error).message}`, EXIT.unreachable);
    }
    return fail(`error: ${(err as Error).message}`, EXIT.toolError);
  }
}

const exitCode = await cli(process.argv.slice(2));
// Let stdout drain before exiting (a pipe may be slow).
process.stdout.write("", () => process.exit(exitCode));
