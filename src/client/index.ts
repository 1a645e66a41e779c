/**
 * The toold client library (`toold/client`): connect to the workspace's daemon (starting it when
 * none answers, restarting one of another version), list and call tools with cancellation and
 * progress, answer approval requests, read stats and status.
 */
import type net from "node:net";
import { existsSync } from "node:fs";
import {
  ConfigGet,
  ConfigReload,
  DaemonShutdown,
  ExecKill,
  ExecSessions,
  DaemonStats,
  DaemonStatus,
  JournalList,
  JournalUndo,
  ToolsCall,
  ToolsList,
  WorkspaceDidChange,
  WorkspaceSubscribe,
  WorkspaceUnsubscribe,
  type ApproveParams,
  type ExecSessionInfo,
  type ConfigWarnings,
  type JournalListResult,
  type JournalUndoParams,
  type JournalUndoResult,
  type WorkspaceDidChangeParams,
  type WorkspaceSubscribeResult,
  type InitializeResult,
  type MethodDecl,
  type StatsResult,
  type StatusResult,
  type ReloadResult,
  type ToolDescriptor,
  type ToolResult,
} from "../protocol/methods.js";
import { VERSION } from "../version.js";
import { ConnectionClosedError, RpcError, type RpcPeer } from "./peer.js";
import {
  connectSocket,
  DaemonUnreachableError,
  explicitSocket,
  registeredSocket,
  resolveTarget,
  startSession,
  type ConnectOptions,
  type ResolvedTarget,
} from "./session.js";
import { DaemonStartError, spawnDaemon } from "./spawn.js";

export { ConnectionClosedError, DaemonStartError, DaemonUnreachableError, RpcError, resolveTarget };
export type { ConnectOptions, ResolvedTarget };
export type { ExecSessionInfo };
export type {
  ApproveParams,
  ConfigWarnings,
  ReloadResult,
  StatsResult,
  StatusResult,
  ToolDescriptor,
  ToolResult,
  InitializeResult,
  JournalListResult,
  JournalUndoResult,
  WorkspaceDidChangeParams,
};
export { ErrorCodes } from "../protocol/errors.js";

export interface CallOptions {
  signal?: AbortSignal;
  /** Receives `$/progress` values for this call. */
  onProgress?: (value: unknown) => void;
}

function isNotListening(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ECONNREFUSED" || code === "ENOTSOCK";
}

async function waitUntilGone(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (existsSync(socketPath) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** A word as the shell reads it back: quoted only when it has to be. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `toold start` that starts this very daemon: with the caller's explicit workspace and socket. */
function startCommand(target: ResolvedTarget, opts: ConnectOptions): string {
  return [
    "toold start",
    ...(opts.workspace !== undefined ? [`--workspace ${shellWord(target.workspace)}`] : []),
    ...(opts.socket !== undefined ? [`--socket ${shellWord(target.socket)}`] : []),
  ].join(" ");
}

/** Opens one connection, runs `initialize`, and wires approvals and progress onto it. */
async function openSession(
  target: ResolvedTarget,
  opts: ConnectOptions,
  autoStart: boolean,
  onProgress: (token: string, value: unknown) => void,
): Promise<{ peer: RpcPeer; server: InitializeResult }> {
  for (let attempt = 0; ; attempt++) {
    let socket: net.Socket;
    try {
      socket = await connectSocket(target.socket);
    } catch (err) {
      if (!isNotListening(err)) throw err;
      const env = opts.env ?? process.env;
      const registered = registeredSocket(target.workspace, env);
      const elsewhere = registered !== undefined && registered !== target.socket ? registered : undefined;
      // The daemon may have been restarted on another socket since (the client reconnecting).
      if (elsewhere !== undefined && !explicitSocket(opts, env) && attempt < 2) {
        target.socket = elsewhere;
        continue;
      }
      if (!autoStart) {
        throw new DaemonUnreachableError(
          elsewhere !== undefined
            ? `no toold daemon listens on ${target.socket}; the daemon of ${target.workspace} listens on ${elsewhere} (pass --socket ${shellWord(elsewhere)}, or drop --socket and TOOLD_SOCKET)`
            : `no toold daemon is running for ${target.workspace} (socket ${target.socket}); start it with \`${startCommand(target, opts)}\``,
        );
      }
      if (attempt >= 2)
        throw new DaemonUnreachableError(`the daemon started but ${target.socket} does not answer`);
      // A daemon of this workspace found running elsewhere (another socket) is the one to use.
      target.socket = await spawnDaemon({
        workspace: target.workspace,
        socket: target.socket,
        ...(opts.env ? { env: opts.env } : {}),
      });
      continue;
    }
    const { peer, initialized } = startSession(socket, opts, onProgress);
    const server = await initialized;
    const mismatch = server.serverInfo.version !== VERSION;
    if (mismatch && (opts.restartOnVersionMismatch ?? true) && autoStart && attempt < 2) {
      // A daemon from another version may speak another protocol: replace it.
      await peer.request(DaemonShutdown, {}).catch(() => undefined);
      peer.close();
      await waitUntilGone(target.socket, 15_000);
      continue;
    }
    return { peer, server };
  }
}

export class ToolDClient {
  private readonly progressHandlers = new Map<string, (value: unknown) => void>();
  private readonly closeHandlers: (() => void)[] = [];
  private readonly changeHandlers = new Set<(params: WorkspaceDidChangeParams) => void>();
  /** Sent `workspace/subscribe`: a reconnect subscribes again. */
  private subscribed = false;
  private nextProgress = 1;
  private reconnecting: Promise<RpcPeer> | undefined;
  /** Set by close(): a closed-on-purpose client never reconnects. */
  private disposed = false;

  private constructor(
    private peer: RpcPeer,
    readonly target: ResolvedTarget,
    private serverInfo: InitializeResult,
    private readonly opts: ConnectOptions,
  ) {
    this.watch(peer);
  }

  /** Connects (starting the daemon if allowed) and runs `initialize`. */
  static async connect(opts: ConnectOptions = {}): Promise<ToolDClient> {
    const target = resolveTarget(opts);
    // Progress can only arrive for calls made through the client, so it exists by then.
    const holder: { client?: ToolDClient } = {};
    const onProgress = (token: string, value: unknown) => holder.client?.progressHandlers.get(token)?.(value);
    const { peer, server } = await openSession(target, opts, opts.autoStart ?? true, onProgress);
    holder.client = new ToolDClient(peer, target, server, opts);
    return holder.client;
  }

  /** The daemon's `initialize` answer (of the current connection). */
  get server(): InitializeResult {
    return this.serverInfo;
  }

  private watch(peer: RpcPeer): void {
    peer.onNotification(WorkspaceDidChange, (params) => {
      if (params.dropped !== undefined) this.subscribed = false;
      for (const handler of this.changeHandlers) handler(params);
    });
    peer.onClosed(() => {
      for (const handler of this.closeHandlers) handler();
    });
  }

  /**
   * The live connection. With `reconnect`, a dropped connection is replaced on the next call
   * (starting the daemon again when `autoStart` allows); calls pending at the drop were rejected.
   */
  private async live(): Promise<RpcPeer> {
    if (!this.peer.isClosed || !this.opts.reconnect || this.disposed) return this.peer;
    this.reconnecting ??= openSession(this.target, this.opts, this.opts.autoStart ?? true, (token, value) =>
      this.progressHandlers.get(token)?.(value),
    )
      .then(({ peer, server }) => {
        if (this.disposed) peer.close();
        this.peer = peer;
        this.serverInfo = server;
        this.watch(peer);
        return peer;
      })
      .then(async (peer) => {
        if (this.subscribed) {
          // Changes made while disconnected were not seen: say so, as the daemon does on overflow.
          await peer.request(WorkspaceSubscribe, {});
          const missed: WorkspaceDidChangeParams = { changes: [{ path: ".", kind: "overflow" }] };
          for (const handler of this.changeHandlers) handler(missed);
        }
        return peer;
      })
      .finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }

  private async request<P, R>(decl: MethodDecl<P, R>, params: P, signal?: AbortSignal): Promise<R> {
    const peer = await this.live();
    return peer.request(decl, params, signal);
  }

  async listTools(): Promise<ToolDescriptor[]> {
    return (await this.request(ToolsList, {})).tools;
  }

  /**
   * Calls a tool. Aborting `signal` sends `$/cancelRequest`: the daemon stops the tool (kills a
   * command) and answers at once, usually with an `isError` result saying it was cancelled (and any
   * output so far), or an RpcError -32800. `onProgress` gets `$/progress` values.
   */
  async callTool(
    name: string,
    args: Record<string, unknown> = {},
    opts: CallOptions = {},
  ): Promise<ToolResult> {
    if (!opts.onProgress) return this.request(ToolsCall, { name, arguments: args }, opts.signal);
    const token = `p${this.nextProgress++}`;
    this.progressHandlers.set(token, opts.onProgress);
    try {
      return await this.request(
        ToolsCall,
        { name, arguments: args, _meta: { progressToken: token } },
        opts.signal,
      );
    } finally {
      this.progressHandlers.delete(token);
    }
  }

  stats(): Promise<StatsResult> {
    return this.request(DaemonStats, {});
  }
  status(): Promise<StatusResult> {
    return this.request(DaemonStatus, {});
  }
  config(): Promise<Record<string, unknown>> {
    return this.request(ConfigGet, {});
  }
  /** Re-reads vtcode.toml; rejects with RpcError(ErrorCodes.ConfigInvalid) and the reasons when invalid. */
  reloadConfig(): Promise<ReloadResult> {
    return this.request(ConfigReload, {});
  }
  /** The exec sessions the daemon holds (exec_command that still run, or exited with output unread). */
  async sessions(): Promise<ExecSessionInfo[]> {
    return (await this.request(ExecSessions, {})).sessions;
  }
  /** Ends a session and every process it started; rejects with RpcError -32602 for an unknown id. */
  async killSession(sessionId: number): Promise<ExecSessionInfo> {
    return (await this.request(ExecKill, { session_id: sessionId })).session;
  }
  /** Asks the daemon to drain and exit; resolves once its socket is gone. */
  async shutdown(timeoutMs = 30_000): Promise<void> {
    await this.request(DaemonShutdown, {});
    this.close();
    await waitUntilGone(this.target.socket, timeoutMs);
  }

  /** The journal's entries, newest first (`journal/list`). */
  journal(limit?: number): Promise<JournalListResult> {
    return this.request(JournalList, limit === undefined ? {} : { limit });
  }

  /**
   * Restores every path of a journal entry (the newest when `id` is absent). Rejects with
   * RpcError(ErrorCodes.JournalConflict, data.path) when a path changed since, unless `force`.
   */
  undo(params: JournalUndoParams = {}): Promise<JournalUndoResult> {
    return this.request(JournalUndo, params);
  }

  /**
   * Starts the daemon's `workspace/didChange` notifications for this connection and calls
   * `onChange` (when given) for each; see `onDidChange`. A change path "." of kind "overflow"
   * means too much changed to list: re-read everything. With `reconnect`, a new connection
   * subscribes again and reports an overflow (changes while disconnected were missed).
   */
  async subscribe(onChange?: (params: WorkspaceDidChangeParams) => void): Promise<WorkspaceSubscribeResult> {
    if (onChange) this.changeHandlers.add(onChange);
    const result = await this.request(WorkspaceSubscribe, {});
    this.subscribed = true;
    return result;
  }

  async unsubscribe(): Promise<void> {
    this.subscribed = false;
    await this.request(WorkspaceUnsubscribe, {});
  }

  /**
   * The `workspace/didChange` event: `handler` gets every notification (after `subscribe`).
   * A notification with `dropped` set ends the subscription (this client read too slowly).
   * Returns a function that removes the handler.
   */
  onDidChange(handler: (params: WorkspaceDidChangeParams) => void): () => void {
    this.changeHandlers.add(handler);
    return () => this.changeHandlers.delete(handler);
  }

  /** Called each time the connection drops (with `reconnect`, once per connection). */
  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }
  /** True when the connection is down (with `reconnect`, the next call opens a new one). */
  get closed(): boolean {
    return this.peer.isClosed;
  }
  close(): void {
    this.disposed = true;
    this.peer.close();
  }
}
