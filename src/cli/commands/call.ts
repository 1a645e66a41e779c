/** `toold call TOOL [ARGS]`: one tool call, starting the daemon when none answers. */
import { UsageError, withClient, type Command } from "../command.js";
import { approver, parseToolArgs, runToolCall } from "../quick-call.js";

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
    const onApprove = approver(values.yes === true, () => interactive);
    return runToolCall(tool, args, values.json === true, (use) =>
      withClient(globals, true, use, { onApprove }),
    );
  },
};
