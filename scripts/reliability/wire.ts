/**
 * A raw JSON-RPC connection for the fuzzer: it frames whatever it is given (LSP Content-Length or
 * NDJSON), tracks the requests it expects answers to by id, answers the daemon's own requests
 * (client/approve) so no call waits on us, and notices when the daemon closes the connection.
 */
import net from "node:net";

export type Framing = "lsp" | "ndjson";

export interface Answer {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

export type Outcome = { kind: "answer"; answer: Answer } | { kind: "closed" } | { kind: "timeout" };

interface Waiter {
  resolve: (o: Outcome) => void;
  timer: NodeJS.Timeout;
}

export function frame(framing: Framing, body: string | Buffer): Buffer {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return framing === "lsp"
    ? Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, "ascii"), bytes])
    : Buffer.concat([bytes, Buffer.from("\n")]);
}

export class RawConn {
  private buffer: Buffer = Buffer.alloc(0);

  private readonly waiters = new Map<string, Waiter>();
  closed = false;
  /** Messages that matched no waiter (answers to untracked ids, errors with id null). */
  untracked = 0;
  /** The last message received and the last few sent: what led up to a close, for the report. */
  lastReceived = "";
  readonly lastSent: string[] = [];
  readonly closedPromise: Promise<void>;

  private constructor(
    private readonly socket: net.Socket,
    readonly framing: Framing,
  ) {
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", () => {
      /* surfaced as close */
    });
    this.closedPromise = new Promise((resolve) =>
      socket.once("close", () => {
        this.closed = true;
        for (const [id, w] of this.waiters) {
          clearTimeout(w.timer);
          this.waiters.delete(id);
          w.resolve({ kind: "closed" });
        }
        resolve();
      }),
    );
  }

  static open(socketPath: string, framing: Framing): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath);
      s.once("connect", () => {
        s.off("error", reject);
        const conn = new RawConn(s, framing);
        // The daemon picks NDJSON only when the first byte is "{": open with an (ignored) notification.
        if (framing === "ndjson") conn.send('{"jsonrpc":"2.0","method":"$/fuzz/hello","params":{}}');
        resolve(conn);
      });
      s.once("error", reject);
    });
  }

  get outstanding(): number {
    return this.waiters.size;
  }

  /** Sends a framed message body (a string is sent as is, so it may be any text). */
  send(body: string): void {
    if (this.closed) return;
    this.lastSent.push(body.slice(0, 300));

    if (this.lastSent.length > 3) this.lastSent.shift();
    this.socket.write(frame(this.framing, body));
  }

  /** Sends a request whose answer is tracked by its string id. */
  request(id: string, body: string, timeoutMs: number): Promise<Outcome> {
    if (this.closed) return Promise.resolve({ kind: "closed" });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        resolve({ kind: "timeout" });
      }, timeoutMs);
      this.waiters.set(id, { resolve, timer });
      this.send(body);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      let body: string;
      if (this.framing === "ndjson") {
        const nl = this.buffer.indexOf(0x0a);
        if (nl === -1) return;
        body = this.buffer.subarray(0, nl).toString("utf8");
        this.buffer = this.buffer.subarray(nl + 1);
      } else {
        const end = this.buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        const m = /Content-Length:\s*(\d+)/i.exec(this.buffer.subarray(0, end).toString("ascii"));
        if (!m) {
          // The stream cannot be resynchronised: note what broke it, for the report.
          this.lastReceived = `UNPARSEABLE FRAME: ${JSON.stringify(this.buffer.subarray(0, 400).toString("utf8"))}`;
          this.close();
          return;
        }
        const len = Number(m[1]);
        if (this.buffer.length < end + 4 + len) return;
        body = this.buffer.subarray(end + 4, end + 4 + len).toString("utf8");
        this.buffer = this.buffer.subarray(end + 4 + len);
      }
      if (body.trim() !== "") {
        this.lastReceived = body.slice(0, 300);
        this.dispatch(body);
      }
    }
  }

  private dispatch(body: string): void {
    let msg: { id?: unknown; method?: unknown; result?: unknown; error?: { code: number; message: string } };
    try {
      msg = JSON.parse(body);
    } catch {
      this.untracked++;
      return;
    }
    if (typeof msg.method === "string") {
      // A request from the daemon (client/approve): always answer, never approve.
      if (msg.id !== undefined && msg.id !== null) {
        this.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { approved: false } }));
      }
      return;
    }
    const key = typeof msg.id === "string" ? msg.id : undefined;
    const w = key === undefined ? undefined : this.waiters.get(key);
    if (!w || key === undefined) {
      this.untracked++;
      return;
    }
    clearTimeout(w.timer);
    this.waiters.delete(key);
    w.resolve({ kind: "answer", answer: msg as Answer });
  }
}

/**
 * One connection, one payload: write `bytes`, wait for the first answer or the close (at most
 * `waitMs`), then hang up. Returns what came back.
 */
export function oneShot(
  socketPath: string,
  bytes: Buffer,
  waitMs: number,
  endAfterWrite = false,
): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    let got = "";
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(finish, waitMs);
    s.on("data", (d: Buffer) => {
      got += d.toString("utf8");
      if (got.includes("}")) finish();
    });
    s.on("error", finish);
    s.on("close", finish);
    s.once("connect", () => {
      s.write(bytes);
      if (endAfterWrite) s.end();
    });
  });
}
