/**
 * The baseline of row c2: a bare NDJSON JSON-RPC socket that answers each line with a result, and
 * closes after the caller half-closes, as the daemon does for `echo … | socat`. Run as its own
 * process, like the daemon. Usage: tsx scripts/bench/ndjson-echo.ts SOCKET (prints "ready")
 */
import net from "node:net";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("usage: ndjson-echo.ts SOCKET\n");
  process.exit(2);
}
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim() === "") continue;
      const { id } = JSON.parse(line) as { id: unknown };
      socket.write(
        `${JSON.stringify({ jsonrpc: "2.0", id, result: { content: [{ type: "text", text: "echo" }] } })}\n`,
      );
    }
  });
  socket.on("end", () => socket.end());
  socket.on("error", () => socket.destroy());
});
server.listen(socketPath, () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
