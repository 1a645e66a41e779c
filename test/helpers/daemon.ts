/**
 * Integration-test harness: a temp workspace with a private socket folder, the real CLI and daemon
 * (compiled, from dist/) run as child processes, and a connected client.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { isOwnerAlive, readState } from "../../src/workspace/registry.js";
import { runtimeFiles } from "../../src/workspace/locate.js";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ToolDClient, type ConnectOptions } from "../../src/client/index.js";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(REPO_ROOT, "dist/cli/main.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestDaemon {
  /** Workspace root (realpath). */
  root: string;
  /** Socket path, inside a 0700 folder of the temp dir. */
  socket: string;
  runDir: string;
  /** The daemon's state file (the lock) in the per-user registry, here this test's runDir. */
  state: string;
  env: NodeJS.ProcessEnv;
  /**
   * The compiled CLI's path and the options that point it at this workspace and socket, then
   * `args`: for tests that run the CLI their own way (a terminal, an import hook).
   */
  cliArgv(args: string[]): string[];
  /** Runs the compiled CLI with this workspace and socket. */
  cli(args: string[], opts?: { input?: string; env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** A client connected to this daemon (starting it). */
  connect(opts?: Partial<ConnectOptions>): Promise<ToolDClient>;
  write(files: Record<string, string | Buffer>): Promise<void>;
  /** Stops the daemon if running (SIGKILL fallback) and removes the temp folder. */
  cleanup(): Promise<void>;
}

export async function makeTestDaemon(
  opts: { toml?: string; files?: Record<string, string> } = {},
): Promise<TestDaemon> {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-it-")));
  const root = path.join(base, "ws");
  const runDir = path.join(base, "run");
  await mkdir(root);
  await mkdir(runDir, { mode: 0o700 });
  const socket = path.join(runDir, "toold.sock");
  if (opts.toml !== undefined) await writeFile(path.join(root, "vtcode.toml"), opts.toml);
  // Isolated by explicit overrides only: the socket, the per-user runtime folder (registry,
  // lock) and the state folder (logs, journal) in this test's own folder, so `toold ps` and
  // `stop --all` see this test's daemon alone and nothing lands in the real /tmp/toold-<uid> or
  // ~/.local/state/toold.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TOOLD_SOCKET: socket,
    TOOLD_RUNTIME_DIR: runDir,
    TOOLD_STATE_DIR: path.join(base, "state"),
  };
  delete env.XDG_RUNTIME_DIR;
  const write = async (files: Record<string, string | Buffer>) => {
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(root, rel);
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, content);
    }
  };
  if (opts.files) await write(opts.files);
  const cliArgv = (args: string[]) => [CLI, "--workspace", root, "--socket", socket, ...args];
  const cli = (args: string[], o: { input?: string; env?: NodeJS.ProcessEnv } = {}) =>
    new Promise<CliResult>((resolve) => {
      const child = execFile(
        process.execPath,
        cliArgv(args),
        { cwd: root, env: { ...env, ...o.env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (o.input !== undefined) child.stdin?.end(o.input);
      else child.stdin?.end();
    });
  return {
    root,
    socket,
    runDir,
    state: runtimeFiles(root, socket, env).state,
    env,
    cliArgv,
    cli,
    write,
    connect: (o = {}) => ToolDClient.connect({ workspace: root, socket, env, ...o }),
    async cleanup() {
      if (existsSync(socket)) await cli(["stop"]);
      const owner = readState(runtimeFiles(root, socket, env).state);
      // Only our daemon: a pid reused by an unrelated process since is left alone.
      if (owner && isOwnerAlive(owner)) {
        try {
          process.kill(owner.pid, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      // Retries: a daemon on its way out may still write its last state file into the folder.
      await rm(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    },
  };
}

/** Spawns the daemon in the foreground (logs to stderr); for signal tests. */
export function spawnForeground(d: TestDaemon) {
  return spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, "dist/daemon/entry.js"),
      "--workspace",
      d.root,
      "--socket",
      d.socket,
      "--foreground",
    ],
    {
      env: d.env,
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * `toold call run_terminal_cmd "sleep 30; touch late"` interrupted with Ctrl-C once the daemon runs
 * it: the CLI must exit 1 saying the call was cancelled, and the daemon must stop the command (no
 * call left in flight, no "late" file). `nodeArgs` go before the CLI (an import hook), `env` is
 * added to the daemon's. Returns nothing: it asserts.
 */
export async function assertCtrlCCancelsCall(
  d: TestDaemon,
  opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []),
      ...d.cliArgv(["call", "run_terminal_cmd", "command=sleep 30; touch late", "--yes"]),
    ],
    { env: { ...d.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const inFlight = async () => {
    const r = await d.cli(["stats", "--json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as { requests: { inFlight: number } }).requests.inFlight : -1;
  };
  await waitFor(async () => (await inFlight()) === 1, 20_000, "the command to run");
  child.kill("SIGINT");
  assert.equal(await exited, 1);
  assert.match(stderr, /cancelled/);
  await waitFor(async () => (await inFlight()) === 0, 10_000, "the daemon to stop the command");
  assert.equal(existsSync(path.join(d.root, "late")), false);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
