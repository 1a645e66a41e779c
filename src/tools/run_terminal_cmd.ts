/**
 * run_terminal_cmd: runs a command in the workspace and returns its output.
 *
 * The command is contained (src/exec/containment.ts): a timeout, a cancellation or the end of the
 * command ends every process it started, even one that called `setsid` or double-forked. Output
 * is capped per stream, keeping the head and the tail; with a progress token, output is streamed
 * as it comes.
 */
import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";
import { Type } from "@sinclair/typebox";
import {
  containedSpawn,
  containment,
  exitStatus,
  initStatus,
  MARKER_NAME,
  newMarker,
  ProcessTree,
  ROOT_EXIT_AFTER_STATUS_MS,
} from "../exec/containment.js";
import { workspaceId } from "../workspace/locate.js";
import { HeadTailBuffer } from "../exec/head-tail-buffer.js";
import { BYTES_PER_TOKEN } from "../exec/truncate.js";
import { defineTool, textResult, ToolFailure } from "./shared/types.js";
import { checkProgram, commandEnv, describeCommand, resolveWorkdir } from "./shared/exec.js";

export const DEFAULT_TIMEOUT_SECS = 120;
export const MAX_TIMEOUT_SECS = 3600;
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
export const MAX_OUTPUT_BYTES_LIMIT = 64 * 1024 * 1024;
/** Time between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2000;
/** After the command exits, how long processes it left in the background may keep its pipes open. */
const BACKGROUND_GRACE_MS = 100;
const PROGRESS_INTERVAL_MS = 50;
const TRACK_INTERVAL_MS = 250;
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
    timeout_ms: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_TIMEOUT_SECS * 1000,
        description: "The same timeout in milliseconds (Codex's name); give this or timeout_secs.",
      }),
    ),
    max_output_bytes: Type.Optional(
      Type.Integer({
        minimum: 256,
        maximum: MAX_OUTPUT_BYTES_LIMIT,
        description: `Most bytes kept per stream (stdout, stderr); beyond it the head and tail are kept. Default ${DEFAULT_MAX_OUTPUT_BYTES}.`,
      }),
    ),
    max_output_tokens: Type.Optional(
      Type.Integer({
        minimum: 64,
        maximum: MAX_OUTPUT_BYTES_LIMIT / BYTES_PER_TOKEN,
        description:
          "The same cap in tokens of about 4 bytes (Codex's name): max_output_bytes = 4 × this. Give this or max_output_bytes.",
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

export const runTerminalCmdTool = defineTool({
  name: "run_terminal_cmd",
  aliases: ["run_pty_cmd"],
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
  argumentAliases: { cmd: "command", workdir: "cwd" },
  commandOf: (args) => args.command,
  async handler(args, ctx) {
    const command = args.command;
    if (args.timeout_ms !== undefined && args.timeout_secs !== undefined) {
      throw new ToolFailure("timeout_ms and timeout_secs set the same timeout: give one");
    }
    if (args.max_output_tokens !== undefined && args.max_output_bytes !== undefined) {
      throw new ToolFailure("max_output_tokens and max_output_bytes set the same cap: give one");
    }
    const cwd = await resolveWorkdir(ctx, args.cwd, "cwd");
    const marker = newMarker(workspaceId(ctx.workspace.root), "run");
    const env = { ...commandEnv(args.env, false), [MARKER_NAME]: marker };
    if (Array.isArray(command)) checkProgram(command[0]!, cwd.abs, env);
    const timeoutMs = args.timeout_ms ?? (args.timeout_secs ?? DEFAULT_TIMEOUT_SECS) * 1000;
    const cap =
      args.max_output_bytes ??
      (args.max_output_tokens !== undefined
        ? args.max_output_tokens * BYTES_PER_TOKEN
        : DEFAULT_MAX_OUTPUT_BYTES);
    const contained = await containment();
    ctx.signal.throwIfAborted();

    const spawned = containedSpawn(
      contained,
      typeof command === "string" ? ["/bin/sh", "-c", command] : command,
      env,
      { statusPipe: true },
    );
    const file = spawned.file;
    const started = performance.now();
    const child = spawn(file, spawned.args, {
      cwd: cwd.abs,
      env: spawned.env,
      detached: true,
      stdio: spawned.statusPipe ? ["ignore", "pipe", "pipe", "pipe"] : ["ignore", "pipe", "pipe"],
    });
    const stdoutPipe = child.stdout!;
    const stderrPipe = child.stderr!;

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
    stdoutPipe.on("data", onData("stdout"));
    stderrPipe.on("data", onData("stderr"));

    let timedOut = false;
    let cancelled = false;
    let rootExited = false;
    const tree =
      child.pid === undefined ? undefined : new ProcessTree(contained, child.pid, marker, () => !rootExited);
    let terminating: Promise<unknown> | undefined;
    const terminate = (): void => {
      if (!tree || terminating) return;
      terminating = tree.terminate(KILL_GRACE_MS).then(() => {
        // Whatever still holds the pipes open after SIGKILL cannot be ours any more.
        setTimeout(() => {
          stdoutPipe.destroy();
          stderrPipe.destroy();
        }, 1000).unref();
      });
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
    // The sweep only knows what it has seen: look at the tree while the command runs.
    const trackTimer =
      contained.mode === "sweep" ? setInterval(() => tree?.track(), TRACK_INTERVAL_MS) : undefined;

    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let backgroundTimer: NodeJS.Timeout | undefined;
    // The init reported the status (src/exec/containment.ts): the result does not wait for unshare.
    let statusFromInit = false;
    try {
      await new Promise<void>((resolve, reject) => {
        let exited = false;
        child.once("error", (err: NodeJS.ErrnoException) => {
          if (exited) return;
          reject(err);
        });
        const onCommandExit = (code: number | null, signal: string | null, fromInit: boolean): void => {
          if (exited) return;
          exited = true;
          ({ code: exitCode, signal: exitSignal } = exitStatus(contained, code, signal));
          if (fromInit) {
            // The output came before the status: the poll phase that read the status read it too.
            statusFromInit = true;
            setImmediate(resolve);
          } else {
            // The command is done; anything it left running still holds our pipes.
            backgroundTimer = setTimeout(terminate, BACKGROUND_GRACE_MS);
          }
        };
        if (spawned.statusPipe) {
          initStatus(child.stdio[3] as NodeJS.ReadableStream, (code) => onCommandExit(code, null, true));
        }
        child.once("exit", (code, signal) => {
          rootExited = true;
          onCommandExit(code, signal, false);
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
      clearInterval(trackTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      clearTimeout(backgroundTimer);
      // Processes that outlive the command (even with their output redirected) are stopped:
      // SIGTERM now, SIGKILL after the grace period if they are still there. Right after the
      // result, not before it: the sweep reads all of /proc. After a status from the init, unshare
      // ends by itself in a moment; the tree is ended only if it has not (a forged status).
      if (statusFromInit && !rootExited) {
        setTimeout(terminate, ROOT_EXIT_AFTER_STATUS_MS).unref();
        for (const stream of child.stdio) stream?.destroy();
      } else {
        setImmediate(terminate);
      }
      if (flushTimer) clearTimeout(flushTimer);
      for (const stream of ["stdout", "stderr"] as const) pending[stream] += decoders[stream].end();
      flush();
    }

    const durationMs = Math.round(performance.now() - started);
    const stdout = out.stdout.toString();
    const stderr = out.stderr.toString();
    const truncated = out.stdout.truncated || out.stderr.truncated;
    const code = exitCode as number | null;
    const sig = exitSignal as string | null;
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
