/**
 * Idle connections (issue 12, item 7): a connection that holds no call and is not a session is
 * closed after `[daemon] idle_connection_timeout_ms`; when `max_connections` is reached the
 * longest-idle connection makes room, so silent peers (even ones that sent `initialize`) cannot
 * lock everyone out.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { makeTestDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import { RawSocket } from "./raw-socket.js";

let d: TestDaemon;

before(async () => {
  d = await makeTestDaemon({
    toml: `[daemon]
max_connections = 4
idle_connection_timeout_ms = 600
[tools.policies]
run_terminal_cmd = "allow"
`,
    files: { "a.txt": "a\n" },
  });
  const started = await d.cli(["start"]);
  assert.equal(started.code, 0, started.stderr);
});

after(async () => {
  await d.cleanup();
});

const listTools = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list", params: {} });
const initialize = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { clientInfo: { name: "idle-test" } },
});

test("an idle connection that is not a session is closed after idle_connection_timeout_ms; a session and a busy one stay", async () => {
  const script = await RawSocket.connect(d.socket, "ndjson");
  script.send(listTools(1));
  assert.equal((await script.next()).id, 1);
  const session = await RawSocket.connect(d.socket, "ndjson");
  session.send(initialize(1));
  assert.equal((await session.next()).id, 1);
  const busy = await RawSocket.connect(d.socket, "ndjson");
  busy.send({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "run_terminal_cmd", arguments: { command: "sleep 1.5; echo done" } },
  });
  await script.waitClosed(5000);
  assert.ok(
    (script.closedAfterMs ?? 0) >= 550,
    `closed after ${script.closedAfterMs} ms, before the timeout`,
  );
  const answer = await busy.next(10_000);
  assert.equal(answer.id, 7, "a connection with a call running is not idle");
  assert.match(JSON.stringify(answer.result), /done/);
  await new Promise((r) => setTimeout(r, 900));
  assert.equal(session.closed, false, "a session (it sent initialize) is kept");
  session.send(listTools(2));
  assert.equal((await session.next()).id, 2);
  for (const s of [session, busy]) s.destroy();
});

test("silent peers cannot hold every slot: when full, the longest-idle connection makes room", async () => {
  await waitFor(
    async () => {
      const probe = await RawSocket.connect(d.socket, "ndjson");
      probe.send({ jsonrpc: "2.0", id: 1, method: "daemon/status", params: {} });
      const status = await probe.next();
      probe.destroy();
      return (status.result as { connections: number }).connections === 1;
    },
    5000,
    "no other connection",
  );
  // Four peers take every slot, say initialize (so the idle timeout does not apply), and go silent.
  const silent: RawSocket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = await RawSocket.connect(d.socket, "ndjson");
    s.send(initialize(1));
    assert.equal((await s.next()).id, 1);
    silent.push(s);
  }
  await new Promise((r) => setTimeout(r, 1200));
  const newcomer = await RawSocket.connect(d.socket, "ndjson");
  newcomer.send(listTools(5));
  const reply = await newcomer.next();
  assert.equal(reply.error, undefined, `the newcomer was refused: ${JSON.stringify(reply.error)}`);
  assert.equal(reply.id, 5);
  await silent[0]?.waitClosed(5000);
  assert.equal(silent[0]?.closed, true, "the longest-idle peer made room");
  assert.deepEqual(
    silent.slice(1).map((s) => s.closed),
    [false, false, false],
    "only one peer was closed",
  );
  for (const s of [...silent, newcomer]) s.destroy();
});
