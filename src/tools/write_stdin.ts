/**
 * write_stdin: continues an exec_command session from any client. Writes `chars` to its terminal
 * (`\u0003` is Ctrl-C, `\u0004` end of input), or with empty `chars` just polls, then returns what
 * the command printed since the last read, Codex's way.
 */
import { Type } from "@sinclair/typebox";
import { defineTool } from "./shared/types.js";
import { asToolError, readSession, sessionsOf } from "./shared/exec.js";

export const DEFAULT_WRITE_YIELD_TIME_MS = 250;
const MAX_YIELD_TIME_MS = 300_000;
const DEFAULT_MAX_OUTPUT_TOKENS = 10_000;
const MAX_OUTPUT_TOKENS = 1_000_000;

const inputSchema = Type.Object(
  {
    session_id: Type.Integer({
      minimum: 0,
      description: "The session_id an exec_command result gave (`toold sessions` lists them).",
    }),
    chars: Type.Optional(
      Type.String({
        default: "",
        description:
          'Characters to type into the session\'s terminal, e.g. "ls\\n"; "\\u0003" is Ctrl-C. Empty (the default) just reads new output.',
      }),
    ),
    yield_time_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_YIELD_TIME_MS,
        default: DEFAULT_WRITE_YIELD_TIME_MS,
        description: `How long to wait for output before returning (less if the command exits). Default ${DEFAULT_WRITE_YIELD_TIME_MS}.`,
      }),
    ),
    max_output_tokens: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_OUTPUT_TOKENS,
        default: DEFAULT_MAX_OUTPUT_TOKENS,
        description: `Most output returned, in tokens of about 4 bytes; beyond it the head and tail are kept. Default ${DEFAULT_MAX_OUTPUT_TOKENS}.`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const writeStdinTool = defineTool({
  name: "write_stdin",
  description:
    "Write characters to a running exec_command session (it must have been started with tty to take input; \\u0003 is " +
    "Ctrl-C) and return the output since the last read; with empty chars, just wait up to yield_time_ms (default 250) " +
    "and return new output. Works from any client of the daemon. When the command has exited, the result gives its " +
    "exit code and the session ends.",
  inputSchema,
  annotations: {
    title: "Write to a session",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: true,
  },
  async handler(args, ctx) {
    const started = performance.now();
    const sessions = sessionsOf(ctx);
    let session;
    try {
      session = sessions.require(args.session_id);
      const chars = args.chars ?? "";
      if (chars !== "") {
        if (!session.running) {
          // Nothing is lost: the result below still carries the output and the exit code.
          const result = await readSession(ctx, session, {
            yieldMs: 0,
            maxTokens: args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
            started,
          });
          const text = result.content[0]!.text;
          return {
            ...result,
            isError: true,
            content: [
              {
                type: "text",
                text: `session ${session.id} has already exited; nothing was written.\n${text}`,
              },
            ],
          };
        }
        session.write(chars);
      }
    } catch (err) {
      throw asToolError(err);
    }
    return readSession(ctx, session, {
      yieldMs: args.yield_time_ms ?? DEFAULT_WRITE_YIELD_TIME_MS,
      maxTokens: args.max_output_tokens ?? DEFAULT_MAX_OUTPUT_TOKENS,
      started,
    });
  },
});
