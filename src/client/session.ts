/**
 * Finding and opening a connection to the workspace's daemon: where it listens, the socket
 * folder check, and the `initialize` exchange. Kept apart from the client library (index.ts) and
 * free of the start-up code, so that the CLI's quick `toold call` path loads only this.
 */
import net from "node:net";
import path from "node:path";
import {
  ClientApprove,
  Initialize,
  Progress,
  type ApproveParams,
  type InitializeResult,
} from "../protocol/methods.js";
import { VERSION } from "../version.js";
import { locateWorkspace, runtimeFiles, socketPathFor } from "../workspace/locate.js";
import { isOwnerAlive, readState, type DaemonState } from "../workspace/registry.js";
import { checkPrivateDir, SocketDirError } from "../workspace/socket-dir.js";
import { RpcPeer } from "./peer.js";

/** The daemon is not running and the caller asked not to start it, or it cannot be reached. */
export class DaemonUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DaemonUnreachableError";
  }
}

export interface ConnectOptions {
  /** Workspace folder; default: located from `cwd` (nearest vtcode.toml or .git). */
  workspace?: string;
  /**
   * Socket path; default: $TOOLD_SOCKET, else the running daemon's (from the per-user registry,
   * whichever environment started it), else `<runtime>/<id>.sock`. With an explicit path, when
   * nothing listens there and a daemon already serves the workspace elsewhere, that one is used
   * (one workspace has one daemon); with autoStart off, the error names its socket.
   */
  socket?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Start the daemon when none answers. Default true. */
  autoStart?: boolean;
  /** Stop and restart a daemon whose version differs from this client's. Default true. */
  restartOnVersionMismatch?: boolean;
  clientInfo?: { name: string; version?: string };
  /** Answers `client/approve`; declares `capabilities.approvals` when given. */
  onApprove?: (request: ApproveParams) => boolean | Promise<boolean>;
  /**
   * After the connection drops (daemon restart, crash), open a new one on the next call instead
   * of failing it. Calls in flight at the drop are still rejected with ConnectionClosedError: a
   * tool call may have had effects, so only the caller can decide to repeat it. Default false.
   */
  reconnect?: boolean;
}

export interface ResolvedTarget {
  readonly workspace: string;
  socket: string;
}

export function resolveTarget(
  opts: Pick<ConnectOptions, "workspace" | "socket" | "cwd" | "env">,
): ResolvedTarget {
  const env = opts.env ?? process.env;
  const workspace = locateWorkspace(opts.workspace, opts.cwd ?? process.cwd(), env);
  const socket = socketPathFor(workspace, opts.socket, env);
  if (explicitSocket(opts, env)) return { workspace, socket };
  return { workspace, socket: registeredSocket(workspace, env) ?? socket };
}

export function explicitSocket(opts: Pick<ConnectOptions, "socket">, env: NodeJS.ProcessEnv): boolean {
  return opts.socket !== undefined || Boolean(env.TOOLD_SOCKET);
}

/** The daemon the registry says serves this workspace and still runs, whichever environment started it. */
export function registeredDaemon(workspace: string, env: NodeJS.ProcessEnv): DaemonState | undefined {
  // The state file's place depends on the workspace and the runtime folder only, not the socket.
  const owner = readState(runtimeFiles(workspace, "", env).state);
  return owner && owner.workspace === workspace && isOwnerAlive(owner) ? owner : undefined;
}

/** Where the registry says this workspace's live daemon listens. */
export function registeredSocket(workspace: string, env: NodeJS.ProcessEnv): string | undefined {
  return registeredDaemon(workspace, env)?.socket;
}

/**
 * The daemon refuses a socket folder another user could write to; the client must too, or a
 * socket planted there by someone else would receive our calls (and the files they carry).
 */
function assertPrivateSocketDir(socketPath: string): void {
  const uid = process.getuid?.();
  if (uid === undefined) return;
  try {
    checkPrivateDir(path.dirname(socketPath), uid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // the daemon will create it
    if (err instanceof SocketDirError)
      throw new DaemonUnreachableError(`refusing to connect: ${err.message}`);
    throw err;
  }
}

export function connectSocket(socketPath: string): Promise<net.Socket> {
  assertPrivateSocketDir(socketPath);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/**
 * Wires approvals and progress onto a connected socket and sends `initialize`; `initialized` is its
 * answer. Requests sent before it arrives are handled after it, in order.
 */
export function startSession(
  socket: net.Socket,
  opts: Pick<ConnectOptions, "clientInfo" | "onApprove">,
  onProgress: (token: string, value: unknown) => void,
): { peer: RpcPeer; initialized: Promise<InitializeResult> } {
  const peer = new RpcPeer(socket);
  if (opts.onApprove) {
    const onApprove = opts.onApprove;
    peer.onRequest(ClientApprove, async (params) => ({ approved: (await onApprove(params)) === true }));
  }
  peer.onNotification(Progress, ({ token, value }) => onProgress(String(token), value));
  const initialized = peer.request(Initialize, {
    clientInfo: opts.clientInfo ?? { name: "toold-client", version: VERSION },
    capabilities: { approvals: opts.onApprove !== undefined },
  });
  return { peer, initialized };
}
