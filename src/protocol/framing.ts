/**
 * Message framing for the daemon's connections: LSP `Content-Length` frames (as vscode-jsonrpc
 * writes them) and newline-delimited JSON for shell one-offs. Both readers enforce
 * `max_message_bytes` before buffering a body, time out frames that never complete, and report
 * malformed input as JSON-RPC errors instead of dropping the connection silently.
 */
import type { Duplex } from "node:stream";
import {
  AbstractMessageReader,
  AbstractMessageWriter,
  Emitter,
  type DataCallback,
  type Disposable,
  type Event,
  type Message,
  type MessageReader,
  type MessageWriter,
} from "vscode-jsonrpc";
import { ErrorCodes } from "./errors.js";

export type Framing = "lsp" | "ndjson";

export interface ProtocolError {
  code: number;
  message: string;
  /** The request id when it could be read, else null. */
  id: string | number | null;
  /** The stream cannot be resynchronised: answer, then close the connection. */
  fatal: boolean;
}

export interface ReaderOptions {
  maxMessageBytes: number;
  /** A frame that stays incomplete this long closes the connection. */
  partialMessageTimeoutMs: number;
  /**
   * Requests handed on and not yet answered (see `AnswerTrackingWriter`). Past it, further requests
   * wait in the reader, and the socket stops being read once they hold `maxHeldBytes`.
   * Notifications and responses still pass, so `$/cancelRequest` and `client/approve` answers
   * reach a full connection. Unbounded when absent.
   */
  maxInFlight?: number;
  /** Bytes of waiting requests past which the socket is paused. Default 1 MiB. */
  maxHeldBytes?: number;
}

const MAX_HEADER_BYTES = 8 * 1024;
const CRLFCRLF = Buffer.from("\r\n\r\n");

type ValidId = string | number | null;

function isValidId(id: unknown): id is ValidId {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) || id === null;
}

/** Checks the JSON-RPC 2.0 envelope; returns an error for anything vscode-jsonrpc would drop silently. */
export function checkEnvelope(value: unknown): ProtocolError | undefined {
  const invalid = (message: string, id: ValidId = null): ProtocolError => ({
    code: ErrorCodes.InvalidRequest,
    message,
    id,
    fatal: false,
  });
  if (Array.isArray(value))
    return invalid("batch messages are not supported: send one JSON-RPC object per message");
  if (typeof value !== "object" || value === null) {
    return invalid(
      'a message must be a JSON-RPC 2.0 object, e.g. {"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    );
  }
  const msg = value as Record<string, unknown>;
  const id = isValidId(msg.id) ? msg.id : null;
  if (msg.jsonrpc !== "2.0") return invalid('"jsonrpc" must be "2.0"', id);
  if ("id" in msg && !isValidId(msg.id)) return invalid('"id" must be a string, a number or null');
  if ("method" in msg) {
    if (typeof msg.method !== "string" || msg.method.length === 0) {
      return invalid('"method" must be a non-empty string', id);
    }
    if ("params" in msg && (typeof msg.params !== "object" || msg.params === null)) {
      return invalid('"params" must be an object or an array', id);
    }
    return undefined;
  }
  if ("id" in msg && ("result" in msg || "error" in msg)) return undefined;
  return invalid('not a request, notification or response: give a "method" or a "result"/"error"', id);
}

abstract class GuardedReader extends AbstractMessageReader implements MessageReader {
  private readonly protocolErrorEmitter = new Emitter<ProtocolError>();
  private callback: DataCallback | undefined;
  private partialTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private readonly pending: Message[] = [];
  /** Ids of requests handed on and not answered yet (a count per id: ids may repeat). */
  private readonly outstanding = new Map<string | number, number>();
  private outstandingCount = 0;
  private held: { msg: Message; bytes: number }[] = [];
  private heldBytes = 0;
  private heldPause = false;

  constructor(
    protected readonly stream: Duplex,
    protected readonly options: ReaderOptions,
  ) {
    super();
  }

  /** Malformed input, to be answered by the connection owner. */
  get onProtocolError(): Event<ProtocolError> {
    return this.protocolErrorEmitter.event;
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.onData(chunk);
    const onClose = () => {
      this.clearPartialTimer();
      this.held = [];
      this.heldBytes = 0;
      this.fireClose();
    };
    const onError = (err: Error) => this.fireError(err);
    // The sender finished writing with a frame half sent (`printf … | socat`): say so now rather
    // than after the frame timeout.
    const onEnd = () => {
      if (this.partialTimer === undefined || this.flushAtEnd()) return;
      this.clearPartialTimer();
      this.protocolError({
        code: ErrorCodes.InvalidRequest,
        message: "incomplete message at the end of the input: the last frame or line was cut short",
        id: null,
        fatal: true,
      });
    };
    this.stream.on("end", onEnd);
    this.stream.on("data", onData);
    this.stream.on("close", onClose);
    this.stream.on("error", onError);
    return {
      dispose: () => {
        this.stream.off("data", onData);
        this.stream.off("close", onClose);
        this.stream.off("error", onError);
        this.stream.off("end", onEnd);
        this.clearPartialTimer();
      },
    };
  }

  /** Backpressure: stop reading the socket until `resume`. Messages already parsed are held. */
  pause(): void {
    this.paused = true;
    this.stream.pause();
  }

  resume(): void {
    this.paused = false;
    while (!this.paused && this.pending.length > 0) this.callback?.(this.pending.shift() as Message);
    if (!this.paused && !this.heldPause) this.stream.resume();
  }

  protected abstract onData(chunk: Buffer): void;

  /** At the end of the input, handle what is buffered if it is a whole message; true when it was. */
  protected flushAtEnd(): boolean {
    return false;
  }

  protected deliver(body: string): void {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      this.protocolError({
        code: ErrorCodes.ParseError,
        message: `invalid JSON: ${(err as Error).message}`,
        id: null,
        fatal: false,
      });
      return;
    }
    const problem = checkEnvelope(value);
    if (problem) {
      this.protocolError(problem);
      return;
    }
    const msg = value as Message & { id?: string | number | null; method?: unknown; params?: unknown };
    // JSON-RPC lets a request omit params; every method here takes an object, and vscode-jsonrpc
    // would answer a missing one with -32602, so a shell one-off without "params" just works.
    if (typeof msg.method === "string" && "id" in msg && !("params" in msg)) msg.params = {};
    const max = this.options.maxInFlight;
    if (max !== undefined && typeof msg.method === "string" && msg.id !== undefined && msg.id !== null) {
      if (this.held.length > 0 || this.outstandingCount >= max) {
        this.hold(msg, Buffer.byteLength(body));
        return;
      }
      this.track(msg.id);
    }
    if (msg.method === "$/cancelRequest" && this.held.length > 0 && this.cancelHeld(msg.params)) return;
    this.emit(msg);
  }

  /**
   * A cancelled request still waiting for a slot never starts (it could be a command): it is
   * answered -32800 here. Returns false when the id is not waiting (running calls are cancelled
   * by the connection as usual).
   */
  private cancelHeld(params: unknown): boolean {
    const id = (params as { id?: unknown } | undefined)?.id;
    const index = this.held.findIndex((h) => (h.msg as { id?: unknown }).id === id);
    if (index === -1 || (typeof id !== "string" && typeof id !== "number")) return false;
    const [removed] = this.held.splice(index, 1);
    this.heldBytes -= removed?.bytes ?? 0;
    this.resumeIfDrained();
    this.protocolError({
      code: ErrorCodes.RequestCancelled,
      message: "cancelled before it started (it was waiting for a free slot of max_in_flight_per_connection)",
      id,
      fatal: false,
    });
    return true;
  }

  private emit(msg: Message): void {
    if (this.paused) this.pending.push(msg);
    else this.callback?.(msg);
  }

  private track(id: string | number): void {
    this.outstanding.set(id, (this.outstanding.get(id) ?? 0) + 1);
    this.outstandingCount++;
  }

  private hold(msg: Message, bytes: number): void {
    this.held.push({ msg, bytes });
    this.heldBytes += bytes;
    if (!this.heldPause && this.heldBytes >= (this.options.maxHeldBytes ?? 1024 * 1024)) {
      this.heldPause = true;
      this.stream.pause();
    }
  }

  /** A response to request `id` was written: let the next waiting request through. */
  requestAnswered(id: string | number): void {
    const count = this.outstanding.get(id);
    if (count === undefined) return; // not one of ours (e.g. an error for a malformed message)
    if (count <= 1) this.outstanding.delete(id);
    else this.outstanding.set(id, count - 1);
    this.outstandingCount--;
    const max = this.options.maxInFlight ?? Infinity;
    while (this.held.length > 0 && this.outstandingCount < max) {
      const next = this.held.shift() as { msg: Message & { id?: string | number }; bytes: number };
      this.heldBytes -= next.bytes;
      this.track(next.msg.id as string | number);
      this.emit(next.msg);
    }
    this.resumeIfDrained();
  }

  private resumeIfDrained(): void {
    if (this.heldPause && this.heldBytes < (this.options.maxHeldBytes ?? 1024 * 1024) / 2) {
      this.heldPause = false;
      if (!this.paused) this.stream.resume();
    }
  }

  /** Requests handed on and not yet answered. */
  get inFlight(): number {
    return this.outstandingCount;
  }

  /** Requests waiting for a free slot. */
  get waiting(): number {
    return this.held.length;
  }

  protected protocolError(error: ProtocolError): void {
    this.protocolErrorEmitter.fire(error);
  }

  protected tooLarge(bytes: number | string): void {
    this.protocolError({
      code: ErrorCodes.InvalidRequest,
      message: `message of ${bytes} bytes exceeds max_message_bytes (${this.options.maxMessageBytes}); send smaller messages or raise [daemon] max_message_bytes`,
      id: null,
      fatal: true,
    });
  }

  /** Arms or clears the incomplete-frame timer after each chunk. */
  protected trackPartial(hasPartial: boolean): void {
    if (!hasPartial) {
      this.clearPartialTimer();
      return;
    }
    if (this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = undefined;
      this.protocolError({
        code: ErrorCodes.InvalidRequest,
        message: `incomplete message: no complete frame within ${this.options.partialMessageTimeoutMs} ms`,
        id: null,
        fatal: true,
      });
    }, this.options.partialMessageTimeoutMs);
    this.partialTimer.unref();
  }

  private clearPartialTimer(): void {
    if (this.partialTimer) clearTimeout(this.partialTimer);
    this.partialTimer = undefined;
  }
}

/** `Content-Length: N\r\n\r\n<N bytes of JSON>` frames. */
export class LspMessageReader extends GuardedReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being read, once its header is parsed. */
  private expected: number | undefined;
  private failed = false;

  protected onData(chunk: Buffer): void {
    if (this.failed) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        const head = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : this.flatten();
        const end = head.indexOf(CRLFCRLF);
        if (end === -1) {
          if (this.buffered > MAX_HEADER_BYTES) return this.fail("header section longer than 8 KiB");
          break;
        }
        const length = this.parseHeaders(head.toString("ascii", 0, end));
        if (length === undefined) return;
        this.expected = length;
        this.consume(end + CRLFCRLF.length);
      }
      if (this.buffered < this.expected) break;
      const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : this.flatten();
      const body = all.toString("utf8", 0, this.expected);
      this.consume(this.expected);
      this.expected = undefined;
      this.deliver(body);
      if (this.failed) return;
    }
    this.trackPartial(this.buffered > 0 || this.expected !== undefined);
  }

  private parseHeaders(text: string): number | undefined {
    let length: number | undefined;
    for (const line of text.split("\r\n")) {
      const colon = line.indexOf(":");
      if (colon <= 0) {
        this.fail(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
        return undefined;
      }
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,15}$/.test(value)) {
          this.fail(`invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
          return undefined;
        }
        length = Number(value);
      }
    }
    if (length === undefined) {
      this.fail("missing Content-Length header");
      return undefined;
    }
    if (length > this.options.maxMessageBytes) {
      this.failed = true;
      this.reset();
      this.tooLarge(length);
      return undefined;
    }
    return length;
  }

  private fail(reason: string): void {
    this.failed = true;
    this.reset();
    this.protocolError({
      code: ErrorCodes.InvalidRequest,
      message: `${reason}: frames are "Content-Length: N\\r\\n\\r\\n" followed by N bytes of JSON`,
      id: null,
      fatal: true,
    });
  }

  private reset(): void {
    this.chunks = [];
    this.buffered = 0;
    this.trackPartial(false);
  }

  private flatten(): Buffer {
    const all = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [all];
    return all;
  }

  private consume(bytes: number): void {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : this.flatten();
    const rest = all.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
  }
}

/** One JSON message per line. */
export class NdjsonMessageReader extends GuardedReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failed = false;

  protected onData(chunk: Buffer): void {
    if (this.failed) return;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      let line: Buffer = piece;
      if (this.buffered > 0) {
        this.chunks.push(piece);
        line = Buffer.concat(this.chunks, this.buffered + piece.length);
        this.chunks = [];
        this.buffered = 0;
      }
      if (line.length > this.options.maxMessageBytes) return this.tooLong(line.length);
      const text = line.toString("utf8").trim();
      if (text.length > 0) this.deliver(text);
      if (this.failed) return;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.chunks.push(rest);
      this.buffered += rest.length;
      if (this.buffered > this.options.maxMessageBytes) return this.tooLong(`more than ${this.buffered}`);
    }
    this.trackPartial(this.buffered > 0);
  }

  /** A last line without its newline (`printf '{…}' | socat`) is still a whole message. */
  protected override flushAtEnd(): boolean {
    if (this.failed || this.buffered === 0) return false;
    const text = Buffer.concat(this.chunks, this.buffered).toString("utf8").trim();
    this.chunks = [];
    this.buffered = 0;
    this.trackPartial(false);
    if (text.length > 0) this.deliver(text);
    return true;
  }

  private tooLong(bytes: number | string): void {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
    this.trackPartial(false);
    this.tooLarge(bytes);
  }
}

/** Where a writer borrows its encoding buffers: the daemon's memory pool (`src/tools/memory-pool.ts`). */
export interface BufferLender {
  acquire(size: number): Buffer;
  release(buf: Buffer): void;
}

/**
 * Writes each message, in either framing, as one socket write from a buffer borrowed from the
 * memory pool: the header (LSP) or newline (NDJSON) and the body are encoded into the same
 * buffer, which goes back to the pool once the socket has taken it (the write callback). One
 * write per message also halves the syscalls of vscode-jsonrpc's writer (header, then body).
 * JSON.stringify never emits a raw newline, so NDJSON lines cannot tear.
 */
export class PooledMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;

  constructor(
    private readonly stream: Duplex,
    private readonly framing: Framing,
    private readonly lender: BufferLender,
  ) {
    super();
    stream.on("error", (err: Error) => this.fireError(err));
    stream.on("close", () => this.fireClose());
  }

  write(msg: Message): Promise<void> {
    const body = JSON.stringify(msg);
    const bodyBytes = Buffer.byteLength(body, "utf8");
    const header = this.framing === "lsp" ? `Content-Length: ${bodyBytes}\r\n\r\n` : "";
    const total = header.length + bodyBytes + (this.framing === "ndjson" ? 1 : 0);
    const buf = this.lender.acquire(total);
    let offset = header.length > 0 ? buf.write(header, 0, "latin1") : 0;
    offset += buf.write(body, offset, "utf8");
    if (this.framing === "ndjson") buf[offset++] = 0x0a;
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed || this.stream.writableEnded) {
        this.lender.release(buf);
        reject(new Error("the connection is closed"));
        return;
      }
      this.stream.write(buf.subarray(0, offset), (err) => {
        // The socket is done with the bytes (written to the kernel, or failed): lend the buffer again.
        this.lender.release(buf);
        if (err) {
          this.errorCount++;
          this.fireError(err, msg, this.errorCount);
          reject(err);
        } else {
          this.errorCount = 0;
          resolve();
        }
      });
    });
  }

  end(): void {
    this.stream.end();
  }
}

export type GuardedMessageReader = LspMessageReader | NdjsonMessageReader;

/** Wraps a writer and tells the reader each time the answer to a request of its connection has been written out. */
export class AnswerTrackingWriter implements MessageWriter {
  constructor(
    private readonly inner: MessageWriter,
    private readonly reader: { requestAnswered(id: string | number): void },
  ) {}

  get onError(): MessageWriter["onError"] {
    return this.inner.onError;
  }

  get onClose(): MessageWriter["onClose"] {
    return this.inner.onClose;
  }

  write(msg: Message): Promise<void> {
    const written = this.inner.write(msg);
    const m = msg as { id?: unknown; method?: unknown };
    if (m.method === undefined && (typeof m.id === "string" || typeof m.id === "number")) {
      const id = m.id;
      // The slot frees once the answer has left for the socket, not when it is queued: a client
      // that sends calls and never reads its answers can hold at most max_in_flight of them here.
      written.then(
        () => this.reader.requestAnswered(id),
        () => this.reader.requestAnswered(id),
      );
    }
    return written;
  }

  end(): void {
    this.inner.end();
  }

  dispose(): void {
    this.inner.dispose();
  }
}
