/** A raw Unix-socket client for wire tests: send any bytes, read framed or line replies, see the close. */
import net from "node:net";

export interface RawReply {
  jsonrpc?: string;
  id?: string | number | null;
  result?: unknown;
  error?: { code: number; message: string };
  method?: string;
  params?: unknown;
}

export class RawSocket {
  private buffer = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];
  closed = false;
  /** Milliseconds from `connect` until the peer closed, once it did. */
  closedAfterMs: number | undefined;
  private readonly started = Date.now();

  private constructor(
    readonly socket: net.Socket,
    readonly framing: "lsp" | "ndjson",
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.closedAfterMs = Date.now() - this.started;
      this.wake();
    });
    socket.on("error", () => {});
  }

  static connect(path: string, framing: "lsp" | "ndjson"): Promise<RawSocket> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once("connect", () => resolve(new RawSocket(s, framing)));
      s.once("error", reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private changed(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one message in this socket's framing. */
  send(message: unknown): void {
    const body = typeof message === "string" ? message : JSON.stringify(message);
    this.write(
      this.framing === "ndjson" ? `${body}\n` : `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private take(): RawReply | undefined {
    if (this.framing === "ndjson") {
      const nl = this.buffer.indexOf(0x0a);
      if (nl === -1) return undefined;
      const line = this.buffer.subarray(0, nl).toString("utf8");
      this.buffer = this.buffer.subarray(nl + 1);
      return JSON.parse(line) as RawReply;
    }
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end === -1) return undefined;
    const m = /Content-Length: (\d+)/i.exec(this.buffer.subarray(0, end).toString("ascii"));
    if (!m) throw new Error("reply without Content-Length");
    const len = Number(m[1]);
    if (this.buffer.length < end + 4 + len) return undefined;
    const body = this.buffer.subarray(end + 4, end + 4 + len).toString("utf8");
    this.buffer = this.buffer.subarray(end + 4 + len);
    return JSON.parse(body) as RawReply;
  }

  /** The next message from the daemon. */
  async next(timeoutMs = 5000): Promise<RawReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const msg = this.take();
      if (msg) return msg;
      if (this.closed) throw new Error("connection closed before a reply");
      await this.changed(Math.max(1, deadline - Date.now()));
    }
  }

  /** Resolves once the daemon has closed the connection. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) await this.changed(Math.max(1, deadline - Date.now()));
  }

  destroy(): void {
    this.socket.destroy();
  }
}
