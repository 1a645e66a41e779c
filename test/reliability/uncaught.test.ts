/**
 * An uncaught exception in the daemon (issue 12, item 12): it is logged, the call in flight still
 * gets its answer (drain), the process exits non-zero, and the next client starts a fresh daemon.
 * The exception is injected by a preload module that throws on SIGUSR2, so no test hook lives in
 * the daemon itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { makeSandbox, sleep, startDaemon } from "../../scripts/reliability/harness.js";
import { ToolDClient } from "../../src/client/index.js";
import { connect, waitFor } from "./helpers.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test(
  "an uncaught exception: logged, calls in flight answered, the daemon exits 1, the next call gets a fresh one",
  {
    timeout: 60_000,
  },
  async () => {
    const sb = await makeSandbox({ toml: '[tools.policies]\nrun_terminal_cmd = "allow"\n' });
    try {
      const hook = path.join(sb.base, "throw-on-usr2.mjs");
      await writeFile(
        hook,
        'process.on("SIGUSR2", () => setImmediate(() => { throw new Error("injected fault"); }));\n',
      );
      const d = await startDaemon(sb, { env: { NODE_OPTIONS: `--import ${pathToFileURL(hook).href}` } });
      const c = await connect(sb);
      const running = c.callTool("run_terminal_cmd", { command: "sleep 1; echo finished" });
      await waitFor(async () => (await c.stats()).requests.inFlight >= 1, 10_000, "the call in flight");
      process.kill(d.pid, "SIGUSR2");
      const r = await running;
      assert.match(r.content[0]?.text ?? "", /finished/, "the call in flight was drained, not dropped");
      const code = await Promise.race([d.exited, sleep(20_000).then(() => "still running")]);
      assert.equal(code, 1, "the daemon exits non-zero instead of serving on in an unknown state");
      assert.match(readFileSync(sb.logFile, "utf8"), /uncaught exception; draining and exiting/);
      assert.match(readFileSync(sb.logFile, "utf8"), /injected fault/);
      c.close();
      // The next caller starts a fresh daemon (the lock and socket were released on the way out).
      const next = await ToolDClient.connect({
        workspace: sb.root,
        socket: sb.socket,
        env: sb.env,
        autoStart: true,
        clientInfo: { name: "after-crash" },
      });
      const status = await next.status();
      assert.notEqual(status.pid, d.pid);
      await next.shutdown();
      next.close();
      // It removes its socket and writes its last state on the way out: the sandbox goes after.
      await waitFor(async () => !alive(status.pid), 10_000, "the fresh daemon's exit");
    } finally {
      await sb.remove();
    }
  },
);
