/**
 * The socket server: accepts connections, picks the framing from the first byte (`{` means
 * newline-delimited JSON, anything else LSP Content-Length frames), and hands each connection to
 * the dispatcher as a vscode-jsonrpc MessageConnection.
 */
import net from "node:net";
// From vscode-jsonrpc/node: importing it installs the Node runtime layer the connection needs.
import {
  createMessageConnection,
  Message,
  type MessageConnection,
  type RequestMessage,
  type ResponseMessage,
} from "vscode-jsonrpc/node";
import type { Logger } from "pino";
import { ErrorCodes } from "../protocol/errors.js";
import { decoderFor, type Framing } from "../protocol/decode.js";
import type { WireProblem } from "../protocol/envelope.js";
import { DecodingReader, PooledMessageWriter, type BufferLender } from "../protocol/transport.js";
import { Session, type Dispatcher } from "../dispatch/dispatcher.js";
import type { Stats } from "../dispatch/stats.js";
import type { Config } from "../config/schema.js";

export interface ServerDeps {
  dispatcher: Dispatcher;
  stats: Stats;
  config: () => Config;
  log: Logger;
  /** Called when the number of active connections changes (idle timer). */
  onActivity: () => void;
  /** Lends the buffers responses are encoded into (the memory pool). */
  pool: BufferLender;
}

interface LiveConnection {
  session: Session;
  socket: net.Socket;
  connection?: MessageConnection;
  reader?: DecodingReader;
  /** When it last sent a message or was last answered (ms since the epoch). */
  lastActive: number;
}

/** Bytes waiting for a slow reader past which progress is coalesced and new requests wait. */
const OUTPUT_SOFT_BYTES = 1024 * 1024;
/** Bytes waiting for a peer that does not read past which its calls are cancelled and it is closed. */
const OUTPUT_HARD_BYTES = 64 * 1024 * 1024;

/** A connection idle at least this long may be closed to make room for a new one when full. */
const EVICTABLE_AFTER_MS = 1000;

export class DaemonServer {
  readonly server: net.Server;
  private readonly live = new Set<LiveConnection>();
  private nextId = 1;
  private idleSweep: NodeJS.Timeout | undefined;

  constructor(private readonly deps: ServerDeps) {
    // Half-open: `echo '{…}' | socat - UNIX-CONNECT:…` closes its sending side before the answer
    // comes; the answers must still be written (see wire()).
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  get connectionCount(): number {
    return this.live.size;
  }

  /** Stops accepting; existing connections stay until `closeAll`. */
  stopAccepting(): Promise<void> {
    if (this.idleSweep) clearInterval(this.idleSweep);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Holds no call: no request of it running, waiting, or being answered. */
  private isIdle(live: LiveConnection): boolean {
    return (live.reader?.outstanding ?? 0) === 0;
  }

  /**
   * Closes connections idle past `idle_connection_timeout_ms` that are not a session (never sent
   * `initialize`: a script or a stuck peer, not an editor or agent). Runs while connections exist.
   */
  private armIdleSweep(): void {
    const timeout = this.deps.config().daemon.idle_connection_timeout_ms;
    if (this.idleSweep || timeout === 0) return;
    this.idleSweep = setInterval(
      () => {
        const limit = this.deps.config().daemon.idle_connection_timeout_ms;
        const now = Date.now();
        for (const live of this.live) {
          if (limit > 0 && !live.session.initialized && this.isIdle(live) && now - live.lastActive >= limit) {
            this.deps.log.debug({ conn: live.session.id }, "connection closed: idle_connection_timeout_ms");
            live.socket.destroy();
          }
        }
        if (this.live.size === 0 && this.idleSweep) {
          clearInterval(this.idleSweep);
          this.idleSweep = undefined;
        }
      },
      Math.max(50, Math.min(timeout / 4, 10_000)),
    );
    this.idleSweep.unref();
  }

  /** When full: the longest-idle connection holding no call, if one has been idle long enough. */
  private evictable(): LiveConnection | undefined {
    let oldest: LiveConnection | undefined;
    const now = Date.now();
    for (const live of this.live) {
      if (!this.isIdle(live) || now - live.lastActive < EVICTABLE_AFTER_MS) continue;
      if (!oldest || live.lastActive < oldest.lastActive) oldest = live;
    }
    return oldest;
  }

  /** Aborts every session's calls and closes every connection. */
  closeAll(): void {
    for (const live of this.live) {
      live.session.closed.abort();
      live.connection?.dispose();
      live.socket.destroy();
    }
  }

  private accept(socket: net.Socket): void {
    const { stats, log, config } = this.deps;
    const session = new Session(this.nextId++);
    const live: LiveConnection = { session, socket, lastActive: Date.now() };
    socket.on("error", (err) => log.debug({ conn: session.id, err: err.message }, "socket error"));
    const victim = this.live.size >= config().daemon.max_connections ? this.evictable() : undefined;
    if (victim) {
      // Silent or idle peers must not hold every slot: the one idle longest makes room.
      log.info(
        { conn: victim.session.id, idleMs: Date.now() - victim.lastActive },
        "connection closed to make room: max_connections reached and it held no call",
      );
      this.live.delete(victim);
      stats.connectionsActive--;
      victim.session.closed.abort();
      victim.socket.destroy();
    }
    if (this.live.size >= config().daemon.max_connections) {
      log.warn(
        { conn: session.id, max: config().daemon.max_connections },
        "connection refused: too many connections",
      );
      this.rejectConnection(socket, config().daemon.max_connections);
      return;
    }
    this.live.add(live);
    stats.connectionsActive++;
    stats.connectionsTotal++;
    this.deps.onActivity();
    this.armIdleSweep();
    socket.on("data", () => (live.lastActive = Date.now()));
    socket.once("close", () => {
      // An evicted connection was already taken off the count.
      if (this.live.delete(live)) stats.connectionsActive--;
      session.closed.abort();
      live.connection?.dispose();
      this.deps.onActivity();
    });
    socket.once("end", () => {
      if (!live.connection) socket.end(); // closed before sending anything
    });
    // A connection that never sends a byte would hold a slot of max_connections for ever.
    const silent = setTimeout(() => {
      log.debug({ conn: session.id }, "connection closed: nothing sent within frame_timeout_ms");
      socket.destroy();
    }, config().daemon.frame_timeout_ms);
    silent.unref();
    socket.once("close", () => clearTimeout(silent));
    socket.once("data", (first: Buffer) => {
      clearTimeout(silent);
      socket.pause();
      socket.unshift(first);
      // `{` or `[` (a batch, answered with an error) cannot start an LSP header: newline-delimited JSON.
      const framing: Framing = first[0] === 0x7b || first[0] === 0x5b ? "ndjson" : "lsp";
      live.connection = this.wire(live, framing);
      socket.resume();
    });
  }

  /** The peer is gone: cancel its calls (killing their commands) and drop the connection. */
  private abandon(session: Session, socket: net.Socket): void {
    this.deps.log.debug({ conn: session.id }, "client gone; cancelling its calls");
    session.closed.abort();
    socket.destroy();
  }

  private rejectConnection(socket: net.Socket, max: number): void {
    socket.once("data", (first: Buffer) => {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: null,
        error: {
          code: ErrorCodes.Overloaded,
          message: `too many connections (max_connections = ${max}); retry later`,
        },
      });
      socket.end(
        first[0] === 0x7b || first[0] === 0x5b
          ? `${body}\n`
          : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
    setTimeout(() => socket.destroy(), 1000).unref();
  }

  private wire(live: LiveConnection, framing: Framing): MessageConnection {
    const { socket, session } = live;
    const { dispatcher, log, config } = this.deps;
    const daemon = config().daemon;
    const reader = new DecodingReader(socket, decoderFor(framing, daemon.max_message_bytes), {
      maxMessageBytes: daemon.max_message_bytes,
      partialMessageTimeoutMs: daemon.frame_timeout_ms,
      maxInFlight: daemon.max_in_flight_per_connection,
    });
    live.reader = reader;
    let overflowed = false;
    const writer = new PooledMessageWriter(
      socket,
      framing,
      this.deps.pool,
      (id) => {
        live.lastActive = Date.now();
        reader.requestAnswered(id);
      },
      {
        softBytes: OUTPUT_SOFT_BYTES,
        hardBytes: Math.max(OUTPUT_HARD_BYTES, 2 * daemon.max_message_bytes),
        stallMs: daemon.frame_timeout_ms,
        onOverflow: (queuedBytes) => {
          if (overflowed) return;
          overflowed = true;
          // It does not read what it asked for: its calls are cancelled and what waits for it is
          // dropped with the socket, so the memory comes back.
          log.warn(
            { conn: session.id, queuedBytes },
            "connection closed: the peer is not reading its answers",
          );
          session.closed.abort();
          socket.destroy();
        },
      },
      () => reader.outstanding,
    );
    const rpcLog = log.child({ conn: session.id });
    const connection = createMessageConnection(
      reader,
      writer,
      {
        // A peer that hangs up mid-call is routine (Ctrl-C, a killed script), not a warning.
        error: (m) => (/socket has been ended|EPIPE|ECONNRESET/.test(m) ? rpcLog.debug(m) : rpcLog.warn(m)),
        warn: (m) => rpcLog.debug(m),
        info: () => {},
        log: () => {},
      },
      {
        // At most this many requests run; the rest wait in vscode-jsonrpc's queue. Responses
        // (client/approve answers) and $/cancelRequest bypass that queue, so they reach a full
        // connection.
        maxParallelism: daemon.max_in_flight_per_connection,
        // While the peer is behind on reading, no new request starts: what it asked for already
        // waits in the socket, and more work would only queue more bytes.
        messageStrategy: {
          handleMessage: (message, next) =>
            Message.isRequest(message) && writer.backedUp
              ? writer.whenCaughtUp().then(() => next(message))
              : next(message),
        },
        connectionStrategy: {
          // A request cancelled while it waits for a slot never starts (it could be a command).
          cancelUndispatched: (message): ResponseMessage => ({
            jsonrpc: "2.0",
            id: (message as RequestMessage).id,
            error: {
              code: ErrorCodes.RequestCancelled,
              message:
                "cancelled before it started (it was waiting for a free slot of max_in_flight_per_connection)",
            },
          }),
        },
      },
    );
    reader.onProblem((problem: WireProblem) => {
      log.info({ conn: session.id, code: problem.code, reason: problem.message }, "protocol error");
      const response = {
        jsonrpc: "2.0",
        id: problem.id,
        error: { code: problem.code, message: problem.message },
      };
      void writer
        .send(response)
        .catch(() => {})
        .finally(() => {
          if (problem.fatal) {
            socket.end();
            setTimeout(() => socket.destroy(), 500).unref();
          }
        });
    });
    connection.onError(([err]) => log.debug({ conn: session.id, err: err.message }, "connection error"));
    dispatcher.attach(connection, session);
    connection.listen();
    socket.once("end", () => {
      // End of stream is either a half-close (a one-off `echo … | socat` that waits for its
      // answers) or a client that is gone (closed or killed): the two look the same until we write.
      if (framing === "lsp" && session.initialized) {
        // Editors speaking LSP framing never half-close: the client is gone.
        this.abandon(session, socket);
        return;
      }
      // The reader counted the last message as it read it (its own "end" listener runs first).
      if (reader.outstanding === 0) {
        socket.end();
        return;
      }
      const idle = reader.onIdle(() => {
        idle.dispose();
        clearInterval(probe);
        socket.end();
      });
      // NDJSON allows blank lines between messages: writing one fails (EPIPE) only when the
      // peer has really closed, and then its calls are cancelled and its commands killed.
      const probe = setInterval(() => {
        if (socket.destroyed) {
          clearInterval(probe);
          idle.dispose();
          return;
        }
        if (framing !== "ndjson") return;
        socket.write("\n", (err) => {
          if (err) {
            clearInterval(probe);
            idle.dispose();
            this.abandon(session, socket);
          }
        });
      }, 250);
      probe.unref();
    });
    log.debug({ conn: session.id, framing }, "connection");
    return connection;
  }
}
