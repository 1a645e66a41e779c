/** `toold start [--foreground]` and `toold restart`. */
import { DaemonStartError, DaemonUnreachableError, resolveTarget, ToolDClient } from "../../client/index.js";
import {
  connectOptions,
  EXIT,
  fail,
  printConfigWarnings,
  withClient,
  type Command,
  type Globals,
} from "../command.js";
import { stopDaemon } from "./stop.js";

/** The daemon of this workspace when one answers, without starting one. */
async function running(g: Globals): Promise<{ pid: number; socket: string } | undefined> {
  try {
    const client = await ToolDClient.connect({
      ...connectOptions(g),
      autoStart: false,
      restartOnVersionMismatch: false,
    });
    try {
      return await client.status();
    } finally {
      client.close();
    }
  } catch (err) {
    if (err instanceof DaemonUnreachableError) return undefined;
    throw err;
  }
}

async function startDaemon(g: Globals, foreground: boolean): Promise<number> {
  if (foreground) {
    const owner = await running(g);
    if (owner) {
      return fail(
        `a daemon already serves this workspace (pid ${owner.pid}, socket ${owner.socket}); stop it first with \`toold stop\``,
        EXIT.toolError,
      );
    }
    const target = resolveTarget(connectOptions(g));
    const { main } = await import("../../daemon/main.js");
    await main(["--workspace", target.workspace, "--socket", target.socket, "--foreground"]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  }
  let status;
  try {
    status = await withClient({ ...g, noStart: false }, true, (c) => c.status());
  } catch (err) {
    // The contract: `start` exits 1 when the daemon cannot come up (3 is for `call` and friends).
    if (err instanceof DaemonStartError || err instanceof DaemonUnreachableError) {
      return fail(`could not start the daemon: ${err.message}`, EXIT.toolError);
    }
    throw err;
  }
  process.stdout.write(`toold running: pid ${status.pid}, socket ${status.socket}\n`);
  printConfigWarnings(status.configWarnings);
  return EXIT.ok;
}

const foregroundOption = {
  foreground: {
    type: "boolean" as const,
    description: "run in this process and log to stderr (Ctrl-C stops it)",
  },
};

export const start: Command = {
  name: "start",
  usage: "start [--foreground]",
  summary: "start the daemon for this workspace (idempotent); returns once it answers",
  details:
    "Exit 0 when the daemon answers (already running or just started), 1 when it cannot start\n(the reason is printed). With --foreground, exits 1 if a daemon already serves the workspace.",
  options: foregroundOption,
  examples: ["toold start", "toold start --workspace ~/src/project", "toold start --foreground"],
  run: ({ values, globals }) => startDaemon(globals, values.foreground === true),
};

export const restart: Command = {
  name: "restart",
  usage: "restart [--foreground]",
  summary: "stop the daemon (if running), then start it",
  options: foregroundOption,
  examples: ["toold restart"],
  async run({ values, globals }) {
    await stopDaemon(globals);
    return startDaemon(globals, values.foreground === true);
  },
};
