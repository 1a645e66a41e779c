/**
 * A small JSON-RPC 2.0 peer over newline-delimited JSON, for clients. It speaks the daemon's NDJSON
 * framing so that a one-off `toold call` does not pay ~20 ms to load vscode-jsonrpc; it handles
 * requests from the daemon (`client/approve`), `$/progress` notifications and `$/cancelRequest`.
 */
import type { Socket } from "node:net";
import { CancelRequest, type MethodDecl, type NotificationDecl } from "../protocol/methods.js";
import { ErrorCodes, ProtocolError } from "../protocol/errors.js";
import { NdjsonDecoder } from "../protocol/decode.js";

/**
 * Largest answer the client accepts. The daemon bounds what it reads, not what it writes (a big
 * read can answer with tens of MiB), so this is a guard against a runaway stream, not a contract.
 */
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/** An error the daemon answered (a JSON-RPC error response): the wire's `ProtocolError`, client side. */
export class RpcError extends ProtocolError {}

/** The connection closed before the answer came. */
export class ConnectionClosedError extends Error {
  constructor(message = "the connection to the daemon closed before it answered") {
    super(message);
    this.name = "ConnectionClosedError";
  }
}

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };
type RequestHandler = (params: unknown) => unknown;
type NotificationHandler = (params: unknown) => void;

export class RpcPeer {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly notificationHandlers = new Map<string, NotificationHandler>();
  private readonly closeHandlers: (() => void)[] = [];
  private readonly decoder = new NdjsonDecoder(MAX_ANSWER_BYTES);
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {
      /* surfaced as close */
    });
    socket.on("close", () => this.onClose());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  request<P, R>(decl: MethodDecl<P, R>, params: P, signal?: AbortSignal): Promise<R> {
    if (this.closed) return Promise.reject(new ConnectionClosedError());
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      // As in LSP: aborting asks the daemon to stop the call; the promise settles with its answer
      // (a tool stopped early answers at once, with what it had), or rejects if the connection drops.
      const onAbort = () => this.notify(CancelRequest, { id });
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(v as R);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      this.send({ jsonrpc: "2.0", id, method: decl.method, params });
      if (signal?.aborted) onAbort();
    });
  }

  notify<P>(decl: NotificationDecl<P>, params: P): void {
    if (!this.closed) this.send({ jsonrpc: "2.0", method: decl.method, params });
  }

  onRequest<P, R>(decl: MethodDecl<P, R>, handler: (params: P) => R | Promise<R>): void {
    this.requestHandlers.set(decl.method, handler as RequestHandler);
  }

  onNotification<P>(decl: NotificationDecl<P>, handler: (params: P) => void): void {
    this.notificationHandlers.set(decl.method, handler as NotificationHandler);
  }

  onClosed(handler: () => void): void {
    this.closeHandlers.push(handler);
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }

  private send(message: object): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  private onData(chunk: Buffer): void {
    const step = this.decoder.push(chunk);
    for (const line of step.bodies) this.dispatch(line);
    if (step.failure) {
      this.failAll(
        new RpcError(
          ErrorCodes.InvalidRequest,
          `the daemon sent an answer over ${MAX_ANSWER_BYTES} bytes; the connection was closed`,
        ),
      );
      this.close();
    }
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private dispatch(line: string): void {
    let msg: {
      id?: number | string | null;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { code: number; message: string; data?: unknown };
    };
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof msg.method === "string") {
      if (msg.id === undefined || msg.id === null) {
        this.notificationHandlers.get(msg.method)?.(msg.params);
        return;
      }
      void this.answer(msg.id, msg.method, msg.params);
      return;
    }
    const pending = typeof msg.id === "number" ? this.pending.get(msg.id) : undefined;
    if (pending && typeof msg.id === "number") {
      this.pending.delete(msg.id);
      if (msg.error) pending.reject(new RpcError(msg.error.code, msg.error.message, msg.error.data));
      else pending.resolve(msg.result);
    } else if (msg.error && (msg.id === null || msg.id === undefined)) {
      // An error the daemon could not tie to a request (malformed or oversized frame): fail all.
      this.failAll(new RpcError(msg.error.code, msg.error.message, msg.error.data));
    }
  }

  private async answer(id: number | string, method: string, params: unknown): Promise<void> {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      this.send({ jsonrpc: "2.0", id, error: { code: -32601, message: `client does not handle ${method}` } });
      return;
    }
    try {
      const result = await handler(params);
      if (!this.closed) this.send({ jsonrpc: "2.0", id, result });
    } catch (err) {
      if (!this.closed)
        this.send({ jsonrpc: "2.0", id, error: { code: -32603, message: (err as Error).message } });
    }
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.failAll(new ConnectionClosedError());
    for (const handler of this.closeHandlers) handler();
  }
}
