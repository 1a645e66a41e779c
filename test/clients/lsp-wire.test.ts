/**
 * The wire recipe of docs/clients.md for editors that speak JSON-RPC themselves: LSP
 * Content-Length framing on a raw socket, the doc's exact bytes, approvals answered by the client,
 * cancellation and progress — no client library involved.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

type Msg = {
  id?: number | string | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
};

/** A bare LSP-framed connection: send raw bytes, receive parsed messages. */
class Wire {
  private buf = Buffer.alloc(0);
  private readonly queue: Msg[] = [];
  private waiters: ((m: Msg) => void)[] = [];
  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        const headerEnd = this.buf.indexOf("\r\n\r\n");
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(this.buf.subarray(0, headerEnd).toString())?.[1]);
        if (this.buf.length < headerEnd + 4 + length) return;
        const msg = JSON.parse(
          this.buf.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8"),
        ) as Msg;
        this.buf = this.buf.subarray(headerEnd + 4 + length);
        const w = this.waiters.shift();
        if (w) w(msg);
        else this.queue.push(msg);
      }
    });
  }
  static open(socketPath: string): Promise<Wire> {
    return new Promise((resolve, reject) => {
      const s = net.connect(socketPath, () => resolve(new Wire(s)));
      s.once("error", reject);
    });
  }
  sendRaw(bytes: string): void {
    this.socket.write(bytes);
  }
  send(msg: object): void {
    const body = JSON.stringify({ jsonrpc: "2.0", ...msg });
    this.socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  next(): Promise<Msg> {
    const m = this.queue.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => this.waiters.push(resolve));
  }
  close(): void {
    this.socket.destroy();
  }
}

describe("LSP-framed JSON-RPC on the raw socket", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({
      toml: `[tools.policies]\ndelete_file = "prompt"\nrun_terminal_cmd = "allow"\n`,
      files: { "a.txt": "wire\n", "doomed.txt": "x\n" },
    });
    assert.equal((await d.cli(["start"])).code, 0);
  });
  after(() => d.cleanup());

  it("answers the doc's example bytes", async () => {
    const doc = await readFile(path.join(REPO_ROOT, "docs/clients.md"), "utf8");
    const line = /^(Content-Length: (\d+)\\r\\n\\r\\n(\{.*\}))$/m.exec(doc);
    assert.ok(line, "the example exchange is in the doc");
    const [, , length, body] = line;
    assert.equal(Number(length), Buffer.byteLength(body as string), "the doc's Content-Length is right");
    const wire = await Wire.open(d.socket);
    wire.sendRaw((line[1] as string).replaceAll("\\r\\n", "\r\n"));
    const answer = await wire.next();
    assert.equal(answer.id, 1);
    assert.deepEqual((answer.result?.content as unknown[])[0], { type: "text", text: "wire\n" });
    wire.close();
  });

  it("asks the client to approve under a prompt policy and acts on the answer", async () => {
    const wire = await Wire.open(d.socket);
    wire.send({
      id: 1,
      method: "initialize",
      params: { clientInfo: { name: "nvim" }, capabilities: { approvals: true } },
    });
    assert.equal(((await wire.next()).result?.capabilities as { approvals: boolean }).approvals, true);
    wire.send({
      id: 2,
      method: "tools/call",
      params: { name: "delete_file", arguments: { path: "doomed.txt" } },
    });
    const ask = await wire.next();
    assert.equal(ask.method, "client/approve");
    assert.equal(ask.params?.tool, "delete_file");
    assert.deepEqual(ask.params?.arguments, { path: "doomed.txt" });
    wire.send({ id: ask.id, result: { approved: true } });
    const done = await wire.next();
    assert.equal(done.id, 2);
    assert.ok(!done.result?.isError, JSON.stringify(done));
    assert.equal(existsSync(path.join(d.root, "doomed.txt")), false);
    wire.close();
  });

  it("streams $/progress for a progress token and stops a call on $/cancelRequest", async () => {
    const wire = await Wire.open(d.socket);
    wire.send({
      id: 7,
      method: "tools/call",
      params: {
        name: "run_terminal_cmd",
        arguments: { command: "echo started; sleep 30" },
        _meta: { progressToken: "t1" },
      },
    });
    const progress = await wire.next();
    assert.equal(progress.method, "$/progress");
    assert.equal(progress.params?.token, "t1");
    assert.match(JSON.stringify(progress.params?.value), /started/);
    wire.send({ method: "$/cancelRequest", params: { id: 7 } });
    let answer = await wire.next();
    while (answer.id !== 7) answer = await wire.next();
    // The daemon stopped the command well before its 30 s: an error, or a result saying it was cancelled.
    assert.ok(answer.error || /cancel/i.test(JSON.stringify(answer.result)), JSON.stringify(answer));
    wire.close();
  });
});
