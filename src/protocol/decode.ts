/**
 * Pure, bounded frame decoders: bytes in, whole message bodies out. No I/O, no imports; the
 * daemon's reader and the client's peer use the same ones. Each enforces a size limit before it
 * buffers a body, so a peer cannot make the other side hold more than `maxMessageBytes` of one
 * message. A decoder that reports a fatal problem stays failed: the stream cannot be resynchronised.
 */

/** Why a stream cannot be decoded further. */
export type FrameFailure =
  | { kind: "too-large"; /** The announced or buffered size, or a lower bound of it. */ bytes: number }
  | { kind: "malformed"; reason: string }
  /** The input ended with a frame half received. */
  | { kind: "incomplete" };

export interface DecodeStep {
  /** Whole message bodies, in order, as UTF-8 text. */
  bodies: string[];
  /** Set once; every later push returns no bodies. */
  failure?: FrameFailure;
}

export interface FrameDecoder {
  /** Feeds the next chunk of the stream. */
  push(chunk: Uint8Array): DecodeStep;
  /** The input ended: returns a last message that needs no terminator (NDJSON), or `incomplete`. */
  end(): DecodeStep;
  /** Part of a frame is buffered (for the incomplete-frame timer). */
  readonly partial: boolean;
}

export type Framing = "lsp" | "ndjson";

const MAX_HEADER_BYTES = 8 * 1024;

/** Joins buffered chunks only when a message spans several of them. */
class Chunks {
  private list: Buffer[] = [];
  length = 0;

  add(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.list.push(chunk);
    this.length += chunk.length;
  }

  /** Everything buffered as one Buffer (copied only when it is in several pieces). */
  whole(): Buffer {
    if (this.list.length === 1) return this.list[0] as Buffer;
    const all = Buffer.concat(this.list, this.length);
    this.list = this.length > 0 ? [all] : [];
    return all;
  }

  /** Drops the first `bytes`. */
  consume(bytes: number): void {
    const rest = this.whole().subarray(bytes);
    this.list = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
  }

  clear(): void {
    this.list = [];
    this.length = 0;
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** `Content-Length: N\r\n\r\n` followed by N bytes of JSON, as LSP and vscode-jsonrpc write them. */
export class LspDecoder implements FrameDecoder {
  private readonly buffered = new Chunks();
  /** Body length of the frame being read, once its header is parsed. */
  private expected: number | undefined;
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  get partial(): boolean {
    return !this.failed && (this.buffered.length > 0 || this.expected !== undefined);
  }

  push(chunk: Uint8Array): DecodeStep {
    const bodies: string[] = [];
    if (this.failed) return { bodies };
    this.buffered.add(asBuffer(chunk));
    // Walk the buffered bytes by offset and drop what was consumed once, at the end.
    const data = this.buffered.whole();
    let pos = 0;
    for (;;) {
      if (this.expected === undefined) {
        if (pos >= data.length) break;
        const end = data.indexOf(CRLFCRLF, pos);
        if (end === -1) {
          if (data.length - pos > MAX_HEADER_BYTES)
            return this.fail(bodies, "header section longer than 8 KiB");
          break;
        }
        if (end - pos > MAX_HEADER_BYTES) return this.fail(bodies, "header section longer than 8 KiB");
        const length = plainContentLength(data, pos, end) ?? contentLength(data.toString("latin1", pos, end));
        if (typeof length === "string") return this.fail(bodies, length);
        if (length > this.maxMessageBytes) {
          this.failed = true;
          this.buffered.clear();
          return { bodies, failure: { kind: "too-large", bytes: length } };
        }
        this.expected = length;
        pos = end + 4;
      }
      if (data.length - pos < this.expected) break;
      bodies.push(data.toString("utf8", pos, pos + this.expected));
      pos += this.expected;
      this.expected = undefined;
    }
    this.buffered.consume(pos);
    return { bodies };
  }

  end(): DecodeStep {
    if (!this.partial) return { bodies: [] };
    this.failed = true;
    this.buffered.clear();
    return { bodies: [], failure: { kind: "incomplete" } };
  }

  private fail(bodies: string[], reason: string): DecodeStep {
    this.failed = true;
    this.buffered.clear();
    return {
      bodies,
      failure: {
        kind: "malformed",
        reason: `${reason}: frames are "Content-Length: N\\r\\n\\r\\n" followed by N bytes of JSON`,
      },
    };
  }
}

const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const PLAIN_HEADER = Buffer.from("Content-Length: ", "latin1");

/** The common header, exactly `Content-Length: <digits>` as vscode-jsonrpc writes it, read from the bytes. */
function plainContentLength(data: Buffer, start: number, end: number): number | undefined {
  const digits = end - start - PLAIN_HEADER.length;
  if (digits < 1 || digits > 15) return undefined;
  if (data.compare(PLAIN_HEADER, 0, PLAIN_HEADER.length, start, start + PLAIN_HEADER.length) !== 0)
    return undefined;
  let value = 0;
  for (let i = start + PLAIN_HEADER.length; i < end; i++) {
    const c = data[i] as number;
    if (c < 0x30 || c > 0x39) return undefined;
    value = value * 10 + (c - 0x30);
  }
  return value;
}

/** The body length from a header section, or what is wrong with it. */
function contentLength(text: string): number | string {
  let length: number | undefined;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    if (line.slice(0, colon).trim().toLowerCase() !== "content-length") continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,15}$/.test(value)) return `invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`;
    length = Number(value);
  }
  return length ?? "missing Content-Length header";
}

/** One JSON message per line; blank lines are skipped, a `\r` before the newline is dropped. */
export class NdjsonDecoder implements FrameDecoder {
  private readonly buffered = new Chunks();
  private failed = false;

  constructor(private readonly maxMessageBytes: number) {}

  get partial(): boolean {
    return !this.failed && this.buffered.length > 0;
  }

  push(chunk: Uint8Array): DecodeStep {
    const bodies: string[] = [];
    if (this.failed) return { bodies };
    const data = asBuffer(chunk);
    let start = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl === -1) break;
      let line: Buffer;
      if (this.buffered.length > 0) {
        const size = this.buffered.length + (nl - start);
        if (size > this.maxMessageBytes) return this.tooLarge(bodies, size);
        this.buffered.add(data.subarray(start, nl));
        line = this.buffered.whole();
        this.buffered.clear();
      } else {
        if (nl - start > this.maxMessageBytes) return this.tooLarge(bodies, nl - start);
        line = data.subarray(start, nl);
      }
      start = nl + 1;
      pushLine(bodies, line);
    }
    if (start < data.length) {
      if (this.buffered.length + (data.length - start) > this.maxMessageBytes) {
        return this.tooLarge(bodies, this.buffered.length + (data.length - start));
      }
      this.buffered.add(data.subarray(start));
    }
    return { bodies };
  }

  /** A last line without its newline (`printf '{…}' | socat`) is still a whole message. */
  end(): DecodeStep {
    const bodies: string[] = [];
    if (this.failed || this.buffered.length === 0) return { bodies };
    pushLine(bodies, this.buffered.whole());
    this.buffered.clear();
    return { bodies };
  }

  private tooLarge(bodies: string[], bytes: number): DecodeStep {
    this.failed = true;
    this.buffered.clear();
    return { bodies, failure: { kind: "too-large", bytes } };
  }
}

/** Adds a line's text unless it is blank (JSON.stringify never writes a raw newline, so no tearing). */
function pushLine(bodies: string[], line: Buffer): void {
  let end = line.length;
  while (end > 0 && isSpace(line[end - 1] as number)) end--;
  let start = 0;
  while (start < end && isSpace(line[start] as number)) start++;
  if (start < end) bodies.push(line.toString("utf8", start, end));
}

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0d || byte === 0x09;
}

export function decoderFor(framing: Framing, maxMessageBytes: number): FrameDecoder {
  return framing === "lsp" ? new LspDecoder(maxMessageBytes) : new NdjsonDecoder(maxMessageBytes);
}
