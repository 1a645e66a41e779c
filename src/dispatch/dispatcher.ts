/**
 * Dispatch: binds the contract's methods to one JSON-RPC connection. It knows sessions,
 * policies, stats and the registry; it never touches sockets or the process (the daemon passes
 * in a `DaemonControl`).
 */
import { CancellationToken, ResponseError, type MessageConnection } from "vscode-jsonrpc";
import type { Logger } from "pino";
import {
  ErrorCodes,
  InvalidParamsError,
  MethodNotFoundError,
  ProtocolError,
  RequestCancelledError,
  ShuttingDownError,
} from "../protocol/errors.js";
import {
  PROTOCOL_VERSION,
  type ConfigWarnings,
  type FileCacheStats,
  type InitializeParams,
  type JournalListParams,
  type JournalUndoParams,
  type StatsResult,
  type StatusResult,
  type ToolResult,
  type ToolsCallParams,
} from "../protocol/methods.js";
import * as R from "../protocol/rpc.js";
import type { Config } from "../config/schema.js";
import { decideCall } from "../policy/policy.js";
import { renderApproval } from "../support/display.js";
import type { ToolRegistry } from "../tools/registry.js";
import { ConfigError } from "../config/load.js";
import type { BufferPool } from "../support/memory-pool.js";
import type { AnyToolDefinition, ToolContext } from "../tools/shared/types.js";
import type { Workspace } from "../workspace/workspace.js";
import type { FileCache } from "../cache/file-cache.js";
import type { WorkspaceIndex } from "../index/workspace-index.js";
import type { ColdSearchPool } from "../search/cold-search.js";
import type { SessionManager } from "../exec/manager.js";
import type { Journal } from "../journal/journal.js";
import type { ChangeFeed } from "../journal/feed.js";
import type { Stats } from "./stats.js";
import { CallSignal } from "./call-signal.js";

/** What dispatch may ask of the daemon around it. */
export interface DaemonControl {
  readonly version: string;
  readonly socketPath: string;
  readonly logFile?: string;
  readonly pid: number;
  memoryUsage(): { rss: number; heapUsed: number };
  /** Live libuv handles and requests (sockets, timers, fs requests): a leak shows up as growth. */
  activeResources?(): number;
  config(): Config;
  /**
   * Re-reads vtcode.toml; throws ConfigError and keeps the old config when it is invalid. Returns
   * the new config's warnings, if any.
   */
  reloadConfig(): Promise<ConfigWarnings | undefined>;
  /** The warnings of the config in force, if any. */
  configWarnings?(): ConfigWarnings | undefined;
  /** Begins a graceful shutdown; idempotent. */
  shutdown(reason: string): void;
  isDraining(): boolean;
}

export interface DispatchDeps {
  readonly registry: ToolRegistry;
  readonly pool: BufferPool;
  readonly workspace: Workspace;
  readonly stats: Stats;
  readonly control: DaemonControl;
  readonly log: Logger;
  /** The shared file content cache; its stats are the `fileCache` section. */
  readonly files: FileCache;
  /** The warm workspace index, when `[cache] watch` is on (read at each call: it may be swapped on reload). */
  readonly index?: () => WorkspaceIndex | undefined;
  /** The exec sessions (exec_command, write_stdin, `exec/sessions`, `exec/kill`). */
  readonly sessions?: SessionManager;
  /** The cold search's worker threads (src/search/cold-search.ts). */
  readonly coldSearch?: ColdSearchPool;
  /** Records changes made through tools and undoes them (absent: nothing is journaled). */
  readonly journal?: Journal;
  /** The live feed of workspace changes for `workspace/subscribe`. */
  readonly feed?: ChangeFeed;
  /** Told when a tool call has ended (the daemon's quiet collector times its work from it). */
  readonly afterCall?: () => void;
}

export class Session {
  approvals = false;
  /** Sent `initialize`: a long-lived client (editor, library, MCP bridge), not a one-off. */
  initialized = false;
  clientName: string | undefined;
  /** Aborted when the connection closes: cancels every call still running for it. */
  readonly closed = new AbortController();
  constructor(readonly id: number) {}
}

/** What crosses the wire for an error thrown by a method: its code, or -32603 for a bug. */
function toResponseError(err: unknown): ResponseError<unknown> {
  if (err instanceof ResponseError) return err;
  if (err instanceof ProtocolError) return new ResponseError(err.code, err.message, err.data);
  if (err instanceof ConfigError) return new ResponseError(ErrorCodes.ConfigInvalid, err.message);
  return new ResponseError(
    ErrorCodes.InternalError,
    `internal error: ${(err as Error)?.message ?? String(err)}`,
  );
}

function requireObject(params: unknown, method: string): Record<string, unknown> {
  if (params === undefined || params === null) return {};
  if (typeof params !== "object" || Array.isArray(params)) {
    throw new InvalidParamsError(`${method}: params must be a JSON object`);
  }
  return params as Record<string, unknown>;
}

export class Dispatcher {
  constructor(private readonly deps: DispatchDeps) {}

  /** Registers every method on `conn` for `session`. Call before `conn.listen()`. */
  attach(conn: MessageConnection, session: Session): void {
    const { registry, stats, control, log } = this.deps;

    const guarded = <P, R>(
      method: string,
      handler: (params: P, token: CancellationToken) => Promise<R> | R,
    ) => {
      // vscode-jsonrpc spreads by-position params (`"params": [a, b]`) into separate arguments
      // before the token, so the token is the last argument; `[]` and `[object]` are accepted.
      return (async (...args: unknown[]): Promise<R> => {
        stats.requestsTotal++;
        const token = args[args.length - 1] as CancellationToken;
        try {
          if (args.length > 2) {
            throw new InvalidParamsError(
              `${method}: params must be one JSON object (or an array holding exactly one object), got ${args.length - 1} positional values`,
            );
          }
          return await handler(args[0] as P, token);
        } catch (err) {
          stats.requestErrors++;
          const rerr = toResponseError(err);
          log.debug({ conn: session.id, method, code: rerr.code, err: rerr.message }, "request failed");
          throw rerr;
        }
      }) as (params: P, token: CancellationToken) => Promise<R>;
    };

    conn.onRequest(
      R.InitializeRequest,
      guarded("initialize", (raw: InitializeParams) => {
        const params = requireObject(raw, "initialize") as InitializeParams;
        session.approvals = params.capabilities?.approvals === true;
        session.initialized = true;
        session.clientName = params.clientInfo?.name;
        return {
          serverInfo: { name: "toold", version: control.version },
          protocolVersion: PROTOCOL_VERSION,
          workspace: this.deps.workspace.root,
          capabilities: {
            tools: { listChanged: false },
            progress: true,
            cancellation: true,
            approvals: session.approvals,
          },
        } as const;
      }),
    );

    conn.onRequest(
      R.ToolsListRequest,
      guarded("tools/list", () => ({ tools: registry.list() })),
    );

    conn.onRequest(
      R.ToolsCallRequest,
      guarded("tools/call", async (raw: ToolsCallParams, token) => {
        const params = requireObject(raw, "tools/call") as Partial<ToolsCallParams>;
        if (typeof params.name !== "string" || params.name.length === 0) {
          throw new InvalidParamsError(
            'tools/call: "name" must be a tool name, e.g. {"name":"read_file","arguments":{"path":"README.md"}}',
          );
        }
        if (control.isDraining()) throw new ShuttingDownError();
        // Cancelled while it waited for a slot: it never starts (vscode-jsonrpc hands on a request
        // whose cancel came before it was dispatched with its token already cancelled).
        if (token.isCancellationRequested) {
          throw new RequestCancelledError("cancelled before it started");
        }
        stats.inFlight++;
        try {
          return await this.callTool(conn, session, params as ToolsCallParams, token);
        } finally {
          stats.inFlight--;
        }
      }),
    );

    conn.onRequest(
      R.ExecSessionsRequest,
      guarded("exec/sessions", () => ({ sessions: this.deps.sessions?.list() ?? [] })),
    );
    conn.onRequest(
      R.ExecKillRequest,
      guarded("exec/kill", async (raw: { session_id: number }) => {
        const params = requireObject(raw, "exec/kill");
        const id = params.session_id;
        if (typeof id !== "number" || !Number.isInteger(id)) {
          throw new ResponseError(
            ErrorCodes.InvalidParams,
            'exec/kill: "session_id" must be an integer, e.g. {"session_id": 1234} (exec/sessions lists them)',
          );
        }
        const ended = await this.deps.sessions?.kill(id);
        if (!ended) {
          throw new ResponseError(
            ErrorCodes.InvalidParams,
            `exec/kill: no session ${id}: it never existed, already ended, or exited and its output was read (exec/sessions lists the open ones)`,
          );
        }
        return { session: ended };
      }),
    );
    conn.onRequest(
      R.JournalListRequest,
      guarded("journal/list", async (raw: JournalListParams) => {
        const params = requireObject(raw, "journal/list") as JournalListParams;
        if (params.limit !== undefined && !(Number.isInteger(params.limit) && params.limit >= 0)) {
          throw new InvalidParamsError(
            `journal/list: "limit" must be an integer >= 0, got ${JSON.stringify(params.limit)}`,
          );
        }
        if (!this.deps.journal) {
          return {
            enabled: false,
            entries: [],
            total: 0,
            bytes: 0,
            maxBytes: 0,
            reason: "this daemon has no journal",
          };
        }
        return this.deps.journal.list(params.limit);
      }),
    );
    conn.onRequest(
      R.JournalUndoRequest,
      guarded("journal/undo", async (raw: JournalUndoParams) => {
        const params = requireObject(raw, "journal/undo") as JournalUndoParams;
        if (params.id !== undefined && !(Number.isInteger(params.id) && params.id > 0)) {
          throw new InvalidParamsError(
            `journal/undo: "id" must be an entry id (a positive integer from journal/list), got ${JSON.stringify(params.id)}`,
          );
        }
        if (params.force !== undefined && typeof params.force !== "boolean") {
          throw new InvalidParamsError(`journal/undo: "force" must be true or false`);
        }
        if (control.isDraining()) throw new ShuttingDownError();
        if (!this.deps.journal) throw new ProtocolError(ErrorCodes.NotUndoable, "this daemon has no journal");
        stats.inFlight++;
        try {
          const result = await this.deps.journal.undo({
            ...(params.id !== undefined ? { id: params.id } : {}),
            force: params.force === true,
            client: session.clientName,
          });
          log.info(
            { conn: session.id, method: "journal/undo", undone: result.undone, changeId: result.changeId },
            "undo",
          );
          return result;
        } finally {
          stats.inFlight--;
        }
      }),
    );
    conn.onRequest(
      R.WorkspaceSubscribeRequest,
      guarded("workspace/subscribe", () => {
        const feed = this.deps.feed;
        if (!feed) throw new MethodNotFoundError("workspace/subscribe: this daemon has no change feed");
        const added = feed.subscribe(session, (params) =>
          conn.sendNotification(R.WorkspaceDidChangeNotification, params),
        );
        if (added)
          session.closed.signal.addEventListener("abort", () => feed.unsubscribe(session), { once: true });
        return { subscribed: true, watching: feed.watching } as const;
      }),
    );
    conn.onRequest(
      R.WorkspaceUnsubscribeRequest,
      guarded("workspace/unsubscribe", () => {
        this.deps.feed?.unsubscribe(session);
        return { ok: true } as const;
      }),
    );
    conn.onRequest(
      R.DaemonStatsRequest,
      guarded("daemon/stats", () => this.statsSnapshot()),
    );
    conn.onRequest(
      R.DaemonStatusRequest,
      guarded("daemon/status", () => this.status()),
    );
    conn.onRequest(
      R.ConfigGetRequest,
      guarded("config/get", () => control.config() as unknown as Record<string, unknown>),
    );
    conn.onRequest(
      R.ConfigReloadRequest,
      guarded("config/reload", async () => {
        const configWarnings = await control.reloadConfig();
        return { ok: true as const, ...(configWarnings ? { configWarnings } : {}) };
      }),
    );
    conn.onRequest(
      R.DaemonShutdownRequest,
      guarded("daemon/shutdown", () => {
        // Answer first, then drain: the caller gets its {ok} before the socket closes.
        setImmediate(() => control.shutdown(`daemon/shutdown from connection ${session.id}`));
        return { ok: true } as const;
      }),
    );
  }

  private async callTool(
    conn: MessageConnection,
    session: Session,
    params: ToolsCallParams,
    token: CancellationToken,
  ): Promise<ToolResult> {
    const { registry, stats, control, log, pool, workspace } = this.deps;
    const started = performance.now();
    const abort = new CallSignal(token, session.closed.signal);
    const progressToken = params._meta?.progressToken;
    const config = control.config();
    const index = this.deps.index?.();
    const ctx: ToolContext = {
      get signal() {
        return abort.signal;
      },
      workspace,
      pool,
      config,
      log,
      files: this.deps.files,
      ...(index ? { index } : {}),
      ...(this.deps.sessions ? { sessions: this.deps.sessions } : {}),
      ...(this.deps.coldSearch ? { coldSearch: this.deps.coldSearch } : {}),
      ...(progressToken !== undefined
        ? {
            progressToken,
            progress: (value: unknown) => {
              void conn
                .sendNotification(R.ProgressNotification, { token: progressToken, value })
                .catch(() => {});
            },
          }
        : {}),
    };
    // Looked up once: the name for stats and logs, and whether an invalid call named a real tool.
    const definition = registry.definition(params.name);
    const toolName = definition?.name ?? params.name;
    let outcome = "error";
    try {
      const journal = this.deps.journal;
      const result = await registry.call(
        params.name,
        params.arguments,
        ctx,
        (def, args) => this.authorize(conn, session, config, def, args),
        (def, args, run) =>
          def.changes && journal
            ? journal.record(
                { tool: def.name, client: session.clientName },
                () => def.changes!(args, ctx),
                run,
              )
            : run(),
      );
      outcome = result.isError ? "tool_error" : "ok";
      return result;
    } catch (err) {
      outcome = err instanceof ProtocolError ? "invalid" : "error";
      throw err;
    } finally {
      abort.dispose();
      const durationMs = performance.now() - started;
      if (outcome !== "invalid" || definition) {
        stats.recordToolCall(toolName, durationMs, outcome !== "ok");
      }
      this.deps.afterCall?.();
      // One line per call: `toold logs` shows them (see docs/benchmarks.md for what it costs).
      log.info(
        {
          conn: session.id,
          method: "tools/call",
          tool: toolName,
          durationMs: Math.round(durationMs * 1000) / 1000,
          outcome: abort.aborted && outcome !== "ok" ? "cancelled" : outcome,
        },
        "call",
      );
    }
  }

  /** Applies the tool's policy; returns a denial result, or undefined to run the call. */
  private async authorize(
    conn: MessageConnection,
    session: Session,
    config: Config,
    def: AnyToolDefinition,
    args: Record<string, unknown>,
  ): Promise<ToolResult | undefined> {
    const decision = decideCall(config, def, args);
    if (decision.action === "allow") return undefined;
    if (decision.action === "deny") return decision.result;
    if (!session.approvals) return decision.cannotAsk;
    let approved = false;
    try {
      const request = { tool: def.name, arguments: args, reason: decision.reason };
      const answer = await conn.sendRequest(R.ClientApproveRequest, {
        ...request,
        display: renderApproval(request),
      });
      approved = answer?.approved === true;
    } catch (err) {
      this.deps.log.warn({ conn: session.id, err: (err as Error).message }, "client/approve failed");
    }
    return approved ? undefined : decision.refused;
  }

  /**
   * The file cache's stats; `summarizing` also while a cold search's files are still being read
   * into the cache (with their summaries): until then, searches are not yet warm.
   */
  private cacheStats(): FileCacheStats {
    const stats = this.deps.files.stats();
    return this.deps.coldSearch?.filling ? { ...stats, summarizing: true } : stats;
  }

  statsSnapshot(): StatsResult {
    const { registry, pool, stats, control } = this.deps;
    const mem = control.memoryUsage();
    return {
      uptimeMs: stats.uptimeMs(),
      connections: { active: stats.connectionsActive, total: stats.connectionsTotal },
      requests: { total: stats.requestsTotal, errors: stats.requestErrors, inFlight: stats.inFlight },
      tools: stats.toolSummaries(),
      hotCache: registry.hotCacheStats(),
      memoryPool: pool.stats(),
      fileCache: this.cacheStats(),
      index: this.deps.index?.()?.stats() ?? { enabled: false },
      ...(this.deps.sessions ? { sessions: this.deps.sessions.stats() } : {}),
      process: {
        rssBytes: mem.rss,
        heapUsedBytes: mem.heapUsed,
        ...(control.activeResources ? { activeResources: control.activeResources() } : {}),
        ...(this.deps.coldSearch ? { searchThreads: this.deps.coldSearch.threads } : {}),
      },
      ...(this.deps.journal ? { journal: this.deps.journal.stats() } : {}),
      ...(this.deps.feed ? { feed: this.deps.feed.stats() } : {}),
    };
  }

  status(): StatusResult {
    const { stats, control, workspace } = this.deps;
    const configWarnings = control.configWarnings?.();
    return {
      pid: control.pid,
      version: control.version,
      uptimeMs: stats.uptimeMs(),
      workspace: workspace.root,
      socket: control.socketPath,
      connections: stats.connectionsActive,
      ...(control.logFile ? { logFile: control.logFile } : {}),
      ...(configWarnings ? { configWarnings } : {}),
    };
  }
}
