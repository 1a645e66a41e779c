/**
 * Fault tests against the real compiled daemon (dist/), each in its own temp workspace and socket
 * folder: kill -9 during writes, a client vanishing mid-call, the socket file deleted, a stale
 * state file whose pid another process now has, a full disk, and vtcode.toml turned to garbage.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, unlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConnectionClosedError, ErrorCodes, RpcError, type ToolDClient } from "../../src/client/index.js";
import { runtimeFiles } from "../../src/workspace/locate.js";
import { processStartTime } from "../../src/workspace/registry.js";
import {
  makeSandbox,
  startDaemon,
  sleep,
  type Sandbox,
  type DaemonProcess,
} from "../../scripts/reliability/harness.js";
import { connect, leftoverTempFiles, waitFor } from "./helpers.js";
import { uniqueSleep, waitNoneLeft, waitStarted } from "../helpers/procs.js";

const ALLOW_COMMANDS = '[tools.policies]\nrun_terminal_cmd = "allow"\n';

async function withDaemon(
  toml: string | undefined,
  body: (sb: Sandbox, d: DaemonProcess) => Promise<void>,
  env?: NodeJS.ProcessEnv,
): Promise<void> {
  const sb = await makeSandbox(toml === undefined ? {} : { toml });
  let d: DaemonProcess | undefined;
  try {
    d = await startDaemon(sb, env ? { env } : {});
    await body(sb, d);
  } finally {
    await d?.stop(5000);
    await sb.remove();
  }
}

// ------------------------------------------------------------------ kill -9 in the middle of writes

const BODY_LINES = 6000;
const body = (f: number) =>
  Array.from({ length: BODY_LINES }, (_, i) => `file ${f} body line ${i} ${"x".repeat(40)}\n`).join("");
const fileContent = (f: number, v: number) => `file ${f} version ${v}\n${body(f)}`;
const sha = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

test(
  "kill -9 during writes: every file is its old or its new content, and the next start sweeps temp files",
  { timeout: 60_000 },
  async () => {
    const sb = await makeSandbox();
    const FILES = 6;
    try {
      await mkdir(path.join(sb.root, "data"));
      for (let f = 0; f < FILES; f++)
        await writeFile(path.join(sb.root, "data", `f${f}.txt`), fileContent(f, 0));
      const first = await startDaemon(sb);
      const clients = await Promise.all(Array.from({ length: FILES }, (_, i) => connect(sb, `writer-${i}`)));
      // Per file: the last version acknowledged and the one in flight. Only these may be on disk.
      const acked = new Array<number>(FILES).fill(0);
      const inFlight = new Array<number | undefined>(FILES).fill(undefined);
      let killed = false;
      const writers = clients.map(async (c, f) => {
        for (let v = 1; !killed; v++) {
          inFlight[f] = v;
          const rel = `data/f${f}.txt`;
          // Alternate whole-file writes and edits: both go through the atomic writer.
          const call =
            v % 2 === 0
              ? c.callTool("write_file", { path: rel, content: fileContent(f, v) })
              : c.callTool("edit_file", {
                  path: rel,
                  old_str: `file ${f} version ${v - 1}\n`,
                  new_str: `file ${f} version ${v}\n`,
                });
          try {
            const r = await call;
            assert.equal(r.isError, undefined, r.content[0]?.text);
            acked[f] = v;
          } catch (err) {
            assert.ok(
              killed && err instanceof ConnectionClosedError,
              `unexpected failure: ${(err as Error).message}`,
            );
            return;
          }
        }
      });
      await waitFor(() => acked.every((v) => v >= 3), 30_000, "three writes per file");
      await sleep(Math.floor(Math.random() * 40));
      killed = true;
      process.kill(first.pid, "SIGKILL");
      await first.exited;
      await Promise.all(writers);
      for (const c of clients) c.close();

      for (let f = 0; f < FILES; f++) {
        const actual = sha(await readFile(path.join(sb.root, "data", `f${f}.txt`)));
        const allowed = [acked[f]!, inFlight[f]].filter((v): v is number => v !== undefined);
        const match = allowed.find((v) => sha(fileContent(f, v)) === actual);
        assert.notEqual(
          match,
          undefined,
          `data/f${f}.txt is neither version ${allowed.join(" nor ")}: torn or lost`,
        );
      }

      // What a write cut short leaves behind (planted too, so the sweep is tested on every run).
      const planted = path.join(sb.root, "data", ".f0.txt.toold-0123456789ab.tmp");
      await writeFile(planted, "half a write");
      const past = new Date(Date.now() - 60_000);
      await utimes(planted, past, past);
      // A file that only looks similar is not the writer's and must stay.
      await writeFile(path.join(sb.root, "data", "notes.toold-keep.txt"), "mine");

      // The state file and socket of the killed daemon are still there; the next start takes over.
      assert.ok(
        existsSync(runtimeFiles(sb.root, sb.socket, sb.env).state),
        "the killed daemon's state file is left behind",
      );
      const second = await startDaemon(sb);
      try {
        await waitFor(
          async () => (await leftoverTempFiles(sb.root)).length === 1,
          10_000,
          "the temp-file sweep",
        );
        assert.deepEqual(await leftoverTempFiles(sb.root), ["data/notes.toold-keep.txt"]);
        const c = await connect(sb);
        for (let f = 0; f < FILES; f++) {
          const r = await c.callTool("read_file", { path: `data/f${f}.txt`, limit: 1 });
          assert.match(r.content[0]?.text ?? "", new RegExp(`^file ${f} version \\d+\\n$`));
        }
        c.close();
      } finally {
        await second.stop(5000);
      }
    } finally {
      await sb.remove();
    }
  },
);

// ------------------------------------------------------------------ a client that disconnects mid-call

test(
  "a client that disconnects mid-call: its command group is killed, other clients are unaffected",
  { timeout: 60_000 },
  async () => {
    await withDaemon(ALLOW_COMMANDS, async (sb, d) => {
      const quitter = await connect(sb, "quitter");
      const other = await connect(sb, "other");
      // Found by unique arguments: pids echoed inside the command's PID namespace mean nothing here.
      const leaderToken = uniqueSleep();
      const backgroundToken = uniqueSleep();
      const pending = quitter.callTool("run_terminal_cmd", {
        command: `sleep ${backgroundToken} & echo started > leader.pid; sleep ${leaderToken}`,
      });
      await waitFor(
        async () => (await waitStarted(leaderToken, 100)) && (await waitStarted(backgroundToken, 100)),
        10_000,
        "the command to start",
      );

      const otherCall = other.callTool("run_terminal_cmd", { command: "sleep 0.5; echo other-done" });
      quitter.close();
      await assert.rejects(pending, ConnectionClosedError);

      assert.ok(
        (await waitNoneLeft(leaderToken, 10_000)) && (await waitNoneLeft(backgroundToken, 10_000)),
        "the abandoned command group was not killed",
      );
      const r = await otherCall;
      assert.equal(r.isError, undefined, r.content[0]?.text);
      assert.match(r.content[0]?.text ?? "", /other-done/);
      assert.equal((await other.callTool("read_file", { path: "leader.pid" })).isError, undefined);
      await waitFor(async () => (await other.stats()).requests.inFlight === 0, 5000, "no call in flight");
      const log = await readFile(sb.logFile, "utf8");
      assert.match(
        log,
        /"tool":"run_terminal_cmd"[^\n]*"outcome":"cancelled"/,
        "the abandoned call is logged as cancelled",
      );
      other.close();
      assert.ok(d.isRunning());
    });
  },
);

// ------------------------------------------------------------------ the socket file deleted

test(
  "the socket file deleted under a running daemon: it notices and exits cleanly, and a new one can start",
  { timeout: 30_000 },
  async () => {
    const sb = await makeSandbox();
    try {
      const d = await startDaemon(sb, { env: { TOOLD_SOCKET_CHECK_MS: "100" } });
      const c = await connect(sb);
      assert.equal((await c.status()).pid, d.pid);
      await unlink(sb.socket);
      const code = await Promise.race([d.exited, sleep(10_000).then(() => "still running")]);
      assert.equal(code, 0, "exit code after the socket vanished");
      assert.equal(
        existsSync(runtimeFiles(sb.root, sb.socket, sb.env).state),
        false,
        "state file removed on the clean exit",
      );
      c.close();
      const next = await startDaemon(sb);
      const c2 = await connect(sb);
      assert.equal((await c2.status()).pid, next.pid);
      c2.close();
      await next.stop(5000);
    } finally {
      await sb.remove();
    }
  },
);

// ------------------------------------------------------------------ a stale state file whose pid was reused

test(
  "a state file naming a dead daemon's pid that another process now has: start works, that process is never signalled",
  { timeout: 30_000 },
  async () => {
    const sb = await makeSandbox();
    const signalLog = path.join(sb.base, "signals.txt");
    // An unrelated process that records every catchable signal it gets.
    const bystander = spawn(
      process.execPath,
      [
        "-e",
        `const fs=require("fs");for(const s of ["SIGTERM","SIGINT","SIGHUP","SIGUSR1","SIGUSR2"])process.on(s,()=>fs.appendFileSync(${JSON.stringify(signalLog)},s+"\\n"));setInterval(()=>{},1000);`,
      ],
      { stdio: "ignore" },
    );
    try {
      await waitFor(() => processStartTime(bystander.pid!) !== null, 5000, "the bystander to start");
      const files = runtimeFiles(sb.root, sb.socket, sb.env);
      await writeFile(
        files.state,
        JSON.stringify({
          pid: bystander.pid,
          // The dead daemon started at another time than the process now holding its pid.
          pidStartTime: processStartTime(bystander.pid!)! - 1234,
          version: "0.0.1",
          workspace: sb.root,
          socket: sb.socket,
          logFile: null,
          startedAt: new Date(Date.now() - 3_600_000).toISOString(),
          phase: "ready",
        }),
        { mode: 0o600 },
      );
      const d = await startDaemon(sb);
      const c = await connect(sb);
      assert.equal((await c.status()).pid, d.pid);
      assert.equal(
        JSON.parse(await readFile(files.state, "utf8")).pid,
        d.pid,
        "the state file now names the new daemon",
      );
      c.close();
      assert.equal(await d.stop(5000), 0);
      await sleep(100);
      assert.equal(bystander.exitCode, null, "the bystander is still running");
      assert.equal(bystander.signalCode, null);
      assert.equal(
        existsSync(signalLog) ? await readFile(signalLog, "utf8") : "",
        "",
        "the bystander got no signal",
      );
    } finally {
      bystander.kill("SIGKILL");
      await sb.remove();
    }
  },
);

// ------------------------------------------------------------------ disk full

test(
  "disk full while writing: the write fails with a clear result, the old file stays, no temp file is left",
  { timeout: 30_000 },
  async (t) => {
    const sb = await makeSandbox();
    let mounted = false;
    try {
      try {
        execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", sb.root], { stdio: "ignore" });
        mounted = true;
      } catch {
        t.skip("needs root to mount a 1 MB tmpfs as the workspace");
        return;
      }
      await writeFile(path.join(sb.root, "vtcode.toml"), "");
      const old = "the old content\n".repeat(100);
      await writeFile(path.join(sb.root, "keep.txt"), old);
      await writeFile(path.join(sb.root, "filler.bin"), Buffer.alloc(700 * 1024, 1));
      const d = await startDaemon(sb);
      try {
        const c = await connect(sb);
        const big = "y".repeat(512 * 1024);
        const w = await c.callTool("write_file", { path: "keep.txt", content: big });
        assert.equal(w.isError, true, "write_file past the free space must fail");
        assert.match(w.content[0]?.text ?? "", /ENOSPC|no space/i);
        assert.equal(await readFile(path.join(sb.root, "keep.txt"), "utf8"), old);

        const e = await c.callTool("edit_file", {
          path: "keep.txt",
          old_str: "the old content\n".repeat(100),
          new_str: big,
        });
        assert.equal(e.isError, true);
        assert.equal(await readFile(path.join(sb.root, "keep.txt"), "utf8"), old);

        const p = await c.callTool("apply_patch", {
          input: `*** Begin Patch\n*** Add File: new.txt\n${`+${"z".repeat(1023)}\n`.repeat(400)}*** End Patch`,
        });
        assert.equal(p.isError, true);
        assert.equal(existsSync(path.join(sb.root, "new.txt")), false, "a failed add leaves no file");
        assert.deepEqual(await leftoverTempFiles(sb.root), []);

        // The disk is still usable and the daemon still serves: free space, and the same write works.
        await rm(path.join(sb.root, "filler.bin"));
        const ok = await c.callTool("write_file", { path: "keep.txt", content: big });
        assert.equal(ok.isError, undefined, ok.content[0]?.text);
        assert.equal(await readFile(path.join(sb.root, "keep.txt"), "utf8"), big);
        c.close();
      } finally {
        await d.stop(5000);
      }
    } finally {
      if (mounted) execFileSync("umount", [sb.root]);
      await sb.remove();
    }
  },
);

// ------------------------------------------------------------------ vtcode.toml edited to garbage

test(
  "vtcode.toml edited to garbage while running: reload reports it, the old config stays, calls go on",
  { timeout: 30_000 },
  async () => {
    const toml = '[tools.policies]\nrun_terminal_cmd = "deny"\n[daemon]\nmax_connections = 100\n';
    await withDaemon(toml, async (sb, d) => {
      const c: ToolDClient = await connect(sb);
      const policy = async () =>
        ((await c.config()) as { tools: { policies: Record<string, string> } }).tools.policies
          .run_terminal_cmd;
      assert.equal(await policy(), "deny");
      const file = path.join(sb.root, "vtcode.toml");

      await writeFile(file, "this is [[[ not toml at all\n\u0000\u00ff");
      await assert.rejects(c.reloadConfig(), (err: unknown) => {
        assert.ok(err instanceof RpcError);
        assert.equal(err.code, ErrorCodes.ConfigInvalid);
        assert.match(err.message, /vtcode\.toml/);
        assert.match(err.message, /TOML syntax error/);
        return true;
      });
      assert.equal(await policy(), "deny", "the old config stays after a bad reload");

      // Valid TOML with a bad value names the key.
      await writeFile(file, '[daemon]\nmax_connections = "lots"\n');
      await assert.rejects(c.reloadConfig(), /daemon\.max_connections must be an integer/);
      // SIGHUP reloads too; a bad file there must not take the daemon down either.
      process.kill(d.pid, "SIGHUP");
      await sleep(200);
      assert.ok(d.isRunning());
      assert.equal(await policy(), "deny");
      const denied = await c.callTool("run_terminal_cmd", { command: "echo hi" });
      assert.equal(denied.isError, true);
      assert.match(denied.content[0]?.text ?? "", /denied by policy/);

      // A fixed file is taken: the reload machinery itself works.
      await writeFile(file, '[tools.policies]\nrun_terminal_cmd = "allow"\n');
      assert.deepEqual(await c.reloadConfig(), { ok: true });
      assert.equal(await policy(), "allow");
      const r = await c.callTool("run_terminal_cmd", { command: "echo hi" });
      assert.equal(r.isError, undefined, r.content[0]?.text);
      c.close();
    });
  },
);
