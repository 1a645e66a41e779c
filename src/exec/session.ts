/**
 * One exec session: a contained command (src/exec/containment.ts) on a pseudo-terminal
 * (`@lydell/node-pty`) or on pipes, with the output nobody has read yet in a bounded buffer.
 * The session belongs to the daemon, not to the call that started it: a call only waits on it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { IPty } from "@lydell/node-pty";
import { drainOnEnd } from "./pty-drain.js";
import {
  containedSpawn,
  exitStatus,
  initStatus,
  ProcessTree,
  ROOT_EXIT_AFTER_STATUS_MS,
  signalName,
  type Containment,
} from "./containment.js";
import { HeadTailBuffer } from "./head-tail-buffer.js";
import { budgetOutput, type BudgetedOutput } from "./truncate.js";

/** Unread output kept per session: the first and the last 512 KiB; the middle of a flood is dropped. */
export const SESSION_OUTPUT_CAP = 1024 * 1024;
/** Time between SIGTERM and SIGKILL when a session is ended. */
export const KILL_GRACE_MS = 2000;
/** After the command exits, how long its output may still arrive before the session counts as done. */
const DRAIN_AFTER_EXIT_MS = 2000;
const TRACK_INTERVAL_MS = 1000;
export const TERMINAL_SIZE = { cols: 120, rows: 30 } as const;

export interface SessionSpec {
  /** The program and its arguments (a shell line is already `[shell, "-lc", line]`). */
  readonly argv: readonly string[];
  /** What listings show: the command line as given. */
  readonly display: string;
  readonly cwd: string;
  /** The cwd relative to the workspace root, for listings. */
  readonly cwdRel: string;
  readonly env: Readonly<Record<string, string>>;
  readonly tty: boolean;
}

export type EndReason = "exited" | "killed" | "idle" | "shutdown";

/** A failure to start or use a session that the caller should see as it is. */
export class ExecError extends Error {
  constructor(
    message: string,
    readonly structured?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ExecError";
  }
}

let ptyModule: Promise<typeof import("@lydell/node-pty")> | undefined;
/** Loaded on first use: a daemon that never opens a terminal never loads the native module. */
function loadPty(): Promise<typeof import("@lydell/node-pty")> {
  ptyModule ??= import("@lydell/node-pty");
  return ptyModule;
}

export class ExecSession {
  readonly startedAt = Date.now();
  lastUsedAt = Date.now();
  /** Calls waiting on this session right now: it does not time out under them. */
  activeCalls = 0;
  exitCode: number | null = null;
  exitSignal: string | null = null;
  /** The command exited and all its output is in the buffer. */
  done = false;
  endReason: EndReason | undefined;
  readonly tree: ProcessTree;
  private readonly output = new HeadTailBuffer(SESSION_OUTPUT_CAP);
  totalBytes = 0;
  private readonly waiters = new Set<() => void>();
  private trackTimer: NodeJS.Timeout | undefined;
  /** The process the daemon spawned (unshare, or the command in the sweep) has been reaped. */
  private rootExited = false;
  /** The command's status is known: from the init's status pipe, or from the root's exit. */
  private commandExited = false;
  private readonly donePromise: Promise<void>;
  private markDone!: () => void;

  private constructor(
    readonly id: number,
    readonly spec: SessionSpec,
    readonly pid: number,
    private readonly containment: Containment,
    marker: string,
    private readonly pty: IPty | undefined,
    private readonly child: ChildProcess | undefined,
  ) {
    this.donePromise = new Promise((resolve) => (this.markDone = resolve));
    this.tree = new ProcessTree(containment, pid, marker, () => !this.rootExited);
    if (containment.mode === "sweep") {
      this.trackTimer = setInterval(() => this.tree.track(), TRACK_INTERVAL_MS);
      this.trackTimer.unref();
    }
  }

  /** Spawns the command; throws ExecError when it cannot start. */
  static async start(
    id: number,
    spec: SessionSpec,
    containment: Containment,
    marker: string,
  ): Promise<ExecSession> {
    // On pipes the init reports the command's status on fd 3 (node-pty gives the child no fd 3).
    const { file, args, env, statusPipe } = containedSpawn(containment, spec.argv, spec.env, {
      statusPipe: !spec.tty,
    });
    if (spec.tty) {
      const pty = await loadPty();
      let term: IPty;
      try {
        term = pty.spawn(file, args, {
          name: spec.env.TERM ?? "dumb",
          cols: TERMINAL_SIZE.cols,
          rows: TERMINAL_SIZE.rows,
          cwd: spec.cwd,
          env,
          encoding: null,
        });
      } catch (err) {
        throw new ExecError(`could not start a terminal for "${spec.display}": ${(err as Error).message}`);
      }
      const session = new ExecSession(id, spec, term.pid, containment, marker, term, undefined);
      term.onData((data: string | Buffer) =>
        session.onOutput(typeof data === "string" ? Buffer.from(data) : data),
      );
      // What libuv left in the terminal when it took a short read for the end (pty-drain.ts).
      drainOnEnd(term, (chunk) => session.onOutput(chunk));
      term.onExit(({ exitCode, signal }) =>
        session.onRootExit(signal ? null : exitCode, signal ? signalName(signal) : null),
      );
      return session;
    }
    const child = spawn(file, args, {
      cwd: spec.cwd,
      env,
      detached: true,
      stdio: statusPipe ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (err: NodeJS.ErrnoException) => {
        reject(
          new ExecError(
            err.code === "ENOENT"
              ? `command not found: "${file}" (an argv command is not looked up by a shell; check the name, give a path, or pass the command as a string)`
              : err.code === "EACCES"
                ? `permission denied running "${file}": it is not executable`
                : `could not start "${spec.display}": ${err.message}`,
            { exit_code: null },
          ),
        );
      });
    });
    const session = new ExecSession(id, spec, child.pid!, containment, marker, undefined, child);
    child.stdout!.on("data", (chunk: Buffer) => session.onOutput(chunk));
    child.stderr!.on("data", (chunk: Buffer) => session.onOutput(chunk));
    if (statusPipe) {
      initStatus(child.stdio[3] as NodeJS.ReadableStream, (code) => session.onCommandExit(code, null, true));
    }
    child.once("exit", (code, signal) => session.onRootExit(code, signal));
    child.once("close", () => session.finish());
    return session;
  }

  get running(): boolean {
    return !this.done;
  }

  get unreadBytes(): number {
    return this.output.total;
  }

  private onOutput(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    this.output.push(chunk);
    this.wake();
  }

  private onRootExit(code: number | null, signal: string | null): void {
    this.rootExited = true;
    this.onCommandExit(code, signal, false);
  }

  /**
   * The command's status, from the init's report (`fromInit`, ahead of unshare's exit) or from
   * the root's exit; the first one counts.
   */
  private onCommandExit(code: number | null, signal: string | null, fromInit: boolean): void {
    if (this.commandExited) return;
    this.commandExited = true;
    const status = exitStatus(this.containment, code, signal);
    this.exitCode = status.code;
    this.exitSignal = status.signal;
    if (this.trackTimer) clearInterval(this.trackTimer);
    if (this.pty || fromInit) {
      // node-pty reports the exit only once its reader of the terminal has ended, and what
      // libuv left unread was drained then (pty-drain.ts): no output comes after it. The init
      // writes the status after the command exited, so the command's output was in the pipes
      // before it: the poll phase that read the status read that output too. Either way finish
      // runs after what is pending.
      setImmediate(() => this.finish());
    } else {
      // The pipes' close finishes it; this only bounds the wait for a leftover holding them.
      setTimeout(() => this.finish(), DRAIN_AFTER_EXIT_MS).unref();
    }
    // Whatever the command left behind (the kernel already ended it in a PID namespace, or does
    // so as the init exits, unless the status was the command's own). After the pending events:
    // the sweep reads all of /proc and the result should not wait for it.
    const delay = fromInit ? ROOT_EXIT_AFTER_STATUS_MS : 10;
    setTimeout(() => void this.tree.terminate(100), delay).unref();
  }

  private finish(): void {
    if (this.done) return;
    if (!this.commandExited) return; // pipes closed before the exit: wait for the exit
    this.done = true;
    this.endReason ??= "exited";
    if (this.child) {
      for (const stream of this.child.stdio) stream?.destroy();
    }
    this.markDone();
    this.wake();
  }

  private wake(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves once the command is done, `deadline` (ms since epoch) passes, or `signal` aborts. */
  wait(deadline: number, signal: AbortSignal): Promise<void> {
    if (this.done || signal.aborted || Date.now() >= deadline) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
      const onWake = () => {
        if (this.done) finish();
      };
      function finish(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        waiters.delete(onWake);
        resolve();
      }
      const waiters = this.waiters;
      waiters.add(onWake);
      signal.addEventListener("abort", finish, { once: true });
    });
  }

  /** Takes the output not read yet, within the token budget. */
  read(maxTokens: number): BudgetedOutput {
    return budgetOutput(this.output.take(this.done), maxTokens, this.spec.tty);
  }

  /** Writes to the terminal (`\u0003` is Ctrl-C). */
  write(chars: string): void {
    if (!this.pty) {
      throw new ExecError(
        `session ${this.id} has no terminal: its stdin is closed. Start the command with "tty": true to write to it; pass empty "chars" to read its output.`,
        { session_id: this.id },
      );
    }
    if (this.commandExited) {
      throw new ExecError(`session ${this.id} has exited; nothing was written`, { session_id: this.id });
    }
    this.pty.write(chars);
  }

  /** Ends every process of the session (SIGTERM, then SIGKILL after the grace period). */
  async terminate(reason: EndReason, graceMs = KILL_GRACE_MS): Promise<number[]> {
    if (!this.done) this.endReason = reason;
    const left = await this.tree.terminate(graceMs);
    // The exit arrives through the terminal or the pipes; do not wait forever for it.
    await Promise.race([this.donePromise, new Promise((r) => setTimeout(r, 1000))]);
    if (!this.done) {
      this.rootExited = true;
      this.commandExited = true;
      this.finish();
    }
    if (this.trackTimer) clearInterval(this.trackTimer);
    return left;
  }
}
