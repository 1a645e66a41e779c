/** `toold call TOOL [ARGS]`: one tool call, starting the daemon when none answers. */
import { ErrorCodes, RpcError, type ApproveParams, type ToolDClient } from "../../client/index.js";
import { EXIT, fail, printJson, untilInterrupted, UsageError, withClient, type Command } from "../command.js";
import { didYouMean } from "../suggest.js";

/** `{"a":1}`, `a=1 b=text`, or `-` (a JSON object on stdin). */
export async function parseToolArgs(rest: string[]): Promise<Record<string, unknown>> {
  if (rest.length === 0) return {};
  const parseObject = (text: string, where: string): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new UsageError(`${where} is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new UsageError(`${where} must be a JSON object, e.g. '{"path":"README.md"}'`);
    }
    return value as Record<string, unknown>;
  };
  if (rest.length === 1 && rest[0] === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return parseObject(Buffer.concat(chunks).toString("utf8"), "stdin");
  }
  if (rest.length === 1 && rest[0]?.trimStart().startsWith("{")) return parseObject(rest[0], "ARGS");
  const args: Record<string, unknown> = {};
  for (const pair of rest) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`argument "${pair}" is not key=value; or pass one JSON object`);
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    try {
      args[key] = JSON.parse(raw);
    } catch {
      args[key] = raw;
    }
  }
  return args;
}

async function askOnTerminal(request: ApproveParams): Promise<boolean> {
  const { createInterface } = await import("node:readline");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const { renderApproval } = await import("../../support/display.js");
  return new Promise((resolve) => {
    rl.question(`${renderApproval(request)}\n[y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/** The daemon's "unknown tool" lists every tool; say which one was probably meant instead. */
async function unknownTool(client: ToolDClient, tool: string): Promise<string> {
  const tools = await client.listTools();
  const names = tools.flatMap((t) => [t.name, ...(t.aliases ?? [])]);
  const near = didYouMean(tool, names);
  return `unknown tool "${tool}"${near || `; the tools are ${tools.map((t) => t.name).join(", ")}`}; see \`toold tools\``;
}

export const call: Command = {
  name: "call",
  usage: "call TOOL [ARGS] [--json] [--yes]",
  summary: "one tool call; starts the daemon when none answers",
  details: [
    "ARGS is one JSON object, key=value pairs (each value parsed as JSON when it parses, else a",
    "string), or - to read the JSON object from stdin. Prints the tool's text; errors go to stderr.",
    "Exit 0 ok, 1 tool error, 2 usage or arguments error, 3 daemon unreachable.",
    "Tools that need approval ask y/N on a terminal; --yes approves, otherwise they are refused.",
  ].join("\n"),
  options: {
    json: { type: "boolean", description: "print the whole result as JSON" },
    yes: { type: "boolean", short: "y", description: "approve tool calls that need approval" },
  },
  examples: [
    "toold call read_file path=README.md",
    `toold call grep_file '{"pattern":"TODO","max_results":5}'`,
    `echo '{"path":"a.txt"}' | toold call read_file -`,
  ],
  async run({ values, args: positionals, globals }) {
    const [tool, ...rest] = positionals;
    if (!tool) throw new UsageError("call needs a tool name: toold call read_file path=README.md");
    const args = await parseToolArgs(rest);
    const interactive = process.stdin.isTTY === true && rest[0] !== "-";
    const yes = values.yes === true;
    const onApprove = (req: ApproveParams) => (yes ? true : interactive ? askOnTerminal(req) : false);
    let cancelled = false;
    try {
      const result = await untilInterrupted((signal) => {
        signal.addEventListener("abort", () => (cancelled = true));
        return withClient(
          globals,
          true,
          async (c) => {
            try {
              return await c.callTool(tool, args, { signal });
            } catch (err) {
              if (err instanceof RpcError && err.code === ErrorCodes.MethodNotFound)
                throw new RpcError(err.code, await unknownTool(c, tool));
              throw err;
            }
          },
          { onApprove },
        );
      });
      if (values.json === true) printJson(result);
      else {
        const text = result.content.map((c) => c.text).join("");
        if (result.isError) process.stderr.write(`${text.replace(/\n+$/, "")}\n`);
        else
          process.stdout.write(
            text.length > 0 && !text.endsWith("\n") && process.stdout.isTTY ? `${text}\n` : text,
          );
      }
      return result.isError ? EXIT.toolError : EXIT.ok;
    } catch (err) {
      // Ctrl-C: the client already told the daemon to cancel the call.
      if (cancelled) return fail(`${tool} cancelled`, EXIT.toolError);
      throw err;
    }
  },
};
