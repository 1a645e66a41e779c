import assert from "node:assert/strict";
import { mkdir, mkdtemp, realpath, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, beforeEach, describe, it } from "node:test";
import { probeContainment } from "../../src/exec/containment.js";
import { HeadTailBuffer } from "../../src/exec/head-tail-buffer.js";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { forgedStatusCommand, uniqueSleep, waitNoneLeft } from "../helpers/procs.js";
import { assertInvalidParams, assertOk, assertToolError, sc } from "../helpers/write-tools.js";

let ws: TestWorkspace;
beforeEach(async () => {
  ws = await makeTestWorkspace();
});
afterEach(() => ws.cleanup());

describe("run_terminal_cmd", () => {
  it("runs a string through /bin/sh -c and returns output and exit code", async () => {
    const r = await ws.call("run_terminal_cmd", { command: "printf 'a\\nb\\n' | wc -l && echo done" });
    assertOk(r);
    const s = sc(r);
    assert.equal(s.stdout.trim().split(/\s+/).join(" "), "2 done");
    assert.equal(s.exit_code, 0);
    assert.equal(s.timed_out, false);
    assert.equal(s.truncated, false);
    assert.equal(typeof s.duration_ms, "number");
    assert.equal(s.command, "printf 'a\\nb\\n' | wc -l && echo done");
    assert.match(textOf(r), /done\nexit code 0$/);
  });

  it("runs an argv array without a shell", async () => {
    const r = await ws.call("run_terminal_cmd", { command: ["echo", "$HOME", "a b", "*"] });
    assertOk(r);
    assert.equal(sc(r).stdout, "$HOME a b *\n");
    assert.deepEqual(sc(r).command, ["echo", "$HOME", "a b", "*"]);
  });

  it("reports a non-zero exit as an error with the full structured result", async () => {
    const r = await ws.call("run_terminal_cmd", { command: "echo out; echo err >&2; exit 3" });
    assertToolError(r, /out\nstderr:\nerr\nexit code 3/);
    const s = sc(r);
    assert.equal(s.exit_code, 3);
    assert.equal(s.stdout, "out\n");
    assert.equal(s.stderr, "err\n");
    assert.equal(s.timed_out, false);
  });

  it("reports death by signal with exit_code null", async () => {
    const r = await ws.call("run_terminal_cmd", { command: "kill -9 $$" });
    assertToolError(r, /killed by signal SIGKILL/);
    assert.equal(sc(r).exit_code, null);
    assert.equal(sc(r).signal, "SIGKILL");
  });

  it("reports an argv program that does not exist", async () => {
    assertToolError(
      await ws.call("run_terminal_cmd", { command: ["definitely-not-a-command-xyz"] }),
      /command not found/,
    );
    const r = await ws.call("run_terminal_cmd", { command: "definitely-not-a-command-xyz" });
    assertToolError(r, /exit code 127/);
  });

  it("runs in cwd, relative to the workspace, and confines it", async () => {
    await mkdir(path.join(ws.root, "sub/deep"), { recursive: true });
    const r = await ws.call("run_terminal_cmd", { command: "pwd", cwd: "sub/deep" });
    assertOk(r);
    assert.equal(sc(r).stdout.trim(), path.join(ws.root, "sub/deep"));
    assert.equal(
      (await ws.call("run_terminal_cmd", { command: ["pwd"] })).structuredContent?.stdout,
      `${ws.root}\n`,
    );
    assertToolError(
      await ws.call("run_terminal_cmd", { command: "pwd", cwd: ".." }),
      /outside the workspace/,
    );
    assertToolError(await ws.call("run_terminal_cmd", { command: "pwd", cwd: "/" }), /outside the workspace/);
    assertToolError(await ws.call("run_terminal_cmd", { command: "pwd", cwd: "missing" }), /no such file/);
    await ws.write({ "file.txt": "x" });
    assertToolError(await ws.call("run_terminal_cmd", { command: "pwd", cwd: "file.txt" }), /not a folder/);
    const outside = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-out-")));
    try {
      await symlink(outside, path.join(ws.root, "out"));
      assertToolError(await ws.call("run_terminal_cmd", { command: "pwd", cwd: "out" }), /symlink/);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it("merges env over the daemon's environment; stdin is empty", async () => {
    const r = await ws.call("run_terminal_cmd", {
      command: 'echo "$TOOLD_T1|$TOOLD_T2"; test -n "$PATH" && cat',
      env: { TOOLD_T1: "x y", TOOLD_T2: "" },
    });
    assertOk(r);
    assert.equal(sc(r).stdout, "x y|\n");
  });

  it("kills the command on timeout", async () => {
    const t0 = Date.now();
    const r = await ws.call("run_terminal_cmd", { command: "echo started; sleep 30", timeout_secs: 1 });
    assertToolError(r, /timed out after 1 s/);
    assert.ok(Date.now() - t0 < 5000);
    const s = sc(r);
    assert.equal(s.timed_out, true);
    assert.equal(s.stdout, "started\n");
    assert.equal(s.exit_code, null);
    assert.equal(s.signal, "SIGTERM");
  });

  it("on timeout kills the whole process group, including a grandchild that ignores SIGTERM", async () => {
    const token = uniqueSleep();
    const r = await ws.call("run_terminal_cmd", {
      command: `sh -c 'trap "" TERM; sleep ${token}' & wait`,
      timeout_secs: 1,
    });
    assert.equal(sc(r).timed_out, true);
    assert.ok(await waitNoneLeft(token), `grandchild sleep ${token} survived`);
  });

  it("on cancellation kills the whole process group, grandchildren included", async () => {
    const token = uniqueSleep();
    const ac = new AbortController();
    const chunks: string[] = [];
    const pending = ws.call(
      "run_terminal_cmd",
      { command: `sleep ${token} & echo started; wait` },
      {
        signal: ac.signal,
        progress: (v: unknown) => {
          chunks.push((v as { chunk: string }).chunk);
          ac.abort();
        },
      },
    );
    const r = await pending;
    assert.equal(r.isError, true);
    assert.match(chunks.join(""), /started/);
    assert.ok(await waitNoneLeft(token), `grandchild sleep ${token} survived the cancellation`);
    if (r.structuredContent) assert.equal(sc(r).cancelled, true);
  });

  it("stops processes the command left in the background when it exits", async () => {
    const token = uniqueSleep();
    const r = await ws.call("run_terminal_cmd", { command: `sleep ${token} >/dev/null 2>&1 & echo started` });
    assertOk(r);
    assert.ok(await waitNoneLeft(token), `background sleep ${token} survived`);
  });

  it("a status the command forges on the init's status pipe does not leave it running", async (t) => {
    if ((await probeContainment()).mode !== "pid-namespace")
      return t.skip("no PID namespace here: no status pipe");
    const token = uniqueSleep();
    const r = await ws.call("run_terminal_cmd", { command: forgedStatusCommand(token), timeout_secs: 10 });
    if (sc(r).exit_code === 99)
      return t.skip("the status could not be forged here (no python3 or no pidfd_getfd)");
    assertOk(r); // the forged status was taken
    await sleep(300); // the sleep started before the forged status: it must be gone, not yet to come
    assert.ok(await waitNoneLeft(token), `sleep ${token} kept running after the call reported an exit`);
  });

  it("a setsid or double-forked child does not outlive the command", async () => {
    // Both leave the command's process group and session: a group kill misses them.
    const a = uniqueSleep();
    const b = uniqueSleep();
    const r = await ws.call("run_terminal_cmd", {
      command: `setsid sleep ${a} >/dev/null 2>&1 < /dev/null & (setsid sh -c 'sleep ${b} & exit' >/dev/null 2>&1 &); sleep 0.3; echo started`,
    });
    assertOk(r);
    assert.ok(await waitNoneLeft(a), `setsid sleep ${a} survived the command`);
    assert.ok(await waitNoneLeft(b), `double-forked sleep ${b} survived the command`);
  });

  it("keeps head and tail of large output and marks the cut", async () => {
    const r = await ws.call("run_terminal_cmd", {
      command: "echo BEGIN; i=0; while [ $i -lt 5000 ]; do echo line-$i; i=$((i+1)); done; echo END",
      max_output_bytes: 1000,
    });
    assertOk(r);
    const s = sc(r);
    assert.equal(s.truncated, true);
    assert.match(s.stdout, /^BEGIN\nline-0\n/);
    assert.match(s.stdout, /line-4999\nEND\n$/);
    const m = /\[\.\.\. (\d+) bytes cut \.\.\.\]/.exec(s.stdout);
    assert.ok(m);
    const total =
      6 + 4 + Array.from({ length: 5000 }, (_, i) => `line-${i}\n`.length).reduce((a, b) => a + b, 0);
    assert.equal(Number(m[1]) + 1000, total);
    assert.ok(Buffer.byteLength(s.stdout) < 1100);
    assert.match(textOf(r), /output truncated to 1000 bytes/);
  });

  it("takes Codex's timeout_ms and max_output_tokens", async () => {
    const t0 = Date.now();
    const r = await ws.call("run_terminal_cmd", { command: "sleep 30", timeout_ms: 300 });
    assertToolError(r, /timed out after 0.3 s/);
    assert.ok(Date.now() - t0 < 4000);
    const big = await ws.call("run_terminal_cmd", { command: "seq 1 100000", max_output_tokens: 64 });
    assertOk(big);
    assert.equal(sc(big).truncated, true);
    assert.ok(Buffer.byteLength(sc(big).stdout) < 64 * 4 + 100, sc(big).stdout);
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", timeout_ms: 0 }));
    assertToolError(
      await ws.call("run_terminal_cmd", { command: "ls", timeout_ms: 5, timeout_secs: 5 }),
      /give one/,
    );
  });

  it("streams output through ctx.progress, coalesced", async () => {
    const events: Array<{ stream: string; chunk: string }> = [];
    const r = await ws.call(
      "run_terminal_cmd",
      { command: "for i in 1 2 3 4 5 6 7 8 9 10; do echo o$i; echo e$i >&2; sleep 0.01; done" },
      { progress: (v: unknown) => events.push(v as { stream: string; chunk: string }) },
    );
    assertOk(r);
    const join = (stream: string): string =>
      events
        .filter((e) => e.stream === stream)
        .map((e) => e.chunk)
        .join("");
    assert.equal(join("stdout"), sc(r).stdout);
    assert.equal(join("stderr"), sc(r).stderr);
    // 20 writes over ~100 ms: coalescing keeps it far below one event per write.
    assert.ok(events.length < 20, `${events.length} progress events`);
  });

  it("answers to its aliases and to cmd and workdir", async () => {
    // exec_command is a tool of its own now (sessions), no longer an alias of this one.
    assert.equal(ws.registry.definition("exec_command")?.name, "exec_command");
    await mkdir(path.join(ws.root, "sub"));
    const r = await ws.call("run_terminal_cmd", { cmd: "pwd", workdir: "sub" });
    assertOk(r);
    assert.equal(sc(r).stdout.trim(), path.join(ws.root, "sub"));
    assertOk(await ws.call("run_pty_cmd", { command: ["true"] }));
    assertOk(await ws.call("RUN_TERMINAL_CMD", { cmd: ["true"] }));
  });

  it("rejects bad arguments with -32602", async () => {
    await assertInvalidParams(ws.call("run_terminal_cmd", {}), /command/);
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: 5 }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: [] }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "" }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: ["ls", 1] }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", timeout_secs: 0 }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", timeout_secs: 3601 }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", timeout_secs: 1.5 }));
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", env: { A: 1 } }));
    await assertInvalidParams(
      ws.call("run_terminal_cmd", { command: "ls", shell: true }),
      /unknown argument/,
    );
    await assertInvalidParams(ws.call("run_terminal_cmd", { command: "ls", cmd: "ls" }), /same argument/);
  });

  it("does not start when already cancelled", async () => {
    await ws.write({});
    const r = await ws.call(
      "run_terminal_cmd",
      { command: "touch ran.txt" },
      { signal: AbortSignal.abort() },
    );
    assert.equal(r.isError, true);
    await sleep(50);
    assert.equal((await ws.call("list_files", {})).structuredContent?.total, 0);
  });
});

describe("HeadTailBuffer", () => {
  it("returns everything under the cap", () => {
    const b = new HeadTailBuffer(10);
    b.push(Buffer.from("abc"));
    b.push(Buffer.from("defg"));
    assert.equal(b.truncated, false);
    assert.equal(b.toString(), "abcdefg");
  });

  it("keeps the first and last halves across many chunks", () => {
    const b = new HeadTailBuffer(10);
    for (const c of "0123456789abcdefghij".split("")) b.push(Buffer.from(c));
    assert.equal(b.truncated, true);
    assert.equal(b.toString(), "01234\n[... 10 bytes cut ...]\nfghij");
  });

  it("does not split UTF-8 characters at the cut", () => {
    const b = new HeadTailBuffer(8);
    b.push(Buffer.from("aaaé€€€€€éb"));
    const s = b.toString();
    assert.ok(!s.includes("\uFFFD"), s);
    assert.match(s, /^aaa/);
    assert.match(s, /éb$/);
  });
});
