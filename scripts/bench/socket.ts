/**
 * Reaching a daemon (or the echo server) on its Unix socket, for the bench, the parity check and
 * the reliability harness: whether it answers, waiting until it does, and an LSP-framed JSON-RPC
 * connection to it.
 */
import net from "node:net";
import {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type MessageConnection,
} from "vscode-jsonrpc/node";

/** Whether something accepts a connection on `socket` now. */
export function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Waits until `socket` answers (the file exists from bind(), before listen()). */
export async function waitForSocket(socket: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await socketAnswers(socket))) {
    if (Date.now() > deadline) throw new Error(`nothing answers on ${socket}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A JSON-RPC connection (LSP framing) to `socket`, listening; `close` ends both. */
export async function connectLsp(socket: string): Promise<{ conn: MessageConnection; close: () => void }> {
  const s = net.connect(socket);
  await new Promise<void>((resolve, reject) => {
    s.once("connect", resolve);
    s.once("error", reject);
  });
  const conn = createMessageConnection(new StreamMessageReader(s), new StreamMessageWriter(s));
  conn.listen();
  return {
    conn,
    close: () => {
      conn.dispose();
      s.destroy();
    },
  };
}
