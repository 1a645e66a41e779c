/**
 * The baseline of rows a and b: a bare vscode-jsonrpc server on a Unix socket that answers
 * `tools/call` with its params, nothing else. Run as its own process, like the daemon.
 * Usage: tsx scripts/bench/echo-server.ts SOCKET   (prints "ready" when listening)
 */
import net from "node:net";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("usage: echo-server.ts SOCKET\n");
  process.exit(2);
}
const server = net.createServer((socket) => {
  const conn = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  conn.onRequest("tools/call", (params: unknown) => ({
    content: [{ type: "text", text: "echo" }],
    echo: params,
  }));
  socket.on("error", () => conn.dispose());
  socket.on("close", () => conn.dispose());
  conn.listen();
});
server.listen(socketPath, () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
