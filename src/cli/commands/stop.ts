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

export const stop: Command = {
  name: "stop",
  usage: "stop",
  summary: "drain and stop the daemon; returns once its socket is gone",
  details: "Calls in flight get drain_timeout_secs to finish.",
  options: {},
  examples: ["toold stop", "toold stop --workspace ~/src/project"],
  run: ({ globals }) => stopDaemon(globals),
};
