/**
 * run_terminal_cmd: runs a command in the workspace and returns its output.
 *
 * The child leads its own process group (`detached`), so a timeout, a cancellation, or the end of
 * the command kills the whole group: no grandchild outlives the call. Output is capped per stream,
 * keeping the head and the tail; with a progress token, output is streamed as it comes.
 */
import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import { Type } from "@sinclair/typebox";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";

export const DEFAULT_TIMEOUT_SECS = 120;
export const MAX_TIMEOUT_SECS = 3600;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_OUTPUT_BYTES_LIMIT = 64 * 1024 * 1024;
/** Time between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** After the command exits, how long processes it left in the background may keep its pipes open. */
const BACKGROUND_GRACE_MS = 100;
const PROGRESS_INTERVAL_MS = 50;
/** Most bytes streamed per stream per progress interval; the rest is only in the final result. */
const PROGRESS_MAX_CHUNK = 64 * 1024;

export const inputSchema = Type.Object(
  {
    command: Type.Union(
      [
        Type.String({ minLength: 1, description: "A command line, run with /bin/sh -c." }),
        Type.Array(Type.String(), {
          minItems: 1,
          description: "argv: the program and its arguments, run directly without a shell.",
        }),
      ],
      {
        description:
          'The command: a string run by /bin/sh -c (pipes, globs, && work), or an argv array run without a shell, e.g. ["git", "status"].',
      },
    ),
    cwd: Type.Optional(
      Type.String({
        description:
          'Working directory, relative to the workspace root; must be a folder inside it. Default ".".',
      }),
    ),
    timeout_secs: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TIMEOUT_SECS,
        description: `Kill the command (and everything it started) after this many seconds. Default ${DEFAULT_TIMEOUT_SECS}.`,
      }),
    ),
    max_output_bytes: Type.Optional(
      Type.Integer({
        minimum: 256,
        maximum: MAX_OUTPUT_BYTES_LIMIT,
        description: `Most bytes kept per stream (stdout, stderr); beyond it the head and tail are kept. Default ${DEFAULT_MAX_OUTPUT_BYTES}.`,
      }),
    ),
    env: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "Environment variables set for the command, on top of the daemon's environment.",
      }),
    ),
  },
  { additionalProperties: false },
);

/** Keeps the first and last `cap / 2` bytes of a stream, and counts what falls between. */
export class HeadTailBuffer {
  private readonly headCap: number;
  private readonly tailCap: number;
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  total = 0;

  constructor(readonly cap: number) {
    this.headCap = Math.ceil(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headLen < this.headCap) {
      const take = Math.min(this.headCap - this.headLen, chunk.length);
      this.head.push(chunk.subarray(0, take));
      this.headLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0 || this.tailCap === 0) return;
    this.tail.push(chunk);
    this.tailLen += chunk.length;
    while (this.tailLen - this.tail[0]!.length >= this.tailCap) this.tailLen -= this.tail.shift()!.length;
  }

  get truncated(): boolean {
    return this.total > this.cap;
  }

  toString(): string {
    const head = Buffer.concat(this.head);
    let tail = Buffer.concat(this.tail);
    if (!this.truncated) return Buffer.concat([head, tail]).toString("utf8");
    tail = tail.subarray(tail.length - this.tailCap);
    // Cut on UTF-8 character boundaries so neither side ends in a broken character.
    let headEnd = head.length;
    let back = 0;
    while (back < 3 && headEnd - back - 1 >= 0 && (head[headEnd - back - 1]! & 0xc0) === 0x80) back++;
    if (headEnd - back - 1 >= 0) {
      const lead = head[headEnd - back - 1]!;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (need > back + 1) headEnd -= back + 1;
    }
    let tailStart = 0;
    while (tailStart < 3 && tailStart < tail.length && (tail[tailStart]! & 0xc0) === 0x80) tailStart++;
    const cut = this.total - headEnd - (tail.length - tailStart);
    return `${head.subarray(0, headEnd).toString("utf8")}\n[... ${cut} bytes cut ...]\n${tail.subarray(tailStart).toString("utf8")}`;
  }
}

function isAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    /* ESRCH: the group is gone */
  }
}

function describeCommand(command: string | string[]): string {
  return typeof command === "string"
    ? command
    : command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

export const runTerminalCmdTool = defineTool({
  name: "run_terminal_cmd",
  aliases: ["run_pty_cmd", "exec_command"],
  description:
    "Run a command in the workspace (string: via /bin/sh -c; array: argv without a shell) and return stdout, stderr and " +
    "the exit code. stdin is empty. The command and everything it starts are killed on timeout (default " +
    `${DEFAULT_TIMEOUT_SECS} s) or cancellation, and processes left in the background are stopped when it exits. ` +
    "A non-zero exit code is reported as an error.",
  inputSchema,
  annotations: {
    title: "Run command",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  argumentAliases: { cmd: "command" },
  commandOf: (args) => args.command,
  async handler(args, ctx) {
    const command = args.command;
    if (Array.isArray(command) && command[0] === "") {
      throw new ToolFailure('command[0] is empty: give the program to run, e.g. ["ls", "-la"]');
    }
    const cwd = await ctx.workspace.resolve(args.cwd ?? ".");
    const cwdStat = await stat(cwd.abs);
    if (!cwdStat.isDirectory()) {
      throw new ToolFailure(`cwd "${args.cwd}" is a file, not a folder: give a folder inside the workspace`, {
        cwd: cwd.rel,
      });
    }
    const timeoutMs = (args.timeout_secs ?? DEFAULT_TIMEOUT_SECS) * 1000;
    const cap = args.max_output_bytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    ctx.signal.throwIfAborted();

    const [file, argv] =
      typeof command === "string" ? ["/bin/sh", ["-c", command]] : [command[0]!, command.slice(1)];
    const started = performance.now();
    const child = spawn(file, argv, {
      cwd: cwd.abs,
      env: { ...process.env, ...(args.env ?? {}) },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });

    const out = { stdout: new HeadTailBuffer(cap), stderr: new HeadTailBuffer(cap) };
    // Progress: coalesced per stream, flushed at most every PROGRESS_INTERVAL_MS.
    const progress = ctx.progress;
    const pending = { stdout: "", stderr: "" };
    const dropped = { stdout: 0, stderr: 0 };
    const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = (): void => {
      flushTimer = undefined;
      if (!progress) return;
      for (const stream of ["stdout", "stderr"] as const) {
        let chunk = pending[stream];
        if (dropped[stream] > 0) chunk += `\n[... ${dropped[stream]} bytes not streamed ...]\n`;
        pending[stream] = "";
        dropped[stream] = 0;
        if (chunk !== "") {
          try {
            progress({ stream, chunk });
          } catch (err) {
            ctx.log.debug({ err }, "progress callback threw");
          }
        }
      }
    };
    const onData = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      out[stream].push(chunk);
      if (!progress) return;
      if (Buffer.byteLength(pending[stream]) >= PROGRESS_MAX_CHUNK) {
        dropped[stream] += chunk.length;
      } else {
        pending[stream] += decoders[stream].write(chunk);
      }
      flushTimer ??= setTimeout(flush, PROGRESS_INTERVAL_MS);
    };
    child.stdout.on("data", onData("stdout"));
    child.stderr.on("data", onData("stderr"));

    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const pgid = child.pid;
    const terminate = (): void => {
      if (pgid === undefined || killTimer) return;
      killGroup(pgid, "SIGTERM");
      killTimer = setTimeout(() => {
        if (isAlive(pgid)) killGroup(pgid, "SIGKILL");
        // Whatever still holds the pipes open after SIGKILL cannot be ours any more.
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
        }, 1000).unref();
      }, KILL_GRACE_MS);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, timeoutMs);
    const onAbort = (): void => {
      cancelled = true;
      terminate();
    };
    ctx.signal.addEventListener("abort", onAbort, { once: true });

    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let backgroundTimer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let exited = false;
        child.once("error", (err: NodeJS.ErrnoException) => {
          if (exited) return;
          reject(err);
        });
        child.once("exit", (code, signal) => {
          exited = true;
          exitCode = code;
          exitSignal = signal;
          // The command is done; anything it left running in its group still holds our pipes.
          backgroundTimer = setTimeout(() => {
            if (pgid !== undefined && isAlive(pgid)) terminate();
          }, BACKGROUND_GRACE_MS);
        });
        child.once("close", () => resolve());
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOENT" || e.code === "EACCES") {
        throw new ToolFailure(
          e.code === "ENOENT"
            ? `command not found: "${file}" (argv commands are not looked up by the shell; check the name or give a path, or pass the command as a string)`
            : `permission denied running "${file}": it is not executable`,
          { command, exit_code: null },
        );
      }
      throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
      clearTimeout(backgroundTimer);
      // Processes of the group that outlive the command (even with their output redirected) are
      // stopped: SIGTERM now, SIGKILL after the grace period if they are still there.
      if (pgid !== undefined && isAlive(pgid)) terminate();
      killTimer?.unref();
      if (flushTimer) clearTimeout(flushTimer);
      for (const stream of ["stdout", "stderr"] as const) pending[stream] += decoders[stream].end();
      flush();
    }

    const durationMs = Math.round(performance.now() - started);
    const stdout = out.stdout.toString();
    const stderr = out.stderr.toString();
    const truncated = out.stdout.truncated || out.stderr.truncated;
    const code = exitCode as number | null;
    const sig = exitSignal as NodeJS.Signals | null;
    const structured: Record<string, unknown> = {
      command,
      cwd: cwd.rel,
      exit_code: code,
      ...(sig ? { signal: sig } : {}),
      stdout,
      stderr,
      timed_out: timedOut,
      ...(cancelled ? { cancelled: true } : {}),
      truncated,
      duration_ms: durationMs,
    };
    const parts: string[] = [];
    if (stdout !== "") parts.push(stdout.endsWith("\n") ? stdout.slice(0, -1) : stdout);
    if (stderr !== "") parts.push(`stderr:\n${stderr.endsWith("\n") ? stderr.slice(0, -1) : stderr}`);
    let status: string;
    if (timedOut) status = `timed out after ${timeoutMs / 1000} s: killed (${sig ?? `exit code ${code}`})`;
    else if (cancelled) status = `cancelled: killed (${sig ?? `exit code ${code}`})`;
    else if (sig) status = `killed by signal ${sig}`;
    else status = `exit code ${code}`;
    if (truncated) status += ` (output truncated to ${cap} bytes per stream)`;
    parts.push(status);
    const text = parts.join("\n");
    if (timedOut || cancelled || sig || code !== 0) {
      throw new ToolFailure(`${describeCommand(command)} failed:\n${text}`, structured);
    }
    return textResult(text, structured);
  },
});
