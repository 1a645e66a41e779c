/**
 * Starting a detached daemon and waiting until it answers. The daemon reports over an IPC channel
 * whether it is ready, lost the start race to another daemon, or failed (with the reason: a config
 * error with its key, a refused socket folder), so the caller can say why, not only where the log is.
 */
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export class DaemonStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DaemonStartError";
  }
}

type StartupMessage =
  | { type: "ready"; pid: number; socket: string }
  | { type: "already-running"; pid: number; socket?: string }
  | { type: "error"; message: string };

/** The daemon entry next to this module: dist/daemon/entry.js, or the .ts source under tsx. */
export function daemonEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const file = path.join(path.dirname(here), "..", "daemon", `entry${ext}`);
  // Under tsx (tests, `npm run dev`) the daemon runs from source too; resolve tsx from here, not
  // from the daemon's cwd (the workspace), which has no node_modules of ours.
  return { file, execArgv: ext === ".ts" ? ["--import", import.meta.resolve("tsx")] : [] };
}

/** Resolves once something answers on the socket, or rejects after `timeoutMs`. */
export async function waitForSocket(socketPath: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(socketPath);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new DaemonStartError(`the daemon did not answer on ${socketPath} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

export interface SpawnOptions {
  workspace: string;
  socket: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the daemon to report. */
  timeoutMs?: number;
}

/**
 * Spawns a detached daemon and resolves with the socket to use once it answers: its own, or that
 * of the daemon that already serves the workspace (a rival that won the race, or one started
 * with another socket).
 */
export async function spawnDaemon(opts: SpawnOptions): Promise<string> {
  const { file, execArgv } = daemonEntry();
  const timeoutMs = opts.timeoutMs ?? 15_000;
  // Loaded here, not at the top: only a call that finds no daemon pays for child_process.
  const { spawn } = await import("node:child_process");
  const child = spawn(
    process.execPath,
    [...execArgv, file, "--workspace", opts.workspace, "--socket", opts.socket],
    {
      detached: true,
      stdio: ["ignore", "ignore", "ignore", "ipc"],
      env: opts.env ?? process.env,
      cwd: opts.workspace,
    },
  );
  const outcome = await new Promise<StartupMessage | { type: "exit"; code: number | null }>((resolve) => {
    const timer = setTimeout(
      () => resolve({ type: "error", message: `the daemon did not report within ${timeoutMs} ms` }),
      timeoutMs,
    );
    child.once("message", (m) => {
      clearTimeout(timer);
      resolve(m as StartupMessage);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ type: "exit", code });
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      resolve({ type: "error", message: err.message });
    });
  });
  if (child.connected) child.disconnect();
  child.unref();
  switch (outcome.type) {
    case "ready":
      return opts.socket;
    case "already-running": {
      const socket = outcome.socket ?? opts.socket;
      await waitForSocket(socket, timeoutMs);
      return socket;
    }
    case "error":
      throw new DaemonStartError(outcome.message);
    case "exit":
      throw new DaemonStartError(
        `the daemon exited (code ${outcome.code}) before it was ready; run \`toold start --foreground\` to see why`,
      );
  }
}
