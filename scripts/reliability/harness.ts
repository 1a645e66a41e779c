/**
 * Shared by the stress and fuzz scripts and the tests in test/reliability/: a temp workspace with a
 * private socket folder, the REAL compiled daemon (dist/daemon/entry.js) started as a child process
 * in the foreground with its log in a file, and small helpers that look at that process from
 * outside (/proc), so the figures do not depend on what the daemon reports about itself.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { socketAnswers } from "../bench/socket.js";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DAEMON_ENTRY = path.join(REPO_ROOT, "dist/daemon/entry.js");

export interface Sandbox {
  /** Temp folder holding everything below. */
  base: string;
  /** Workspace root (realpath). */
  root: string;
  /** A folder next to the workspace that nothing may touch (fuzz checks it). */
  sibling: string;
  /** 0700 folder holding the socket, state file and daemon log. */
  runDir: string;
  socket: string;
  logFile: string;
  env: NodeJS.ProcessEnv;
  remove(): Promise<void>;
}

export async function makeSandbox(opts: { toml?: string; prefix?: string } = {}): Promise<Sandbox> {
  const base = await realpath(await mkdtemp(path.join(os.tmpdir(), opts.prefix ?? "toold-rel-")));
  const root = path.join(base, "ws");
  const sibling = path.join(base, "outside");
  const runDir = path.join(base, "run");
  await mkdir(root);
  await mkdir(sibling);
  await mkdir(runDir, { mode: 0o700 });
  if (opts.toml !== undefined) await writeFile(path.join(root, "vtcode.toml"), opts.toml);
  const socket = path.join(runDir, "toold.sock");
  // The runtime folder (registry, lock) in the sandbox too: nothing reaches the user's own.
  const env: NodeJS.ProcessEnv = { ...process.env, TOOLD_SOCKET: socket, TOOLD_RUNTIME_DIR: runDir };
  delete env.XDG_RUNTIME_DIR;
  return {
    base,
    root,
    sibling,
    runDir,
    socket,
    logFile: path.join(runDir, "daemon.log"),
    env,
    // Retries: a daemon on its way out may still write its last state file into the folder.
    remove: () => rm(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }),
  };
}

export interface DaemonProcess {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<number | string>;
}

/** Starts the compiled daemon in the foreground and resolves once its socket accepts a connection. */
export async function startDaemon(
  sb: Sandbox,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<DaemonProcess> {
  if (!existsSync(DAEMON_ENTRY)) throw new Error(`${DAEMON_ENTRY} is missing: run \`npm run build\` first`);
  const logFd = openSync(sb.logFile, "a");
  const child = spawn(
    process.execPath,
    [DAEMON_ENTRY, "--workspace", sb.root, "--socket", sb.socket, "--foreground"],
    {
      env: { ...sb.env, ...opts.env },
      stdio: ["ignore", logFd, logFd],
    },
  );
  closeSync(logFd);
  let running = true;
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      running = false;
      resolve(code ?? signal ?? "unknown");
    }),
  );
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  while (!(await socketAnswers(sb.socket))) {
    if (!running) throw new Error(`the daemon exited during start-up; its log:\n${tail(sb.logFile)}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the daemon did not answer on ${sb.socket} in time; its log:\n${tail(sb.logFile)}`);
    }
    await sleep(20);
  }
  return {
    child,
    pid: child.pid!,
    exited,
    isRunning: () => running,
    async stop(graceMs = 15_000) {
      if (!running) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident set size of a process from /proc (bytes), or undefined where /proc is missing. */
export function procRss(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Open file descriptors of a process (sockets, files, pipes): a leak of handles shows up here. */
export function procFdCount(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** A small seeded PRNG (mulberry32) so a failing run can be replayed with its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const mb = (bytes: number | undefined) =>
  bytes === undefined ? "?" : `${(bytes / 1048576).toFixed(1)} MB`;

/** An integer command-line flag, or exit 2 with a message naming the program and the flag. */
export function intFlag(prog: string, value: string | undefined, name: string, def: number, min = 1): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`${prog}: --${name} must be an integer >= ${min} (got ${JSON.stringify(value)})\n`);
    process.exit(2);
  }
  return n;
}

/** The flags every reliability script takes besides its own. */
export const REPORT_FLAGS = {
  json: { type: "boolean", default: false },
  keep: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

/** Ends a run: stops the daemon (saying so when SIGTERM did not exit it cleanly), removes the sandbox unless kept. */
export async function endRun(
  prog: string,
  daemon: DaemonProcess,
  sb: Sandbox,
  keep: boolean,
  log: (line: string) => void,
): Promise<void> {
  const exit = await daemon.stop();
  if (exit !== 0) log(`${prog}: the daemon exited with ${exit} on SIGTERM (expected 0)`);
  if (!keep) await sb.remove();
  else log(`${prog}: kept ${sb.base} (daemon log: ${sb.logFile})`);
}

/** Runs a script's main and exits with its code; a crash prints `prog: <stack>` and exits 1. */
export function runScript(prog: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${prog}: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
