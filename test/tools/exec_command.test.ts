/**
 * exec_command and write_stdin through the registry on a real SessionManager: results, sessions,
 * limits and bad input. Containment-sensitive cases run twice: with the PID namespace this
 * machine allows, and with the /proc sweep forced.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import { probeContainment } from "../../src/exec/containment.js";
import { SESSION_OUTPUT_CAP } from "../../src/exec/session.js";
import type { ToolResult } from "../../src/tools/shared/types.js";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { assertInvalidParams, assertOk, assertToolError, sc } from "../helpers/write-tools.js";
import { forgedStatusCommand, uniqueSleep, waitNoneLeft, waitStarted } from "../helpers/procs.js";

let ws: TestWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

async function open(opts: Parameters<typeof makeTestWorkspace>[0] = {}): Promise<TestWorkspace> {
  ws = await makeTestWorkspace({ warm: false, ...opts });
  return ws;
}

function sessionId(r: ToolResult): number {
  const id = sc(r).session_id;
  assert.equal(typeof id, "number", `no session_id in ${JSON.stringify(r)}`);
  return id as number;
}

/** Polls a session until its output matches (or the command exits). */
async function pollUntil(w: TestWorkspace, id: number, pattern: RegExp, ms = 5000): Promise<string> {
  let seen = "";
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const r = await w.call("write_stdin", { session_id: id, yield_time_ms: 200 });
    seen += sc(r).output as string;
    if (pattern.test(seen) || sc(r).session_id === undefined) return seen;
  }
  return seen;
}

describe("exec_command", () => {
  it("returns output and exit code of a command that exits within the yield, Codex's way", async () => {
    const w = await open();
    const r = await w.call("exec_command", { cmd: "echo out; echo err >&2" });
    assertOk(r);
    const s = sc(r);
    assert.equal(s.exit_code, 0);
    assert.equal(s.output, "out\nerr\n");
    assert.equal(s.session_id, undefined, "an exited command leaves no session");
    assert.equal(s.truncated, false);
    assert.equal(s.original_token_count, 2);
    assert.equal(typeof s.wall_time_ms, "number");
    assert.match(
      textOf(r),
      /^Chunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\nProcess exited with code 0\nOriginal token count: 2\nOutput:\nout\nerr\n$/,
    );
    assert.equal(w.sessions.open, 0);
  });

  it("reports a non-zero exit as an error result with its code", async () => {
    const w = await open();
    const r = await w.call("exec_command", { cmd: "echo no; exit 3" });
    assertToolError(r, /Process exited with code 3/);
    assert.equal(sc(r).exit_code, 3);
    assert.equal(sc(r).output, "no\n");
  });

  it("runs argv without a shell, and says when the program does not exist", async () => {
    const w = await open();
    const r = await w.call("exec_command", { cmd: ["echo", "$HOME", "a b"] });
    assertOk(r);
    assert.equal(sc(r).output, "$HOME a b\n");
    assertToolError(await w.call("exec_command", { cmd: ["no-such-program-xyz"] }), /command not found/);
    assertToolError(
      await w.call("exec_command", { cmd: ["true"], shell: "bash" }),
      /argv cmd runs without a shell/,
    );
  });

  it("keeps a running command as a session that write_stdin polls until it exits", async () => {
    const w = await open();
    const r = await w.call("exec_command", {
      cmd: "echo first; sleep 1.5; echo second; exit 4",
      yield_time_ms: 700,
    });
    assertOk(r);
    const id = sessionId(r);
    assert.match(textOf(r), new RegExp(`Process running with session ID ${id}\n`));
    assert.equal(sc(r).output, "first\n");
    assert.equal(sc(r).exit_code, null);
    const end = await w.call("write_stdin", { session_id: id, yield_time_ms: 5000 });
    assert.equal(sc(end).output, "second\n");
    assert.equal(sc(end).exit_code, 4);
    assert.equal(sc(end).session_id, undefined);
    assertToolError(await w.call("write_stdin", { session_id: id }), new RegExp(`no session ${id}`));
  });

  it("types into a terminal session: a REPL answers, Ctrl-C interrupts", async () => {
    const w = await open();
    const r = await w.call("exec_command", { cmd: "python3 -i", tty: true, yield_time_ms: 1500 });
    const id = sessionId(r);
    const answer = await w.call("write_stdin", { session_id: id, chars: "print(6*7)\n", yield_time_ms: 500 });
    assertOk(answer);
    assert.match((sc(answer).output as string) + (await pollUntil(w, id, /42/)), /42/);
    const interrupted = await w.call("write_stdin", { session_id: id, chars: "\u0003", yield_time_ms: 300 });
    assert.match(
      (sc(interrupted).output as string) + (await pollUntil(w, id, /KeyboardInterrupt/)),
      /KeyboardInterrupt/,
    );
    assert.equal(w.sessions.get(id)?.running, true, "Ctrl-C interrupts python, it does not end it");
    const token = uniqueSleep();
    const s2 = await w.call("exec_command", { cmd: `sleep ${token}`, tty: true, yield_time_ms: 100 });
    const id2 = sessionId(s2);
    // Ctrl-C for sleep, not for the shell still starting it (on a loaded machine 100 ms may not do).
    assert.ok(await waitStarted(token));
    const stopped = await w.call("write_stdin", { session_id: id2, chars: "\u0003", yield_time_ms: 3000 });
    assert.equal(sc(stopped).session_id, undefined, `Ctrl-C did not end sleep: ${textOf(stopped)}`);
    assert.ok(await waitNoneLeft(token));
  });

  it("a session without a terminal has no stdin: writing is refused, polling works", async () => {
    const w = await open();
    const id = sessionId(await w.call("exec_command", { cmd: "sleep 5", yield_time_ms: 0 }));
    assertToolError(await w.call("write_stdin", { session_id: id, chars: "x\n" }), /no terminal.*tty/);
    const poll = await w.call("write_stdin", { session_id: id, yield_time_ms: 10 });
    assertOk(poll);
    assert.equal(sc(poll).session_id, id);
    assert.equal(w.sessions.get(id)?.running, true);
  });

  it("writing to a session that exited says so and still hands over its output and exit code", async () => {
    const w = await open();
    const id = sessionId(
      await w.call("exec_command", { cmd: "sleep 0.3; echo bye", tty: true, yield_time_ms: 0 }),
    );
    await sleep(1200);
    const r = await w.call("write_stdin", { session_id: id, chars: "hello\n" });
    assertToolError(r, /already exited; nothing was written/);
    assert.match(sc(r).output as string, /bye/);
    assert.equal(sc(r).exit_code, 0);
    assert.equal(w.sessions.open, 0);
  });

  it("cuts output to max_output_tokens, head and tail with the marker, and counts the original", async () => {
    const w = await open();
    const r = await w.call("exec_command", { cmd: "seq 1 200000", max_output_tokens: 100 });
    assertOk(r);
    const s = sc(r);
    assert.equal(s.truncated, true);
    const out = s.output as string;
    assert.ok(Buffer.byteLength(out) < 100 * 4 + 80, `${Buffer.byteLength(out)} bytes`);
    assert.match(out, /^1\n2\n3\n/);
    assert.match(out, /199999\n200000\n$/);
    assert.match(out, /…\d+ tokens truncated…/);
    // 1,288,895 bytes printed: about 322,224 tokens.
    assert.equal(s.original_token_count, Math.ceil(1288895 / 4));
    const small = await w.call("exec_command", { cmd: "seq 1 1000", max_output_tokens: 50 });
    assert.match(sc(small).output as string, /^Total output lines: 1000\n\n1\n/);
  });

  it("resolves workdir inside the workspace (aliases cwd, working_dir) and refuses one outside", async () => {
    const w = await open();
    await mkdir(path.join(w.root, "sub"));
    for (const key of ["workdir", "cwd", "working_dir"]) {
      const r = await w.call("exec_command", { cmd: "pwd", [key]: "sub" });
      assert.equal(sc(r).output, `${path.join(w.root, "sub")}\n`, key);
    }
    assert.equal(
      sc(await w.call("exec_command", { command: ["pwd"], workdir: w.root })).output,
      `${w.root}\n`,
    );
    assertToolError(await w.call("exec_command", { cmd: "pwd", workdir: ".." }), /outside the workspace/);
    assertToolError(await w.call("exec_command", { cmd: "pwd", workdir: "/" }), /outside the workspace/);
    const outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-out-")));
    try {
      await symlink(outside, path.join(w.root, "out"));
      assertToolError(await w.call("exec_command", { cmd: "pwd", workdir: "out" }), /symlink|outside/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    assert.equal(w.sessions.open, 0);
  });

  it("rejects bad arguments with -32602", async () => {
    const w = await open();
    await assertInvalidParams(w.call("exec_command", {}), /cmd/);
    await assertInvalidParams(w.call("exec_command", { cmd: "" }));
    await assertInvalidParams(w.call("exec_command", { cmd: [] }));
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", shell: "rm" }), /shell/);
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", shell: "/tmp/x/python3" }), /shell/);
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", yield_time_ms: -1 }));
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", yield_time_ms: 300_001 }));
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", max_output_tokens: 1.5 }));
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", env: { A: 1 } }));
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", timeout_secs: 3 }), /unknown argument/);
    await assertInvalidParams(w.call("exec_command", { cmd: "ls", command: "ls" }), /same argument/);
    await assertInvalidParams(w.call("write_stdin", {}), /session_id/);
    await assertInvalidParams(w.call("write_stdin", { session_id: "1" }));
    assertToolError(await w.call("write_stdin", { session_id: 4242 }), /no session 4242: .*toold sessions/);
  });

  it("refuses a session past [exec] max_sessions, and takes one again once a session ends", async () => {
    const w = await open({ toml: "[exec]\nmax_sessions = 2\n" });
    const a = sessionId(await w.call("exec_command", { cmd: "sleep 30", yield_time_ms: 0 }));
    sessionId(await w.call("exec_command", { cmd: "sleep 30", yield_time_ms: 0 }));
    const refused = await w.call("exec_command", { cmd: "echo never", yield_time_ms: 0 });
    assertToolError(refused, /max_sessions \(2\) reached: 2 sessions are open.*toold sessions kill/);
    assert.ok(await w.sessions.kill(a));
    assertOk(await w.call("exec_command", { cmd: "echo again" }));
  });

  it("a cancelled call leaves the session running and its output unread", async () => {
    const w = await open();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const r = await w.call(
      "exec_command",
      { cmd: "echo early; sleep 30", yield_time_ms: 10_000 },
      { signal: ac.signal },
    );
    assert.equal(r.isError, true);
    assert.match(textOf(r), /cancelled; session (\d+) keeps running/);
    const [info] = w.sessions.list();
    assert.ok(info);
    assert.equal(info.status, "running");
    const poll = await w.call("write_stdin", { session_id: info.session_id, yield_time_ms: 10 });
    assert.equal(sc(poll).output, "early\n");
  });

  it("ends a session nobody uses after session_idle_timeout_secs", async () => {
    const w = await open({ toml: "[exec]\nsession_idle_timeout_secs = 1\n" });
    const token = uniqueSleep();
    const id = sessionId(await w.call("exec_command", { cmd: `sleep ${token}`, yield_time_ms: 0 }));
    assert.ok(await waitStarted(token));
    await sleep(1600);
    assert.equal(w.sessions.get(id), undefined);
    assert.ok(await waitNoneLeft(token));
    assert.equal(w.sessions.stats().timedOut, 1);
  });

  it("keeps memory bounded under an output flood, and the read says what was dropped", async () => {
    const w = await open();
    const id = sessionId(await w.call("exec_command", { cmd: "yes flood", yield_time_ms: 0 }));
    await sleep(1500);
    const session = w.sessions.get(id)!;
    assert.ok(session.totalBytes > 4 * SESSION_OUTPUT_CAP, `only ${session.totalBytes} bytes printed`);
    assert.ok(session.unreadBytes === session.totalBytes || session.unreadBytes > SESSION_OUTPUT_CAP);
    const r = await w.call("write_stdin", { session_id: id, yield_time_ms: 0, max_output_tokens: 1_000_000 });
    assert.equal(sc(r).truncated, true);
    assert.ok(Buffer.byteLength(sc(r).output as string) <= SESSION_OUTPUT_CAP + 200);
    assert.ok((sc(r).original_token_count as number) * 4 > 4 * SESSION_OUTPUT_CAP);
    await w.sessions.kill(id);
  });
});

describe("exec_command against an agent that controls its arguments", () => {
  it("an env with its own PATH or LD_PRELOAD cannot swap the programs that contain the command", async () => {
    const w = await open();
    // Fake setpriv/unshare that run the command with no namespace, first on the PATH the agent gives.
    await w.write({
      "evil/setpriv": '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n',
      "evil/unshare": '#!/bin/sh\nwhile [ "$1" != "--" ]; do shift; done; shift; exec "$@"\n',
    });
    await chmod(path.join(w.root, "evil/setpriv"), 0o755);
    await chmod(path.join(w.root, "evil/unshare"), 0o755);
    const token = uniqueSleep();
    const r = await w.call("exec_command", {
      cmd: `setsid sleep ${token} >/dev/null 2>&1 < /dev/null & echo "$PATH"`,
      env: { PATH: `${path.join(w.root, "evil")}:${process.env.PATH}`, LD_PRELOAD: "/nonexistent.so" },
    });
    assertOk(r);
    assert.match(
      sc(r).output as string,
      new RegExp(`^${path.join(w.root, "evil")}:`, "m"),
      "the command has its env",
    );
    assert.ok(await waitNoneLeft(token), `setsid sleep ${token} escaped through the agent's PATH`);
    const run = await w.call("run_terminal_cmd", {
      command: `setsid sleep ${token} >/dev/null 2>&1 < /dev/null &`,
      env: { PATH: `${path.join(w.root, "evil")}:${process.env.PATH}` },
    });
    assertOk(run);
    assert.ok(
      await waitNoneLeft(token),
      `run_terminal_cmd: setsid sleep ${token} escaped through the agent's PATH`,
    );
  });

  it("takes Codex's justification, sandbox_permissions and prefix_rule without acting on them", async () => {
    const w = await open();
    const r = await w.call("exec_command", {
      cmd: "echo ok",
      justification: "needs the network",
      sandbox_permissions: "require_escalated",
      prefix_rule: ["echo"],
    });
    assertOk(r);
    assert.equal(sc(r).output, "ok\n");
  });
});

for (const forced of [false, true]) {
  describe(`exec_command containment (${forced ? "/proc sweep forced" : "best available"})`, () => {
    const containment = forced ? () => probeContainment({ TOOLD_EXEC_CONTAINMENT: "sweep" }) : undefined;

    it("a setsid child and a double fork die with their session when it is killed", async () => {
      const w = await open(containment ? { containment } : {});
      const a = uniqueSleep();
      const b = uniqueSleep();
      const r = await w.call("exec_command", {
        cmd: `setsid sleep ${a} >/dev/null 2>&1 < /dev/null & (setsid sh -c 'sleep ${b} & exit' >/dev/null 2>&1 &); echo started; sleep 60`,
        yield_time_ms: 700,
        login: false,
      });
      const id = sessionId(r);
      assert.ok(await waitStarted(a));
      assert.ok(await waitStarted(b));
      const killed = await w.sessions.kill(id);
      assert.equal(killed?.status, "exited");
      assert.ok(await waitNoneLeft(a), `setsid sleep ${a} survived its session`);
      assert.ok(await waitNoneLeft(b), `double-forked sleep ${b} survived its session`);
    });

    it("what a command leaves in the background dies when the command exits", async () => {
      const w = await open(containment ? { containment } : {});
      const a = uniqueSleep();
      const r = await w.call("exec_command", {
        cmd: `(setsid sleep ${a} >/dev/null 2>&1 &); sleep 0.3; echo done`,
        login: false,
      });
      assertOk(r);
      assert.equal(sc(r).output, "done\n");
      assert.ok(await waitNoneLeft(a), `setsid sleep ${a} outlived the command`);
    });

    for (const tty of [false, true]) {
      it(`reports the exit as the command exits while its background child holds the ${tty ? "terminal" : "pipes"}`, async () => {
        const w = await open(containment ? { containment } : {});
        const a = uniqueSleep();
        const r = await w.call("exec_command", {
          cmd: `sleep ${a} & echo started; exit 3`,
          tty,
          yield_time_ms: 30_000,
        });
        assert.equal(sc(r).exit_code, 3);
        assert.equal(sc(r).session_id, undefined, "the command exited: no session is left");
        assert.equal((sc(r).output as string).replace(/\r/g, ""), "started\n");
        // Not held until the yield by the child that still had the output open.
        assert.ok((sc(r).wall_time_ms as number) < 10_000, `answered after ${sc(r).wall_time_ms} ms`);
        assert.ok(await waitNoneLeft(a), `sleep ${a} outlived the command`);
        assert.equal(w.sessions.open, 0);
      });
    }

    it("everything a command wrote to its pipes before it exited is in its result", async () => {
      const w = await open(containment ? { containment } : {});
      for (let round = 0; round < 5; round++) {
        // More than a socket buffer holds, so the command is still writing as the daemon reads.
        const r = await w.call("exec_command", {
          cmd: "head -c 300000 /dev/zero | tr '\\0' x; echo; echo tail >&2; exit 4",
          max_output_tokens: 200_000,
        });
        assert.equal(sc(r).exit_code, 4);
        const out = sc(r).output as string;
        assert.equal(out.length, 300_000 + "\ntail\n".length, `round ${round}: ${out.slice(-20)}`);
        assert.ok(out.endsWith("x\ntail\n"));
      }
    });

    it("everything a command wrote to its terminal before it exited is in its result", async () => {
      const w = await open(containment ? { containment } : {});
      // libuv took a short read of the pty plus the hang-up for the end, and node-pty dropped the
      // rest: the tail went missing in about a quarter of such runs (pty-drain.ts).
      for (let round = 0; round < 20; round++) {
        const r = await w.call("exec_command", {
          cmd: "head -c 200000 /dev/zero | tr '\\0' x; echo; echo tail; exit 4",
          tty: true,
          max_output_tokens: 200_000,
          login: false,
        });
        assert.equal(sc(r).exit_code, 4);
        const out = (sc(r).output as string).replace(/\r/g, "");
        assert.ok(
          out.endsWith("x\ntail\n"),
          `round ${round}: the output ends ${JSON.stringify(out.slice(-20))}`,
        );
        assert.equal(out.length, 200_000 + "\ntail\n".length, `round ${round}`);
      }
    });

    it("a status the command forges on the init's status pipe does not leave it running", async (t) => {
      const c = await (containment ?? probeContainment)();
      if (c.mode !== "pid-namespace") return t.skip("no PID namespace here: no status pipe");
      const w = await open(containment ? { containment } : {});
      const a = uniqueSleep();
      const r = await w.call("exec_command", {
        cmd: forgedStatusCommand(a),
        yield_time_ms: 3000,
      });
      const id = sc(r).session_id as number | undefined;
      if (id !== undefined || sc(r).exit_code === 99) {
        if (id !== undefined) await w.sessions.kill(id);
        return t.skip("the status could not be forged here (no python3 or no pidfd_getfd)");
      }
      assert.equal(sc(r).exit_code, 0, "the forged status was taken");
      await sleep(300); // the sleep started before the forged status: it must be gone, not yet to come
      assert.ok(await waitNoneLeft(a), `sleep ${a} kept running after its session reported an exit`);
    });
  });
}
