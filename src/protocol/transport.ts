/**
 * The daemon's vscode-jsonrpc transport for one socket: a reader over a frame decoder
 * (`decode.ts`) and the envelope check (`envelope.ts`), and a writer that encodes each message into
 * a pooled buffer. Admission (at most `max_in_flight_per_connection` requests running) and the
 * cancelling of queued requests are vscode-jsonrpc's own (`maxParallelism`, `cancelUndispatched`);
 * the reader only stops reading the socket once the requests waiting there hold too many bytes.
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
import type { FrameDecoder, FrameFailure } from "./decode.js";
import { parseMessage, type JsonRpcMessage, type WireProblem } from "./envelope.js";

export interface ReaderOptions {
  /** For the error text of an oversized frame (the decoder enforces it). */
  maxMessageBytes: number;
  /** A frame that stays incomplete this long closes the connection. */
  partialMessageTimeoutMs: number;
  /** Requests that may run at once (vscode-jsonrpc's `maxParallelism`); more wait in its queue. */
  maxInFlight: number;
  /** Bytes of waiting requests past which the socket is no longer read. Default 1 MiB. */
  maxQueuedBytes?: number;
}

type Id = string | number;

/**
 * Reads messages off a socket through a decoder. It counts the requests handed on and not yet
 * answered (the writer reports answers), so that it can pause the socket when too many wait, tell
 * when the connection has nothing outstanding (half-closed one-offs), and refuse an id already in use.
 */
export class DecodingReader extends AbstractMessageReader implements MessageReader {
  private readonly problemEmitter = new Emitter<WireProblem>();
  private readonly idleEmitter = new Emitter<void>();
  private callback: DataCallback | undefined;
  private partialTimer: NodeJS.Timeout | undefined;
  /** Bytes of each outstanding request, by id. */
  private readonly outstandingIds = new Map<Id, number>();
  private outstandingBytes = 0;
  private pausedForQueue = false;
  private readonly maxQueuedBytes: number;

  constructor(
    private readonly stream: Duplex,
    private readonly decoder: FrameDecoder,
    private readonly options: ReaderOptions,
  ) {
    super();
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
  }

  /** Malformed input, to be answered by the connection owner. */
  get onProblem(): Event<WireProblem> {
    return this.problemEmitter.event;
  }

  /** Fires when the last outstanding request has been answered. */
  get onIdle(): Event<void> {
    return this.idleEmitter.event;
  }

  /** Requests handed on (running or queued) and not yet answered. */
  get outstanding(): number {
    return this.outstandingIds.size;
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (chunk: Buffer) => this.take(this.decoder.push(chunk));
    const onClose = () => {
      this.clearPartialTimer();
      this.fireClose();
    };
    const onError = (err: Error) => this.fireError(err);
    // The sender finished writing: a last NDJSON line needs no newline; a half-sent frame is
    // reported now rather than after the frame timeout (`printf … | socat`).
    const onEnd = () => this.take(this.decoder.end());
    this.stream.on("data", onData);
    this.stream.on("end", onEnd);
    this.stream.on("close", onClose);
    this.stream.on("error", onError);
    return {
      dispose: () => {
        this.stream.off("data", onData);
        this.stream.off("end", onEnd);
        this.stream.off("close", onClose);
        this.stream.off("error", onError);
        this.clearPartialTimer();
      },
    };
  }

  private take(step: { bodies: string[]; failure?: FrameFailure }): void {
    for (const body of step.bodies) this.deliver(body);
    if (step.failure) {
      this.clearPartialTimer();
      this.problem(this.describe(step.failure));
      return;
    }
    this.trackPartial(this.decoder.partial);
  }

  private describe(failure: FrameFailure): WireProblem {
    const fatal = (message: string): WireProblem => ({
      code: ErrorCodes.InvalidRequest,
      message,
      id: null,
      fatal: true,
    });
    switch (failure.kind) {
      case "too-large":
        return fatal(
          `message of ${failure.bytes} bytes exceeds max_message_bytes (${this.options.maxMessageBytes}); send smaller messages or raise [daemon] max_message_bytes`,
        );
      case "malformed":
        return fatal(failure.reason);
      case "incomplete":
        return fatal("incomplete message at the end of the input: the last frame or line was cut short");
    }
  }

  private deliver(body: string): void {
    const parsed = parseMessage(body);
    if (parsed.problem) {
      this.problem(parsed.problem);
      return;
    }
    const msg = parsed.message;
    if (msg.method !== undefined && msg.id !== undefined && msg.id !== null) {
      if (this.outstandingIds.has(msg.id)) {
        this.problem({
          code: ErrorCodes.InvalidRequest,
          message: `id ${JSON.stringify(msg.id)} is already used by a request of this connection that has not been answered; give each request its own id`,
          id: null,
          fatal: false,
        });
        return;
      }
      this.track(msg.id, body.length);
    }
    try {
      this.callback?.(msg as Message);
    } catch (err) {
      // One message must not cost the rest of the chunk (or the daemon).
      this.fireError(err as Error);
    }
  }

  private track(id: Id, bytes: number): void {
    this.outstandingIds.set(id, bytes);
    this.outstandingBytes += bytes;
    if (
      !this.pausedForQueue &&
      this.outstandingIds.size > this.options.maxInFlight &&
      this.outstandingBytes >= this.maxQueuedBytes
    ) {
      this.pausedForQueue = true;
      this.stream.pause();
    }
  }

  /** The answer to request `id` has been written out: its slot, and its bytes, are free. */
  requestAnswered(id: Id): void {
    const bytes = this.outstandingIds.get(id);
    if (bytes === undefined) return;
    this.outstandingIds.delete(id);
    this.outstandingBytes -= bytes;
    if (
      this.pausedForQueue &&
      (this.outstandingIds.size <= this.options.maxInFlight ||
        this.outstandingBytes < this.maxQueuedBytes / 2)
    ) {
      this.pausedForQueue = false;
      this.stream.resume();
    }
    if (this.outstandingIds.size === 0) this.idleEmitter.fire();
  }

  private problem(problem: WireProblem): void {
    this.problemEmitter.fire(problem);
  }

  /** Arms or clears the incomplete-frame timer after each chunk. */
  private trackPartial(hasPartial: boolean): void {
    if (!hasPartial) {
      this.clearPartialTimer();
      return;
    }
    if (this.partialTimer) return;
    this.partialTimer = setTimeout(() => {
      this.partialTimer = undefined;
      this.problem({
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

/** Where a writer borrows its encoding buffers: the daemon's memory pool (`src/support/memory-pool.ts`). */
export interface BufferLender {
  acquire(size: number): Buffer;
  release(buf: Buffer): void;
}

/**
 * Bounds on what one connection may have queued for a peer that reads slowly or not at all
 * (bytes the socket has accepted but the kernel has not taken).
 */
export interface OutputLimits {
  /** Past this, `$/progress` is coalesced (latest value per token) and new requests wait. */
  softBytes: number;
  /** Past this, the peer is taken as not reading: `onOverflow` (cancel its calls, close it). */
  hardBytes: number;
  /** Backed up with nothing taken by the peer for this long: it is not reading, `onOverflow`. */
  stallMs: number;
  onOverflow(queuedBytes: number): void;
}

/**
 * Writes each message, in either framing, as one socket write from a buffer borrowed from the
 * memory pool: the header (LSP) or newline (NDJSON) and the body are encoded into the same
 * buffer, which goes back to the pool once the socket has taken it (the write callback).
 * JSON.stringify never emits a raw newline, so NDJSON lines cannot tear.
 */
/**
 * Answers written while more requests of the connection are still unanswered are held in the
 * corked socket and leave together (one writev) once none is left, this many are held, or
 * `BATCH_FLUSH_MS` passed: a pipelining client gets its answers in batches instead of one
 * syscall each; a client that waits for each answer gets it at once (nothing else is pending).
 */
const BATCH_MAX_ANSWERS = 32;
const BATCH_FLUSH_MS = 1;

/** Room before a small body for its LSP header: "Content-Length: " + up to 11 digits + CRLFCRLF. */
const HEADER_ROOM = 32;
/** Bodies up to this many characters are encoded in one pass (their buffer is sized for the worst case). */
const SMALL_BODY_CHARS = 16 * 1024;

export class PooledMessageWriter extends AbstractMessageWriter implements MessageWriter {
  private errorCount = 0;
  /** Answers written into the corked socket and not yet flushed. */
  private batched = 0;
  private batchTimer: NodeJS.Timeout | undefined;
  /** `$/progress` held while the peer is behind: the latest per token, in first-held order. */
  private readonly heldProgress = new Map<unknown, Message>();
  private drainWaiters: (() => void)[] = [];
  private listeningForDrain = false;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Duplex,
    private readonly framing: "lsp" | "ndjson",
    private readonly lender: BufferLender,
    /** Told once the answer to a request has left for the socket (frees its in-flight slot). */
    private readonly onAnswered?: (id: Id) => void,
    private readonly limits?: OutputLimits,
    /** Requests of the connection not yet answered (the reader's count); enables answer batching. */
    private readonly unanswered?: () => number,
  ) {
    super();
    stream.on("error", (err: Error) => this.fireError(err));
    stream.on("close", () => {
      if (this.batchTimer) clearTimeout(this.batchTimer);
      this.batchTimer = undefined;
      this.heldProgress.clear();
      if (this.stallTimer) clearInterval(this.stallTimer);
      this.wakeDrainWaiters();
      this.fireClose();
    });
  }

  /** The peer is behind: more than `softBytes` wait in the socket. */
  get backedUp(): boolean {
    return this.limits !== undefined && this.stream.writableLength > this.limits.softBytes;
  }

  /** Resolves once the peer has caught up (or the connection is gone). */
  whenCaughtUp(): Promise<void> {
    if (!this.backedUp || this.stream.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiters.push(resolve);
      this.listenForDrain();
    });
  }

  /** Writes a message of the connection (vscode-jsonrpc's answers, requests and notifications). */
  write(msg: Message): Promise<void> {
    const m = msg as JsonRpcMessage;
    if (m.method === "$/progress" && this.backedUp) {
      // A peer that does not keep up gets the latest progress per token once it catches up, not
      // every step: the final result carries the whole output anyway.
      const token = (m.params as { token?: unknown } | undefined)?.token;
      this.heldProgress.delete(token);
      this.heldProgress.set(token, msg);
      this.listenForDrain();
      return Promise.resolve();
    }
    const isAnswer = m.method === undefined && (typeof m.id === "string" || typeof m.id === "number");
    if (isAnswer && !this.batchTimer && this.unanswered && this.unanswered() > 1) this.startBatch();
    const written = this.send(msg);
    if (this.batchTimer) {
      if (isAnswer) this.batched++;
      // Anything but an answer (a request to the client, a notification) is not held: the peer
      // may be waiting for it. Else flush once every pending request is answered or the batch is full.
      if (!isAnswer || this.batched >= BATCH_MAX_ANSWERS || this.unanswered!() <= this.batched)
        this.flushBatch();
    }
    const onAnswered = this.onAnswered;
    if (onAnswered && isAnswer) {
      const id = m.id as Id;
      // The slot frees once the answer has left for the socket, not when it is queued: a client
      // that never reads its answers holds at most max_in_flight of them here.
      const free = () => onAnswered(id);
      written.then(free, free);
    }
    return written;
  }

  private startBatch(): void {
    this.stream.cork();
    this.batchTimer = setTimeout(() => this.flushBatch(), BATCH_FLUSH_MS);
  }

  private flushBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    this.batched = 0;
    this.stream.uncork();
  }

  /** While backed up, watches that the peer takes bytes at all; one that does not is closed. */
  private watchForStall(limits: OutputLimits): void {
    if (this.stallTimer) return;
    const every = Math.max(50, Math.min(limits.stallMs / 4, 1000));
    let lastQueued = this.stream.writableLength;
    let stalledMs = 0;
    this.stallTimer = setInterval(() => {
      const queued = this.stream.writableLength;
      if (!this.backedUp || this.stream.destroyed) {
        clearInterval(this.stallTimer);
        this.stallTimer = undefined;
        return;
      }
      stalledMs = queued < lastQueued ? 0 : stalledMs + every;
      lastQueued = queued;
      if (stalledMs >= limits.stallMs) {
        clearInterval(this.stallTimer);
        this.stallTimer = undefined;
        limits.onOverflow(queued);
      }
    }, every);
    this.stallTimer.unref();
  }

  private listenForDrain(): void {
    if (this.listeningForDrain) return;
    this.listeningForDrain = true;
    this.stream.once("drain", () => {
      this.listeningForDrain = false;
      const held = [...this.heldProgress.values()];
      this.heldProgress.clear();
      for (const msg of held) this.send(msg).catch(() => {});
      this.wakeDrainWaiters();
    });
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Writes a message that answers no tracked request (an error for malformed input). */
  send(msg: object): Promise<void> {
    const queued = this.stream.writableLength;
    if (this.limits && queued > this.limits.hardBytes) {
      this.limits.onOverflow(queued);
      return Promise.reject(new Error("the peer is not reading its answers; the connection was closed"));
    }
    const { buf, start, end } = this.encode(JSON.stringify(msg));
    return new Promise((resolve, reject) => {
      if (this.stream.destroyed || this.stream.writableEnded) {
        this.lender.release(buf);
        reject(new Error("the connection is closed"));
        return;
      }
      const limits = this.limits;
      if (limits && this.stream.writableLength + end - start > limits.softBytes) this.watchForStall(limits);
      this.stream.write(buf.subarray(start, end), (err) => {
        // The socket is done with the bytes (written to the kernel, or failed): lend the buffer again.
        this.lender.release(buf);
        if (err) {
          this.errorCount++;
          this.fireError(err, msg as Message, this.errorCount);
          reject(err);
        } else {
          this.errorCount = 0;
          resolve();
        }
      });
    });
  }

  /**
   * Frames `body` into a borrowed buffer; the frame is `buf[start, end)`. A small body is written
   * straight after room for the longest LSP header, which then goes right before it: one pass over
   * the string instead of a `Buffer.byteLength` pass first (~1 µs of a small answer).
   */
  private encode(body: string): { buf: Buffer; start: number; end: number } {
    const lsp = this.framing === "lsp";
    if (body.length <= SMALL_BODY_CHARS) {
      // A UTF-16 code unit is at most 3 bytes of UTF-8, so the body fits whatever it holds.
      const buf = this.lender.acquire(HEADER_ROOM + body.length * 3 + 1);
      let end = HEADER_ROOM + buf.write(body, HEADER_ROOM, "utf8");
      if (!lsp) {
        buf[end++] = 0x0a;
        return { buf, start: HEADER_ROOM, end };
      }
      const header = `Content-Length: ${end - HEADER_ROOM}\r\n\r\n`;
      const start = HEADER_ROOM - header.length;
      buf.write(header, start, "latin1");
      return { buf, start, end };
    }
    const bodyBytes = Buffer.byteLength(body, "utf8");
    const header = lsp ? `Content-Length: ${bodyBytes}\r\n\r\n` : "";
    const buf = this.lender.acquire(header.length + bodyBytes + (lsp ? 0 : 1));
    let end = header.length > 0 ? buf.write(header, 0, "latin1") : 0;
    end += buf.write(body, end, "utf8");
    if (!lsp) buf[end++] = 0x0a;
    return { buf, start: 0, end };
  }

  end(): void {
    this.stream.end();
  }
}
