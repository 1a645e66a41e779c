/**
 * What run_terminal_cmd, exec_command and write_stdin share: the working folder check, the argv
 * program check, the environment a command gets, and the Codex-style result of a session read.
 */
import { accessSync, constants, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type { SessionManager } from "../../exec/manager.js";
import { ExecError, type ExecSession } from "../../exec/session.js";
import { formatWallTime } from "../../exec/truncate.js";
import { textResult, errorResult, ToolFailure, type ToolContext, type ToolResult } from "./types.js";

/** A command as one line for messages and listings: argv words quoted only where needed. */
export function describeCommand(command: string | readonly string[]): string {
  return typeof command === "string"
    ? command
    : command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
}

/** The working folder: inside the workspace and a folder, or a ToolFailure saying what to give. */
export async function resolveWorkdir(
  ctx: ToolContext,
  workdir: string | undefined,
  argName: string,
): Promise<{ abs: string; rel: string }> {
  const cwd = await ctx.workspace.resolve(workdir ?? ".");
  const st = await stat(cwd.abs);
  if (!st.isDirectory()) {
    throw new ToolFailure(
      `${argName} "${workdir}" is a file, not a folder: give a folder inside the workspace`,
      {
        [argName]: cwd.rel,
      },
    );
  }
  return { abs: cwd.abs, rel: cwd.rel };
}

/**
 * An argv command's program must exist and be executable: checked here, because under the
 * containment's init a missing program would only show as exit code 127.
 */
export function checkProgram(
  program: string,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): void {
  if (program === "")
    throw new ToolFailure('the program (argv[0]) is empty: give the program to run, e.g. ["ls", "-la"]');
  if (program.includes("=")) {
    throw new ToolFailure(
      `the program "${program}" has "=" in its name, which reads as an environment assignment: run it through a shell string, or rename it`,
    );
  }
  const executable = (file: string): boolean => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (program.includes("/")) {
    const file = path.resolve(cwd, program);
    try {
      statSync(file);
    } catch {
      throw new ToolFailure(`command not found: "${program}" does not exist`, { exit_code: null });
    }
    if (!executable(file)) {
      throw new ToolFailure(`permission denied running "${program}": it is not an executable file`, {
        exit_code: null,
      });
    }
    return;
  }
  for (const dir of (env.PATH ?? "").split(":")) {
    if (dir !== "" && executable(path.join(dir, program))) return;
  }
  throw new ToolFailure(
    `command not found: "${program}" is not on PATH (an argv command is not looked up by a shell; check the name, give a path, or pass the command as a string)`,
    { exit_code: null },
  );
}

/** What Codex gives an exec session on top of the daemon's environment: no colours, no pagers. */
const SESSION_ENV: Readonly<Record<string, string>> = {
  NO_COLOR: "1",
  TERM: "dumb",
  COLORTERM: "",
  PAGER: "cat",
  GIT_PAGER: "cat",
  GH_PAGER: "cat",
};

export function commandEnv(
  extra: Readonly<Record<string, string>> | undefined,
  session: boolean,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (session) {
    Object.assign(env, SESSION_ENV);
    env.LANG ??= "C.UTF-8";
  }
  return Object.assign(env, extra ?? {});
}

/** The sessions of this daemon, or a ToolFailure where the context has none. */
export function sessionsOf(ctx: ToolContext): SessionManager {
  if (!ctx.sessions) throw new ToolFailure("exec sessions are not available in this context");
  return ctx.sessions;
}

/** Converts the exec layer's failures into tool failures. */
export function asToolError(err: unknown): unknown {
  return err instanceof ExecError ? new ToolFailure(err.message, err.structured) : err;
}

/**
 * Waits on a session up to `yieldMs` (less if the command exits, or the caller goes away), then
 * returns what it printed since the last read, Codex's way. A caller that went away leaves the
 * output unread and the session running.
 */
export async function readSession(
  ctx: ToolContext,
  session: ExecSession,
  opts: { yieldMs: number; maxTokens: number; started: number },
): Promise<ToolResult> {
  const sessions = sessionsOf(ctx);
  sessions.enter(session);
  try {
    await session.wait(Date.now() + opts.yieldMs - (performance.now() - opts.started), ctx.signal);
  } finally {
    sessions.exit(session);
  }
  if (ctx.signal.aborted) {
    throw new ToolFailure(
      `the call was cancelled; session ${session.id} keeps running and its output stays unread (write_stdin {"session_id": ${session.id}} reads it)`,
      { session_id: session.id },
    );
  }
  const out = session.read(opts.maxTokens);
  const running = !session.done;
  if (!running) sessions.release(session);
  const wallMs = performance.now() - opts.started;
  let status: string;
  const exitCode = session.exitCode;
  if (running) status = `Process running with session ID ${session.id}`;
  else if (exitCode !== null) status = `Process exited with code ${exitCode}`;
  else status = `Process exited with ${session.exitSignal ?? "an unknown status"}`;
  if (!running && session.endReason && session.endReason !== "exited") {
    status += ` (ended: ${session.endReason === "idle" ? "idle timeout" : session.endReason})`;
  }
  const text = [
    `Chunk ID: ${randomBytes(3).toString("hex")}`,
    formatWallTime(wallMs),
    status,
    `Original token count: ${out.originalTokenCount}`,
    "Output:",
    out.text,
  ].join("\n");
  const structured: Record<string, unknown> = {
    ...(running ? { session_id: session.id } : {}),
    exit_code: running ? null : exitCode,
    output: out.text,
    wall_time_ms: Math.round(wallMs),
    original_token_count: out.originalTokenCount,
    truncated: out.truncated,
  };
  const failed = !running && exitCode !== 0;
  return failed ? errorResult(text, structured) : textResult(text, structured);
}
