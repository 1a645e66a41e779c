/**
 * Profiling aid for rows a/b: N sequential read_file calls against a daemon socket, one LSP
 * connection. Start the daemon with `node --cpu-prof dist/daemon/entry.js … --foreground`.
 * Usage: tsx scripts/bench/probe-calls.ts SOCKET PATH [N]
 */
import net from "node:net";
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from "vscode-jsonrpc/node";

const [socketPath, file, count] = process.argv.slice(2);
if (!socketPath || !file) {
  process.stderr.write("usage: probe-calls.ts SOCKET PATH [N]\n");
  process.exit(2);
}
const s = net.connect(socketPath);
await new Promise((r) => s.once("connect", r));
const conn = createMessageConnection(new StreamMessageReader(s), new StreamMessageWriter(s));
conn.listen();
const n = Number(count ?? 5000);
const t = performance.now();
for (let i = 0; i < n; i++)
  await conn.sendRequest("tools/call", { name: "read_file", arguments: { path: file } });
process.stdout.write(`${(((performance.now() - t) / n) * 1000).toFixed(1)} µs per call\n`);
conn.dispose();
s.destroy();
