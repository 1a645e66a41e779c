/** `toold stop [--all]`: drain and stop the daemon of this workspace (or every daemon of yours). */
import { existsSync } from "node:fs";
import { DaemonUnreachableError, ToolDClient } from "../../client/index.js";
import { connectOptions, EXIT, type Command, type Globals } from "../command.js";

/** Waits (bounded) until `pid` has exited, so `stop` leaves nothing behind. */
export async function waitForExit(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops this workspace's daemon; prints what happened. */
export async function stopDaemon(g: Globals): Promise<number> {
  let client: ToolDClient;
  try {
    client = await ToolDClient.connect({
      ...connectOptions(g),
      autoStart: false,
      restartOnVersionMismatch: false,
    });
  } catch (err) {
    if (err instanceof DaemonUnreachableError) {
      process.stdout.write("toold is not running\n");
      return EXIT.ok;
    }
    throw err;
  }
  const socket = client.target.socket;
  const { pid } = await client.status();
  await client.shutdown();
  await waitForExit(pid);
  process.stdout.write(`toold stopped (pid ${pid}${existsSync(socket) ? ", socket still present" : ""})\n`);
  return EXIT.ok;
}

/** Stops every daemon of the registry (`stop --all`), in parallel; one line per daemon. */
async function stopAll(): Promise<number> {
  const { liveDaemons } = await import("./ps.js");
  const rows = await liveDaemons();
  if (rows.length === 0) {
    process.stdout.write("no toold daemon is running\n");
    return EXIT.ok;
  }
  const results = await Promise.allSettled(
    rows.map(async (row) => {
      const client = await ToolDClient.connect({
        workspace: row.workspace,
        socket: row.socket,
        autoStart: false,
        restartOnVersionMismatch: false,
      });
      await client.shutdown();
      await waitForExit(row.pid);
    }),
  );
  let failed = 0;
  results.forEach((r, i) => {
    const row = rows[i]!;
    if (r.status === "fulfilled") process.stdout.write(`stopped pid ${row.pid} (${row.workspace})\n`);
    else {
      failed++;
      process.stderr.write(
        `toold: could not stop pid ${row.pid} (${row.workspace}): ${(r.reason as Error).message}\n`,
      );
    }
  });
  return failed === 0 ? EXIT.ok : EXIT.toolError;
}

export const stop: Command = {
  name: "stop",
  usage: "stop [--all]",
  summary: "drain and stop the daemon; returns once its socket is gone",
  details: "Calls in flight get drain_timeout_secs to finish.",
  options: { all: { type: "boolean", description: "stop every daemon of this user (see `toold ps`)" } },
  examples: ["toold stop", "toold stop --workspace ~/src/project", "toold stop --all"],
  run: ({ values, globals }) => (values.all === true ? stopAll() : stopDaemon(globals)),
};
