/**
 * exec_command: Codex's and VT Code's "unified exec". Runs a command and waits up to
 * `yield_time_ms`: a command that exited returns its output and exit code; one still running
 * returns the output so far and a `session_id`, and keeps running, owned by the daemon, for
 * write_stdin from any client. Every process it starts is contained (src/exec/containment.ts).
 */
import { Type } from "@sinclair/typebox";
import { existsSync } from "node:fs";
import path from "node:path";
import { defineTool, ToolFailure } from "./shared/types.js";
import {
  asToolError,
  checkProgram,
  commandEnv,
  describeCommand,
  readSession,
  resolveWorkdir,
  sessionsOf,
} from "./shared/exec.js";

export const DEFAULT_YIELD_TIME_MS = 10_000;
export const MAX_YIELD_TIME_MS = 300_000;
export const DEFAULT_MAX_OUTPUT_TOKENS = 10_000;
export const MAX_OUTPUT_TOKENS = 1_000_000;
const SHELLS = ["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "fish"];

const inputSchema = Type.Object(
  {
    cmd: Type.Union(
      [
        Type.String({
          minLength: 1,
          description: "A command line, run by `shell` (-lc, or -c without login).",
        }),
        Type.Array(Type.String(), {
          minItems: 1,
          description: "argv: the program and its arguments, run directly without a shell.",
        }),
      ],
      {
        description:
          'The command: a string run by the shell (pipes, globs, && work), or an argv array run without a shell, e.g. ["git", "status"].',
      },
    ),
    workdir: Type.Optional(
      Type.String({
        description: 'Working folder, relative to the workspace root (or absolute inside it). Default ".".',
      }),
    ),
    shell: Type.Optional(
      Type.String({
        pattern: `^(/([^/\\u0000]+/)*)?(${SHELLS.join("|")})$`,
        description: `Shell for a string cmd: ${SHELLS.join(", ")} (a name or an absolute path). Default: $SHELL, else bash, else sh.`,
      }),
    ),
    login: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Run the shell as a login shell (-l) that reads the user's profile first (slower; the daemon already has the environment of the shell that started it). Default false.",
      }),
    ),
    tty: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "Run on a pseudo-terminal: for REPLs, prompts and programs that need a terminal; write_stdin can then type into it (\\u0003 is Ctrl-C). Without it stdin is closed and stdout and stderr are read together. Default false.",
      }),
    ),
    yield_time_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_YIELD_TIME_MS,
        default: DEFAULT_YIELD_TIME_MS,
        description: `How long to wait for the command before returning; a command still running then keeps running as a session. Default ${DEFAULT_YIELD_TIME_MS}.`,
      }),
    ),
    max_output_tokens: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_OUTPUT_TOKENS,
        default: DEFAULT_MAX_OUTPUT_TOKENS,
        description: `Most output returned, in tokens of about 4 bytes; beyond it the head and tail are kept with a marker between. Default ${DEFAULT_MAX_OUTPUT_TOKENS}.`,
      }),
    ),
    env: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "Environment variables set for the command, on top of the daemon's environment.",
      }),
    ),
    justification: Type.Optional(
      Type.String({
        description:
          "Codex: why the command needs more than its sandbox. Accepted, and shown with the arguments when approval is asked; toold has no sandbox to escalate from.",
      }),
    ),
    sandbox_permissions: Type.Optional(
      Type.String({
        description: "Codex: accepted and ignored (toold's policy decides, see [tools.policies]).",
      }),
    ),
    prefix_rule: Type.Optional(
      Type.Array(Type.String(), {
        description: "Codex: accepted and ignored (toold's [commands] rules decide what may run).",
      }),
    ),
  },
  { additionalProperties: false },
);

function defaultShell(): string {
  const fromEnv = process.env.SHELL;
  if (fromEnv && SHELLS.includes(path.basename(fromEnv)) && existsSync(fromEnv)) return fromEnv;
  return existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";
}

export const execCommandTool = defineTool({
  name: "exec_command",
  description:
    "Run a command in the workspace and wait up to yield_time_ms (default 10000) for it. If it exits, the result holds " +
    "its output and exit code; if it is still running, the output so far and a session_id: the command keeps running " +
    "in the daemon (it survives this client), and write_stdin reads more of its output or, with tty, types into it. " +
    "Output beyond max_output_tokens keeps its head and tail. Everything the command starts ends with its session.",
  inputSchema,
  annotations: {
    title: "Run command (session)",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  argumentAliases: { command: "cmd", cwd: "workdir", working_dir: "workdir" },
  commandOf: (args) => args.cmd,
  async handler(args, ctx) {
    const started = performance.now();
    const sessions = sessionsOf(ctx);
    const cwd = await resolveWorkdir(ctx, args.workdir, "workdir");
    const env = commandEnv(args.env, true);
    let argv: string[];
    if (typeof args.cmd === "string") {
      const shell = args.shell ?? defaultShell();
      argv = [shell, (args.login ?? false) ? "-lc" : "-c", args.cmd];
    } else {
      if (args.shell !== undefined) {
        throw new ToolFailure(
          '"shell" applies to a string cmd; an argv cmd runs without a shell. Drop one of them.',
        );
      }
      checkProgram(args.cmd[0]!, cwd.abs, env);
      argv = [...args.cmd];
    }
    ctx.signal.throwIfAborted();
    let session;
    try {
      session = await sessions.start({
        argv,
        display: describeCommand(args.cmd),
        cwd: cwd.abs,
        cwdRel: cwd.rel,
        env,
        tty: args.tty ?? false,
      });
    } catch (err) {
      throw asToolError(err);
    }
    return readSession(ctx, session, {
      yieldMs: args.yield_time_ms ?? DEFAULT_YIELD_TIME_MS,
      maxTokens: args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      started,
    });
  },
});
